#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.hpp"
#include "core/file_size_limit.hpp"
#include "core/files.hpp"
#include "io/nifti.hpp"
#include "io/raw_nifti.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
std::string temp_dir() {
  const auto dir = fs::temp_directory_path() / ("harmonize_nifti_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

void write_raw_nifti(const std::string& path, std::vector<short> dims, const std::vector<float>& data,
                     bool gzip = true) {
  rawnifti::write(path, std::move(dims), data, gzip);
}

Volume test_volume(const Geometry& g) {
  Volume v(g);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = std::sin(0.01f * float(n)) * 100.0f + 3.0f;
  return v;
}

Geometry oblique_non_ras() {
  Geometry g;
  g.size = {12, 10, 8};
  g.spacing = {1.1, 0.9, 2.2};
  g.origin = {-31.5, 22.25, -8.0};
  const Mat3 perm{0, 1, 0, 0, 0, 1, -1, 0, 0};  // non-RAS axis order and a flip
  g.direction = mat_mul(rotation_xyz(0.2, -0.15, 0.35), perm);
  return g;
}
}  // namespace

TEST(Nifti, RoundTripKeepsVoxelsAndGeometry) {
  const std::string dir = temp_dir();
  for (const char* ext : {".nii.gz", ".nii"}) {
    const Geometry g = oblique_non_ras();
    const Volume v = test_volume(g);
    const std::string path = dir + "/rt" + ext;
    write_nifti(path, v);
    const Volume back = read_nifti(path);
    EXPECT_EQ(back.data, v.data);
    EXPECT_EQ(back.geom.size, g.size);
    EXPECT_LT(back.geom.max_corner_distance(g), 1e-4) << ext;
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(back.geom.spacing[a], g.spacing[a], 1e-5);
    for (int e = 0; e < 9; ++e) EXPECT_NEAR(back.geom.direction[e], g.direction[e], 1e-5);
    // A second round trip changes nothing.
    write_nifti(dir + "/rt2" + ext, back);
    const Volume again = read_nifti(dir + "/rt2" + ext);
    EXPECT_LT(again.geom.max_corner_distance(g), 1e-4);
  }
}

TEST(Nifti, QformAndSformBothEncodeTheVoxelToWorldMapping) {
  const std::string path = temp_dir() + "/forms.nii.gz";
  const Geometry g = oblique_non_ras();
  write_nifti(path, test_volume(g));
  const rawnifti::Header h = rawnifti::read(path);
  EXPECT_EQ(h.qform_code, 1);
  EXPECT_EQ(h.sform_code, 1);
  EXPECT_EQ(h.datatype, 16);  // float32 by default
  // NIfTI is RAS: x_ras = -x_lps, y_ras = -y_lps.
  const auto a = g.affine();
  const auto q = rawnifti::qform_matrix(h);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const double expected = (r < 2 ? -1.0 : 1.0) * a[r * 4 + c];
      EXPECT_NEAR(h.srow[r * 4 + c], expected, 1e-4) << "srow " << r << "," << c;
      EXPECT_NEAR(q[r * 4 + c], expected, 1e-4) << "qform " << r << "," << c;
    }
}

TEST(Nifti, IntegerOutputsRoundAndClamp) {
  const std::string path = temp_dir() + "/u8.nii.gz";
  Geometry g;
  g.size = {4, 4, 4};
  Volume v(g, 0.0f);
  v.data[0] = 2.6f;
  v.data[1] = 300.0f;
  v.data[2] = -5.0f;
  write_nifti(path, v, DiskType::UInt8);
  EXPECT_EQ(rawnifti::read(path).datatype, 2);
  const Volume back = read_nifti(path);
  EXPECT_EQ(back.data[0], 3.0f);
  EXPECT_EQ(back.data[1], 255.0f);
  EXPECT_EQ(back.data[2], 0.0f);
}

