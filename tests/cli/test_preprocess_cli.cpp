// harmonize preprocess end to end on a coarse simulated pair (3 mm, masks
// given, affine only, to stay fast): outputs on the target grid, exact slices,
// an oblique non-RAS anisotropic scan, and refusals that leave nothing behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "core/files.hpp"
#include "core/volfile.hpp"
#include "io/nifti.hpp"
#include "preprocess/resample.hpp"
#include "preprocess/slicing.hpp"

using namespace harmonize;
using harmonize::test::run_cli;
namespace fs = std::filesystem;

namespace {
class PreprocessCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("harmonize_prep_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto r = run_cli("simulate " + dir_ + "/cohort --subjects 1 --patients 0 --resolution 3 -q");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string scan(const std::string& ses) {
    return dir_ + "/cohort/sub-001/ses-" + ses + "/anat/sub-001_ses-" + ses + "_T1w.nii.gz";
  }
  static std::string mask(const std::string& ses) {
    return dir_ + "/cohort/derivatives/truth/sub-001/ses-" + ses + "/anat/sub-001_ses-" + ses +
           "_desc-brain_mask.nii.gz";
  }
  static inline std::string dir_;
  static constexpr const char* kFast = " --spacing 3 --slice-size 96 --no-deformable -q";
};
}  // namespace

