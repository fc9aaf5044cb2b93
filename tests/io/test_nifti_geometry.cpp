// NIfTI geometry as the standard says, against files written byte by byte
// (tests/io/raw_nifti.hpp): which of qform and sform is read, that both come
// back unchanged on the grid they were read with, codes 0, vox_offset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "io/nifti.hpp"
#include "io/raw_nifti.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
std::string dir() {
  const auto d = fs::temp_directory_path() / ("harmonize_geom_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}

const std::vector<short> kDims{6, 5, 4};

std::vector<float> ramp() {
  std::vector<float> v(6 * 5 * 4);
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = float(n) * 0.5f;
  return v;
}

// A qform: a rotation given by its quaternion, voxel sizes, qfac -1, an offset.
rawnifti::Header with_qform(rawnifti::Header h) {
  h.qform_code = 1;
  h.quatern = {0.1f, -0.2f, 0.3f};
  h.qoffset = {10.0f, -20.0f, 30.0f};
  h.pixdim = {-1.0f, 1.2f, 0.9f, 2.0f, 1, 1, 1, 1};
  return h;
}

// An sform unlike the qform: rotated 0.3 rad about z, other voxel sizes, another offset.
rawnifti::Header with_sform(rawnifti::Header h, short code) {
  h.sform_code = code;
  const float c = std::cos(0.3f), s = std::sin(0.3f);
  h.srow = {1.1f * c, -1.3f * s, 0, -5.0f, 1.1f * s, 1.3f * c, 0, 7.0f, 0, 0, 2.5f, 11.0f};
  return h;
}

rawnifti::Header base() {
  rawnifti::Header h;
  h.dims = kDims;
  h.sform_code = 0;
  h.srow = {};
  return h;
}

// The grid read must map voxels to the world as the expected RAS matrix does.
void expect_grid(const Geometry& g, const std::array<double, 12>& ras, const std::string& what) {
  const auto lps = g.affine();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c)
      EXPECT_NEAR(lps[r * 4 + c], (r < 2 ? -1.0 : 1.0) * ras[r * 4 + c], 1e-4) << what << " [" << r << "," << c << "]";
}

std::array<double, 12> sform_of(const rawnifti::Header& h) {
  std::array<double, 12> m{};
  for (int i = 0; i < 12; ++i) m[i] = h.srow[i];
  return m;
}

// Every spatial field of the written header equals the input's, bit for bit.
void expect_same_space(const rawnifti::Header& in, const rawnifti::Header& out, const std::string& what) {
  EXPECT_EQ(out.qform_code, in.qform_code) << what;
  EXPECT_EQ(out.sform_code, in.sform_code) << what;
  if (in.sform_code > 0) {
    EXPECT_EQ(out.srow, in.srow) << what;
  }
  if (in.qform_code > 0) {
    EXPECT_EQ(out.quatern, in.quatern) << what;
    EXPECT_EQ(out.qoffset, in.qoffset) << what;
    EXPECT_EQ(out.pixdim[0] < 0, in.pixdim[0] < 0) << what << " (qfac)";
  }
  for (int d = 1; d <= 3; ++d) EXPECT_EQ(out.pixdim[d], in.pixdim[d]) << what << " pixdim[" << d << "]";
}

// Reads `h`, checks the grid, writes it back and checks the header and voxels.
Volume round_trip(const rawnifti::Header& h, const std::array<double, 12>& expected_ras, const std::string& name) {
  const std::string in = dir() + "/" + name + ".nii.gz", out = dir() + "/" + name + "_out.nii.gz";
  const auto data = ramp();
  rawnifti::write(in, h, data.data(), data.size() * 4);
  const Volume v = read_nifti(in);
  expect_grid(v.geom, expected_ras, name + " (read)");
  EXPECT_EQ(v.data, data);
  write_nifti(out, v);
  expect_same_space(h, rawnifti::read(out), name);
  expect_grid(read_nifti(out).geom, expected_ras, name + " (read back)");
  return v;
}
}  // namespace

TEST(NiftiGeometry, SformIsPreferredWhenItsCodeIsNonZeroAndBothFormsComeBackAsGiven) {
  for (short code : {1, 2, 3, 4}) {
    const auto h = with_sform(with_qform(base()), code);
    // The two forms really differ (else the test could not tell them apart).
    const auto q = rawnifti::qform_matrix(h);
    EXPECT_GT(std::abs(q[3] - h.srow[3]), 1.0);
    round_trip(h, sform_of(h), "sform" + std::to_string(code));
  }
}