TEST(Nifti, MaskReadingThresholdsAtOneHalf) {
  const std::string path = temp_dir() + "/mask.nii.gz";
  Geometry g;
  g.size = {4, 2, 2};
  g.spacing = {2, 1, 3};
  Volume v(g, 0.0f);
  v.data[1] = 0.4f, v.data[2] = 0.6f, v.data[3] = 7.0f;
  write_nifti(path, v);
  const Mask m = read_nifti_mask(path);
  EXPECT_EQ(m.geom.size, g.size);
  EXPECT_EQ(m.geom.spacing, g.spacing);
  EXPECT_EQ((std::vector<std::uint8_t>(m.data.begin(), m.data.begin() + 5)),
            (std::vector<std::uint8_t>{0, 0, 1, 1, 0}));
  EXPECT_THROW(read_nifti_mask(temp_dir() + "/absent.nii.gz"), InputError);
}

TEST(Nifti, ReadsHandWrittenFile) {
  const std::string path = temp_dir() + "/hand.nii.gz";
  std::vector<float> data(5 * 6 * 7);
  for (std::size_t n = 0; n < data.size(); ++n) data[n] = float(n);
  write_raw_nifti(path, {5, 6, 7}, data);
  const Volume v = read_nifti(path);
  EXPECT_EQ(v.geom.size, (std::array<std::size_t, 3>{5, 6, 7}));
  EXPECT_EQ(v.at(4, 5, 6), float(4 + 5 * (5 + 6 * 6)));
  // sform = identity in RAS -> LPS direction diag(-1, -1, 1)
  EXPECT_NEAR(v.geom.direction[0], -1.0, 1e-6);
  EXPECT_NEAR(v.geom.direction[4], -1.0, 1e-6);
  EXPECT_NEAR(v.geom.direction[8], 1.0, 1e-6);
  // A 4D file with a single volume is a 3D volume.
  write_raw_nifti(temp_dir() + "/single4d.nii.gz", {5, 6, 7, 1}, data);
  EXPECT_EQ(read_nifti(temp_dir() + "/single4d.nii.gz").data, v.data);
}