TEST_F(PreprocessCli, PairLandsOnTheTargetGridWithExactSlices) {
  const std::string out = dir_ + "/prep";
  const auto r =
      run_cli("preprocess " + dir_ + "/cohort " + out + " --mask-dir " + dir_ + "/cohort/derivatives/truth" + kFast);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto ds = nlohmann::json::parse(read_text_file(out + "/dataset.json"));
  ASSERT_TRUE(ds["subjects"].contains("sub-001"));
  EXPECT_EQ(ds["parameters"]["spacing_mm"], 3.0);
  const Volume target_raw = read_nifti(scan("3T"));
  const Volume target = read_nifti(out + "/sub-001/ses-3T/anat/sub-001_ses-3T_desc-preproc_T1w.nii.gz");
  const Volume source = read_nifti(out + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_space-ses3T_desc-preproc_T1w.nii.gz");
  // Same voxel size as the raw scan here, so the output grid is the target scan's grid.
  EXPECT_LT(target.geom.max_corner_distance(target_raw.geom), 1e-3);
  EXPECT_LT(source.geom.max_corner_distance(target_raw.geom), 1e-3);
  float lo = 1, hi = 0;
  for (float v : target.data) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  // The slices go back into the exact voxels they came from.
  nlohmann::json meta;
  const Volume stack = read_hvol<float>(out + "/sub-001/slices/sub-001_ses-3T_slices.hvol", &meta);
  const SliceLayout layout = SliceLayout::from_json(meta["layout"]);
  EXPECT_EQ(stack.geom.size[0], 96u);
  EXPECT_EQ(from_slices(stack, layout).data, target.data);
  // The registered source resembles the target: correlation inside the brain.
  const Volume m = read_nifti(out + "/sub-001/ses-3T/anat/sub-001_ses-3T_desc-brain_mask.nii.gz");
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (std::size_t i = 0; i < m.data.size(); ++i)
    if (m.data[i] > 0) {
      const double a = source.data[i], b = target.data[i];
      sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b, n += 1;
    }
  const double corr =
      (sab / n - sa / n * sb / n) / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
  EXPECT_GT(corr, 0.8);
  EXPECT_TRUE(fs::exists(out + "/sub-001/xfm/sub-001_from-ses1p5T_to-ses3T_affine.tfm"));
  EXPECT_TRUE(fs::exists(out + "/code/harmonize_preprocess.json"));
}

// With --quiet nothing but the result line reaches the terminal: ITK's own
// warnings (the B-spline stage's optimizer warns on every start) go to the log.
TEST_F(PreprocessCli, QuietIsQuietWithTheDeformableStage) {
  const std::string out = dir_ + "/quiet";
  const auto r = run_cli("preprocess " + dir_ + "/cohort " + out + " --mask-dir " + dir_ +
                         "/cohort/derivatives/truth --spacing 3 --slice-size 96 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("ITK"), std::string::npos) << r.output;
}

TEST_F(PreprocessCli, ObliqueNonRasAnisotropicScan) {
  // The 3T scan resampled onto an oblique grid whose axes are permuted and
  // flipped, with anisotropic voxels.
  const Volume raw = read_nifti(scan("3T"));
  const Volume rawmask = read_nifti(mask("3T"));
  Geometry g;
  g.spacing = {2.5, 3.5, 3.0};
  const Mat3 perm{0, 0, -1, 1, 0, 0, 0, -1, 0};
  g.direction = mat_mul(rotation_xyz(0.25, -0.15, 0.2), perm);
  g.size = {80, 60, 70};
  const Vec3 centre = raw.geom.index_to_world(
      {0.5 * (raw.geom.size[0] - 1), 0.5 * (raw.geom.size[1] - 1), 0.5 * (raw.geom.size[2] - 1)});
  const Vec3 half = mat_vec(g.direction, {0.5 * (g.size[0] - 1) * g.spacing[0], 0.5 * (g.size[1] - 1) * g.spacing[1],
                                          0.5 * (g.size[2] - 1) * g.spacing[2]});
  for (int a = 0; a < 3; ++a) g.origin[a] = centre[a] - half[a];
  write_nifti(dir_ + "/oblique.nii.gz", resample(raw, g));
  write_nifti(dir_ + "/oblique_mask.nii.gz", resample(rawmask, g, {}, Interp::Nearest));
  const std::string out = dir_ + "/prep_oblique";
  const auto r =
      run_cli("preprocess --input " + dir_ + "/oblique.nii.gz --mask " + dir_ + "/oblique_mask.nii.gz " + out + kFast);
  ASSERT_EQ(r.status, 0) << r.output;
  const Volume p = read_nifti(out + "/oblique_desc-preproc_T1w.nii.gz");
  for (int e = 0; e < 9; ++e) EXPECT_NEAR(p.geom.direction[e], g.direction[e], 1e-5);  // orientation kept
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(p.geom.spacing[a], 3.0, 1e-6);
  // Same anatomy as the straight scan: brain volumes agree within 5 %.
  auto volume = [](const Volume& m) {
    double v = 0;
    for (float x : m.data) v += x > 0.5f;
    return v * m.geom.spacing[0] * m.geom.spacing[1] * m.geom.spacing[2];
  };
  const Volume pm = read_nifti(out + "/oblique_desc-brain_mask.nii.gz");
  const Volume straight_mask = read_nifti(mask("3T"));
  EXPECT_NEAR(volume(pm) / volume(straight_mask), 1.0, 0.05);
  // Its slices are sagittal: the slice axis runs left-right whatever the file's axes.
  nlohmann::json meta;
  read_hvol<float>(out + "/oblique_slices.hvol", &meta);
  const SliceLayout l = SliceLayout::from_json(meta["layout"]);
  const Geometry sg = l.stack_geometry();
  EXPECT_GT(std::abs(sg.direction[0 * 3 + 2]), 0.85);  // k axis ~ world x (left-right)
}

TEST_F(PreprocessCli, RefusesBadInputsAndLeavesNothing) {
  const std::string out = dir_ + "/bad";
  auto refused = [&](const std::string& args, const std::string& fragment) {
    const auto r = run_cli("preprocess " + args + " " + out + kFast);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out)) << args;
    EXPECT_FALSE(fs::exists(out + ".partial")) << args;
  };
  // A mask of the wrong size.
  refused("--input " + scan("3T") + " --mask " + mask("1p5T"), "not on this scan's grid");
  // An empty mask.
  Volume m = read_nifti(mask("3T"));
  std::fill(m.data.begin(), m.data.end(), 0.0f);
  write_nifti(dir_ + "/empty_mask.nii.gz", m);
  refused("--input " + scan("3T") + " --mask " + dir_ + "/empty_mask.nii.gz", "empty");
  // A constant image.
  Volume c = read_nifti(scan("3T"));
  std::fill(c.data.begin(), c.data.end(), 100.0f);
  write_nifti(dir_ + "/constant.nii.gz", c);
  refused("--input " + dir_ + "/constant.nii.gz --mask " + mask("3T"), "constant");
  // A pair with no overlap: the source session moved 2 m away.
  const std::string far = dir_ + "/far";
  fs::create_directories(far + "/sub-001/ses-1p5T/anat");
  fs::create_directories(far + "/sub-001/ses-3T/anat");
  fs::create_directories(far + "/masks/sub-001/ses-1p5T/anat");
  fs::create_directories(far + "/masks/sub-001/ses-3T/anat");
  Volume s = read_nifti(scan("1p5T"));
  Volume sm = read_nifti(mask("1p5T"));
  s.geom.origin[0] += 2000;
  sm.geom.origin[0] += 2000;
  write_nifti(far + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz", s);
  write_nifti(far + "/masks/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz", sm);
  fs::copy_file(scan("3T"), far + "/sub-001/ses-3T/anat/sub-001_ses-3T_T1w.nii.gz");
  fs::copy_file(mask("3T"), far + "/masks/sub-001/ses-3T/anat/sub-001_ses-3T_desc-brain_mask.nii.gz");
  refused(far + " --mask-dir " + far + "/masks --init geometry", "overlap");
  // Missing and non-NIfTI inputs.
  refused("--input " + dir_ + "/missing.nii.gz", "does not exist");
}