TEST(NiftiGeometry, SformAloneAndQformAlone) {
  const auto s = with_sform(base(), 4);
  round_trip(s, sform_of(s), "sform_only");
  const auto q = with_qform(base());
  round_trip(q, rawnifti::qform_matrix(q), "qform_only");
}

TEST(NiftiGeometry, BothCodesZeroMeanVoxelSizesOnlyAndStayZero) {
  auto h = base();
  h.pixdim = {1, 1.5f, 2.0f, 3.0f, 1, 1, 1, 1};
  h.srow = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};  // ignored: code 0
  const std::array<double, 12> method1{1.5, 0, 0, 0, 0, 2.0, 0, 0, 0, 0, 3.0, 0};
  round_trip(h, method1, "codes0");
  // A voxel size of 0 is read as 1 mm (nifticlib's rule, and so ITK's).
  h.pixdim[2] = 0;
  const auto data = ramp();
  rawnifti::write(dir() + "/nosize.nii.gz", h, data.data(), data.size() * 4);
  EXPECT_DOUBLE_EQ(read_nifti(dir() + "/nosize.nii.gz").geom.spacing[1], 1.0);
}

TEST(NiftiGeometry, ShearedSformFallsBackToTheQformOrIsRefused) {
  auto h = with_qform(base());
  h.sform_code = 2;
  h.srow = {1, 0.4f, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  round_trip(h, rawnifti::qform_matrix(h), "shear_with_qform");  // and the sheared sform is written back as given
  h.qform_code = 0;
  const auto data = ramp();
  const std::string path = dir() + "/shear.nii.gz";
  rawnifti::write(path, h, data.data(), data.size() * 4);
  try {
    read_nifti(path);
    ADD_FAILURE() << "a sheared sform without a qform was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("shear"), std::string::npos) << e.what();
  }
}

TEST(NiftiGeometry, ANewGridGetsBothFormsOfThatGrid) {
  const auto h = with_sform(with_qform(base()), 2);
  Volume v = round_trip(h, sform_of(h), "moved");
  v.geom.origin[0] += 4.0;  // a grid of its own now
  const std::string out = dir() + "/moved_again.nii.gz";
  write_nifti(out, v);
  const auto w = rawnifti::read(out);
  EXPECT_EQ(w.qform_code, 1);
  EXPECT_EQ(w.sform_code, 1);
  const auto lps = v.geom.affine();
  const auto q = rawnifti::qform_matrix(w);
  for (int i = 0; i < 12; ++i) {
    const double expected = (i < 8 ? -1.0 : 1.0) * lps[i];
    EXPECT_NEAR(w.srow[i], expected, 1e-4) << i;
    EXPECT_NEAR(q[i], expected, 1e-4) << i;
  }
}

TEST(NiftiGeometry, VoxOffsetIsHonouredAndAnOffsetInsideTheHeaderIsRefused) {
  const auto data = ramp();
  for (const bool gz : {false, true}) {
    const std::string ext = gz ? ".nii.gz" : ".nii";
    auto h = base();
    h.sform_code = 1;
    h.srow = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    h.vox_offset = 400;  // an extension-sized gap before the data
    rawnifti::write(dir() + "/offset400" + ext, h, data.data(), data.size() * 4, gz);
    EXPECT_EQ(read_nifti(dir() + "/offset400" + ext).data, data) << ext;
    h.vox_offset = 0;  // data written at 352, header says 0
    const std::string bad = dir() + "/offset0" + ext;
    rawnifti::write(bad, h, data.data(), data.size() * 4, gz);
    try {
      read_nifti(bad);
      ADD_FAILURE() << bad << " was read";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(bad), std::string::npos) << what;
      EXPECT_NE(what.find("vox_offset"), std::string::npos) << what;
    }
  }
}

TEST(NiftiGeometry, IntegerVoxelsAreScaledBySlopeAndIntercept) {
  auto h = base();
  h.sform_code = 1;
  h.srow = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  h.datatype = 4;  // int16
  h.bitpix = 16;
  h.scl_slope = 2.0f;
  h.scl_inter = -1.0f;
  std::vector<short> raw(6 * 5 * 4);
  for (std::size_t n = 0; n < raw.size(); ++n) raw[n] = short(int(n) - 50);
  const std::string path = dir() + "/int16.nii.gz";
  rawnifti::write(path, h, raw.data(), raw.size() * 2);
  const Volume v = read_nifti(path);
  for (std::size_t n = 0; n < raw.size(); ++n) ASSERT_EQ(v.data[n], 2.0f * raw[n] - 1.0f) << n;
}