namespace {
void expect_refused(const std::string& path, const std::string& fragment) {
  try {
    read_nifti(path);
    ADD_FAILURE() << path << " was accepted";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}
}  // namespace

TEST(Nifti, RefusesBadInputNamingFileAndProblem) {
  const std::string dir = temp_dir();
  expect_refused(dir + "/missing.nii.gz", "does not exist");

  std::ofstream(dir + "/text.nii.gz") << "hello, I am not an image";
  expect_refused(dir + "/text.nii.gz", "NIfTI");
  std::ofstream(dir + "/image.png") << "png";
  expect_refused(dir + "/image.png", "NIfTI");

  std::vector<float> data(8 * 8 * 8, 1.0f);
  write_raw_nifti(dir + "/full.nii.gz", {8, 8, 8}, data);
  {  // truncated: cut the compressed stream in half
    const std::string t = dir + "/truncated.nii.gz";
    fs::copy_file(dir + "/full.nii.gz", t, fs::copy_options::overwrite_existing);
    fs::resize_file(t, fs::file_size(t) / 2);
    expect_refused(t, "truncated");
  }
  {  // truncated uncompressed
    write_raw_nifti(dir + "/short.nii", {8, 8, 8}, data, false);
    fs::resize_file(dir + "/short.nii", 352 + 100);
    expect_refused(dir + "/short.nii", "");
  }
  write_raw_nifti(dir + "/two_d.nii.gz", {8, 8}, std::vector<float>(64, 1.0f));
  expect_refused(dir + "/two_d.nii.gz", "2D");
  write_raw_nifti(dir + "/four_d.nii.gz", {8, 8, 8, 3}, std::vector<float>(8 * 8 * 8 * 3, 1.0f));
  expect_refused(dir + "/four_d.nii.gz", "4D");
  write_raw_nifti(dir + "/zero.nii.gz", {8, 0, 8}, {});
  expect_refused(dir + "/zero.nii.gz", "");
  auto nan_data = data;
  nan_data[17] = std::numeric_limits<float>::quiet_NaN();
  nan_data[40] = std::numeric_limits<float>::infinity();
  write_raw_nifti(dir + "/nan.nii.gz", {8, 8, 8}, nan_data);
  expect_refused(dir + "/nan.nii.gz", "2 NaN or Inf");
}

namespace {
// A 2x2x2 file of voxel type T (NIfTI code `datatype`) holding 0, 1, ..., 7 (less `offset`).
template <class T>
void write_typed_raw(const std::string& path, short datatype, T offset) {
  rawnifti::Header h;
  h.dims = {2, 2, 2};
  h.datatype = datatype, h.bitpix = short(8 * sizeof(T));
  std::vector<T> v(8);
  for (std::size_t n = 0; n < v.size(); ++n) v[n] = T(T(n) - offset);
  rawnifti::write(path, h, v.data(), v.size() * sizeof(T));
}
}  // namespace

TEST(Nifti, EveryRealScalarTypeIsReadAndOthersAreRefusedByName) {
  const std::string dir = temp_dir();
  auto check = [&](const std::string& name, auto offset, short code) {
    using T = decltype(offset);
    const std::string path = dir + "/type_" + name + ".nii.gz";
    write_typed_raw<T>(path, code, offset);
    const Volume v = read_nifti(path);
    for (std::size_t n = 0; n < 8; ++n) EXPECT_EQ(v.data[n], float(n) - float(offset)) << name << " " << n;
  };
  check("uint8", std::uint8_t{0}, 2);
  check("int8", std::int8_t{4}, 256);
  check("int16", std::int16_t{4}, 4);
  check("uint16", std::uint16_t{0}, 512);
  check("int32", std::int32_t{4}, 8);
  check("uint32", std::uint32_t{0}, 768);
  check("int64", std::int64_t{4}, 1024);
  check("uint64", std::uint64_t{0}, 1280);
  check("float32", 0.5f, 16);
  check("float64", 0.25, 64);
  // RGB24 (128): 3 bytes a voxel; COMPLEX64 (32): two floats.
  rawnifti::Header rgb;
  rgb.dims = {2, 2, 2};
  rgb.datatype = 128, rgb.bitpix = 24;
  const std::vector<std::uint8_t> bytes(8 * 3, 7);
  rawnifti::write(dir + "/rgb.nii.gz", rgb, bytes.data(), bytes.size());
  expect_refused(dir + "/rgb.nii.gz", "colour (RGB)");
  rawnifti::Header cplx = rgb;
  cplx.datatype = 32, cplx.bitpix = 64;
  const std::vector<float> pairs(8 * 2, 1.0f);
  rawnifti::write(dir + "/complex.nii.gz", cplx, pairs.data(), pairs.size() * 4);
  expect_refused(dir + "/complex.nii.gz", "datatype 32 (complex or unknown)");
}

TEST(Nifti, FailedWriteLeavesNothingBehind) {
  const std::string dir = temp_dir() + "/readonly";
  fs::create_directories(dir);
  Geometry g;
  g.size = {4, 4, 4};
  EXPECT_THROW(write_nifti(dir + "/x.txt", Volume(g)), OutputError);
  if (::geteuid() != 0) {  // root ignores permissions
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(write_nifti(dir + "/x.nii.gz", Volume(g)), OutputError);
    fs::permissions(dir, fs::perms::owner_all);
  }
  // Writing into a path whose folder is a file fails cleanly.
  std::ofstream(temp_dir() + "/afile") << "x";
  EXPECT_THROW(write_nifti(temp_dir() + "/afile/x.nii.gz", Volume(g)), OutputError);
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
}

TEST(Nifti, LabelMapsMustBeIntegers) {
  const std::string path = temp_dir() + "/labels.nii.gz";
  std::vector<float> data(4 * 4 * 4, 2.0f);
  write_raw_nifti(path, {4, 4, 4}, data);
  EXPECT_EQ(read_nifti_labels(path).data[0], 2);
  data[3] = 2.5f;
  write_raw_nifti(path, {4, 4, 4}, data);
  EXPECT_THROW(read_nifti_labels(path), InputError);
}

TEST(Nifti, NonFiniteVolumesAreRefusedAndNothingIsWritten) {
  const std::string dir = temp_dir() + "/nonfinite";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Geometry g;
  g.size = {4, 4, 4};
  Volume v(g, 0.5f);
  v.data[7] = std::numeric_limits<float>::quiet_NaN();
  v.data[9] = std::numeric_limits<float>::infinity();
  for (const std::string name : {"/a.nii.gz", "/b.nii"}) {
    try {
      write_nifti(dir + name, v);
      ADD_FAILURE() << "wrote a NaN volume";
    } catch (const OutputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(name.substr(1)), std::string::npos) << what;
      EXPECT_NE(what.find("2 NaN or infinite"), std::string::npos) << what;
    }
  }
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
}

TEST(Files, TemporaryNameOfALongOutputNameStaysALegalName) {
  const std::string name = std::string(243, 'x') + ".nii.gz";  // 250 bytes: legal
  const std::string tmp = temporary_sibling("/some/folder/" + name);
  const std::string file = fs::path(tmp).filename().string();
  EXPECT_LE(file.size(), 255u);
  EXPECT_EQ(fs::path(tmp).parent_path(), fs::path("/some/folder"));
  EXPECT_EQ(file.substr(file.size() - 7), ".nii.gz");
  EXPECT_NE(temporary_sibling("/some/folder/" + name), tmp);  // unique per call
  // A long name is written and read back under its own name.
  const std::string dir = temp_dir() + "/long";
  fs::create_directories(dir);
  Geometry g;
  g.size = {2, 2, 2};
  write_nifti(dir + "/" + name, Volume(g, 0.25f));
  EXPECT_EQ(read_nifti(dir + "/" + name).data[0], 0.25f);
  fs::remove_all(dir);
}

TEST(Files, TemporariesOfAKilledRunAreRemovedOnTheNextWrite) {
  const std::string dir = temp_dir() + "/stale";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // pid 2147483000 is above any pid_max: its writer is gone. Our own pid is alive.
  const std::string stale = dir + "/.tmp-2147483000-3-out.nii.gz";
  const std::string live = dir + "/.tmp-" + std::to_string(::getpid()) + "-99-out.nii.gz";
  const std::string other = dir + "/.tmp-2147483000-4-other.nii.gz";
  for (const auto& f : {stale, live, other}) std::ofstream(f) << "partial";
  Geometry g;
  g.size = {2, 2, 2};
  write_nifti(dir + "/out.nii.gz", Volume(g, 0.5f));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));   // a running process's file is left alone
  EXPECT_TRUE(fs::exists(other));  // so is another output's, until that output is written
  fs::remove_all(dir);
}

TEST(Files, AFullDiskLeavesNothingAtTheFinalNameAndNamesTheOutput) {
  const std::string dir = temp_dir() + "/full";
  fs::remove_all(dir);
  fs::create_directories(dir);
  Geometry g;
  g.size = {40, 40, 40};
  Volume v(g);
  std::uint32_t state = 12345;  // pseudo-random voxels: they do not compress below the limit
  for (float& x : v.data) x = float((state = state * 1664525u + 1013904223u) >> 8);
  for (const std::string name : {"/out.nii.gz", "/out.nii", "/table.tsv"}) {
    std::string message;
    {
      harmonize::test::FileSizeLimit full(8192);
      try {
        if (name == "/table.tsv")
          write_text_atomically(dir + name, std::string(100000, 'x'));
        else
          write_nifti(dir + name, v);
      } catch (const OutputError& e) {
        message = e.what();
      }
    }
    EXPECT_NE(message.find(dir + name), std::string::npos) << name << ": " << message;
    EXPECT_FALSE(fs::exists(dir + name)) << name;
    for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  }
  // The same writes succeed with room again.
  write_nifti(dir + "/out.nii.gz", v);
  EXPECT_EQ(read_nifti(dir + "/out.nii.gz").data, v.data);
  fs::remove_all(dir);
}
