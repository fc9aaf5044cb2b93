// harmonize apply end to end on a tiny (untrained) model: the output has the
// input's grid and geometry, zero background, values on [0, 1]; bad inputs
// are refused before any work.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "cli/run_cli.hpp"
#include "cli/tiny_model.hpp"
#include "core/files.hpp"
#include "harmonize/options.hpp"
#include "io/nifti.hpp"
#include "io/raw_nifti.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
using Result = harmonize::test::CliResult;
Result run(const std::string& args) { return harmonize::test::run_cli(args); }
using harmonize::test::save_tiny_model;
}  // namespace

TEST(Apply, OutputKeepsTheInputGeometryAndZeroBackground) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_apply_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run("simulate " + dir + "/cohort --subjects 1 --resolution 3 -q").status, 0);
  const std::string scan = dir + "/cohort/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz";
  const std::string mask =
      dir + "/cohort/derivatives/truth/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz";
  save_tiny_model(dir + "/model.pt", "1p5T-to-3T");

  const std::string out = dir + "/out.nii.gz";
  const Result r = run("apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask + " --output " + out +
                       " --steps 2 --batch 16 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const Volume in = read_nifti(scan), res = read_nifti(out), m = read_nifti(mask);
  EXPECT_EQ(res.geom.size, in.geom.size);
  EXPECT_LT(res.geom.max_corner_distance(in.geom), 1e-4);
  std::size_t inside_nonzero = 0;
  for (std::size_t n = 0; n < res.data.size(); ++n) {
    if (m.data[n] == 0) {
      ASSERT_EQ(res.data[n], 0.0f) << "background voxel " << n;
    }
    ASSERT_GE(res.data[n], 0.0f);
    ASSERT_LE(res.data[n], 1.0f);
    inside_nonzero += m.data[n] != 0 && res.data[n] > 0;
  }
  EXPECT_GT(inside_nonzero, 100u);
  EXPECT_TRUE(fs::exists(dir + "/out.json"));

  // --calibration: a map that adds 0.1 moves every brain voxel up by 0.1 (same seed, same sample).
  {
    std::ofstream(dir + "/calibration.json") << R"({"from": [0.0, 1.0], "to": [0.1, 1.1]})";
    const std::string out_cal = dir + "/out_cal.nii.gz";
    const Result rc = run("apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask + " --output " +
                          out_cal + " --steps 2 --batch 16 --calibration " + dir + "/calibration.json -q");
    ASSERT_EQ(rc.status, 0) << rc.output;
    const Volume cal = read_nifti(out_cal);
    std::size_t n_in = 0, n_shifted = 0;
    for (std::size_t n = 0; n < res.data.size(); ++n) {
      if (m.data[n] == 0) {
        ASSERT_EQ(cal.data[n], 0.0f);
        continue;
      }
      if (res.data[n] < 0.05f || res.data[n] > 0.85f) continue;
      ++n_in;
      n_shifted += std::abs(cal.data[n] - res.data[n] - 0.1f) < 1e-3f;
    }
    ASSERT_GT(n_in, 100u);
    EXPECT_GT(double(n_shifted) / double(n_in), 0.9) << n_shifted << " of " << n_in;
    // The end noise a calibration records is used unless --end-noise says otherwise.
    std::ofstream(dir + "/noisy_cal.json") << R"({"from": [0.0, 1.0], "to": [0.0, 1.0], "end_noise": 0.05})";
    const std::string base = "apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask +
                             " --steps 2 --batch 16 --calibration " + dir + "/noisy_cal.json -q --output ";
    ASSERT_EQ(run(base + dir + "/out_noisy.nii.gz").status, 0);
    ASSERT_EQ(run(base + dir + "/out_quiet.nii.gz --end-noise none").status, 0);
    const Volume noisy = read_nifti(dir + "/out_noisy.nii.gz"), quiet = read_nifti(dir + "/out_quiet.nii.gz");
    double diff_noisy = 0, diff_quiet = 0;
    for (std::size_t n = 0; n < res.data.size(); ++n)
      if (m.data[n] && res.data[n] > 0.2f && res.data[n] < 0.8f) {
        diff_noisy = std::max(diff_noisy, double(std::abs(noisy.data[n] - res.data[n])));
        diff_quiet = std::max(diff_quiet, double(std::abs(quiet.data[n] - res.data[n])));
      }
    EXPECT_GT(diff_noisy, 0.03);
    EXPECT_LT(diff_quiet, 1e-5);
    std::ofstream(dir + "/bad_noise.json") << R"({"from": [0.0, 1.0], "to": [0.0, 1.0], "end_noise": 0.7})";
    const Result bad_noise = run("apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask +
                                 " --output " + dir + "/o5.nii.gz --calibration " + dir + "/bad_noise.json -q");
    EXPECT_NE(bad_noise.status, 0);
    EXPECT_NE(bad_noise.output.find("bad_noise.json"), std::string::npos) << bad_noise.output;
    EXPECT_FALSE(fs::exists(dir + "/o5.nii.gz"));
    std::ofstream(dir + "/bad_cal.json") << R"({"from": [0.5, 0.2], "to": [0.1, 0.2]})";
    const Result bad = run("apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask + " --output " +
                           dir + "/o4.nii.gz --calibration " + dir + "/bad_cal.json -q");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.output.find("bad_cal.json"), std::string::npos) << bad.output;
    EXPECT_FALSE(fs::exists(dir + "/o4.nii.gz"));
  }

  // Refusals: existing output, a model file of the wrong kind, a missing input,
  // preprocessed inputs without their masks.
  Result again = run("apply --model " + dir + "/model.pt --input " + scan + " --mask " + mask + " --output " + out);
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  std::ofstream(dir + "/bogus.pt") << "not a model";
  again = run("apply --model " + dir + "/bogus.pt --input " + scan + " --output " + dir + "/o2.nii.gz");
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("bogus.pt"), std::string::npos) << again.output;
  EXPECT_FALSE(fs::exists(dir + "/o2.nii.gz"));
  again = run("apply --model " + dir + "/model.pt --input " + dir + "/none.nii.gz --output " + dir + "/o3.nii.gz");
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("none.nii.gz"), std::string::npos) << again.output;
  again = run("apply --model " + dir + "/model.pt --preprocessed --input " + scan + " --output " + dir + "/o6.nii.gz");
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("--mask"), std::string::npos) << again.output;
  EXPECT_FALSE(fs::exists(dir + "/o6.nii.gz"));
  fs::remove_all(dir);
}

TEST(Apply, AnSformUnlikeItsQformIsTheGridAndBothComeBackAsGiven) {
  // An input whose sform (code 2) is not its qform: the sform is the grid (as
  // nibabel and FSL read it), and the output carries both forms back unchanged.
  const std::string dir =
      (fs::temp_directory_path() / ("harmonize_apply_forms_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run("simulate " + dir + "/cohort --subjects 1 --resolution 3 -q").status, 0);
  const Volume in = read_nifti(dir + "/cohort/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz");
  const Volume m =
      read_nifti(dir + "/cohort/derivatives/truth/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz");
  save_tiny_model(dir + "/model.pt", "1p5T-to-3T");
  rawnifti::Header h;
  h.dims = {short(in.geom.size[0]), short(in.geom.size[1]), short(in.geom.size[2])};
  h.pixdim = {1, float(in.geom.spacing[0]), float(in.geom.spacing[1]), float(in.geom.spacing[2]), 1, 1, 1, 1};
  const auto lps = in.geom.affine();
  for (int i = 0; i < 12; ++i) h.srow[i] = float((i < 8 ? -1.0 : 1.0) * lps[i]);
  h.sform_code = 2;
  h.qform_code = 1;
  h.quatern = {0.05f, 0.0f, 0.0f};
  h.qoffset = {h.srow[3] + 30.0f, h.srow[7], h.srow[11]};
  const std::string scan2 = dir + "/oblique_T1w.nii.gz", mask2 = dir + "/oblique_mask.nii.gz";
  rawnifti::write(scan2, h, in.data.data(), in.data.size() * 4);
  rawnifti::write(mask2, h, m.data.data(), m.data.size() * 4);
  const std::string out2 = dir + "/oblique_out.nii.gz";
  const Result r2 = run("apply --model " + dir + "/model.pt --input " + scan2 + " --mask " + mask2 + " --output " +
                        out2 + " --steps 2 --batch 16 -q");
  ASSERT_EQ(r2.status, 0) << r2.output;
  const rawnifti::Header w = rawnifti::read(out2);
  EXPECT_EQ(w.sform_code, 2);
  EXPECT_EQ(w.qform_code, 1);
  EXPECT_EQ(w.srow, h.srow);
  EXPECT_EQ(w.quatern, h.quatern);
  EXPECT_EQ(w.qoffset, h.qoffset);
  // Read back, the output lies on the sform's grid: the input's.
  const Volume res2 = read_nifti(out2);
  EXPECT_LT(res2.geom.max_corner_distance(in.geom), 1e-3);
  std::size_t inside = 0;
  for (std::size_t n = 0; n < res2.data.size(); ++n) {
    if (m.data[n] == 0) {
      ASSERT_EQ(res2.data[n], 0.0f);
    }
    inside += m.data[n] != 0 && res2.data[n] > 0;
  }
  EXPECT_GT(inside, 100u);
  fs::remove_all(dir);
}

// Scans are harmonized one at a time, each seeded by its own image: a scan's
// output does not depend on the other scans of the call nor on its place
// there, and a bad input anywhere in the list stops the run before the first
// output.
TEST(Apply, EachScanIsSampledOnItsOwn) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_apply_each_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run("simulate " + dir + "/cohort --subjects 2 --resolution 3 -q").status, 0);
  auto scan = [&](const std::string& sub) {
    return dir + "/cohort/" + sub + "/ses-1p5T/anat/" + sub + "_ses-1p5T_T1w.nii.gz";
  };
  auto mask = [&](const std::string& sub) {
    return dir + "/cohort/derivatives/truth/" + sub + "/ses-1p5T/anat/" + sub + "_ses-1p5T_desc-brain_mask.nii.gz";
  };
  save_tiny_model(dir + "/model.pt", "1p5T-to-3T", nlohmann::json::object(),
                  {{"spacing_mm", 3.0}, {"slice_height", 64}, {"slice_width", 64}, {"n4", false}});
  const std::string a = " --input " + scan("sub-001") + " --mask " + mask("sub-001");
  const std::string b = " --input " + scan("sub-002") + " --mask " + mask("sub-002");
  // The untrained network's output is its input noise (clamped), so each voxel shows which noise it was given.
  const std::string opts = " --steps 2 --batch 7 -q --end-noise 0.02 --model " + dir + "/model.pt";
  ASSERT_EQ(run("apply" + opts + a + b + " --output " + dir + "/a2.nii.gz --output " + dir + "/b2.nii.gz").status, 0);
  ASSERT_EQ(run("apply" + opts + b + " --output " + dir + "/b1.nii.gz").status, 0);
  ASSERT_EQ(run("apply" + opts + a + " --output " + dir + "/a1.nii.gz").status, 0);
  const Volume a1 = read_nifti(dir + "/a1.nii.gz"), a2 = read_nifti(dir + "/a2.nii.gz");
  const Volume b1 = read_nifti(dir + "/b1.nii.gz"), b2 = read_nifti(dir + "/b2.nii.gz");
  std::size_t brain = 0, mid = 0;
  for (float v : b1.data) brain += v != 0.0f, mid += v > 0.05f && v < 0.95f;
  EXPECT_GT(brain, 100u);
  EXPECT_GT(mid, 100u);  // the end noise
  EXPECT_EQ(b1.data, b2.data) << "sub-002's output changed with sub-001 before it";
  EXPECT_EQ(a1.data, a2.data) << "sub-001's output changed with sub-002 after it";
  EXPECT_NE(a1.data, b1.data);
  // Another seed, another output.
  ASSERT_EQ(run("apply" + opts + b + " --seed 8 --output " + dir + "/b3.nii.gz").status, 0);
  EXPECT_NE(read_nifti(dir + "/b3.nii.gz").data, b1.data);
  // The second input is not a NIfTI file: refused before sub-001's output is written.
  { std::ofstream(dir + "/bad.nii.gz") << "not a NIfTI file"; }
  const Result bad = run("apply" + opts + a + " --input " + dir + "/bad.nii.gz --output " + dir +
                         "/a4.nii.gz --output " + dir + "/b4.nii.gz --mask " + mask("sub-002"));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("bad.nii.gz"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir + "/a4.nii.gz"));
  fs::remove_all(dir);
}

TEST(Apply, OutputsThatWouldCollideAreRefusedBeforeAnyWork) {
  const fs::path dir = fs::temp_directory_path() / ("harmonize_apply_names_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  // Two inputs with one file name under --output-dir (the model is never read).
  auto r = run("apply --model " + (dir / "none.pt").string() + " --input " + (dir / "a/scan.nii.gz").string() +
               " --input " + (dir / "b/scan.nii.gz").string() + " --output-dir " + (dir / "out").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("would both be written"), std::string::npos) << r.output;
  // The same output twice, spelled differently.
  r = run("apply --model " + (dir / "none.pt").string() + " --input " + (dir / "a/scan.nii.gz").string() + " --input " +
          (dir / "b/scan.nii.gz").string() + " --output " + (dir / "x.nii.gz").string() + " --output " +
          (dir / "a/../x.nii.gz").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("would both be written"), std::string::npos) << r.output;
  // An existing sidecar is not overwritten without --force.
  std::ofstream(dir / "y.json") << "{}";
  r = run("apply --model " + (dir / "none.pt").string() + " --input " + (dir / "a/scan.nii.gz").string() +
          " --output " + (dir / "y.nii.gz").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("y.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;
  // A name longer than file systems allow, before any work.
  r = run("apply --model " + (dir / "none.pt").string() + " --input " + (dir / "a/scan.nii.gz").string() +
          " --output " + (dir / (std::string(250, 'z') + ".nii.gz")).string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("257 bytes long; file systems allow 255"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

TEST(Apply, AHeadInAWideFieldOfViewIsWorkedOnInItsBox) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_apply_wide_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run("simulate " + dir + "/cohort --subjects 1 --resolution 3 -q").status, 0);
  const Volume scan = read_nifti(dir + "/cohort/sub-001/ses-3T/anat/sub-001_ses-3T_T1w.nii.gz");
  const Mask mask =
      read_nifti_mask(dir + "/cohort/derivatives/truth/sub-001/ses-3T/anat/sub-001_ses-3T_desc-brain_mask.nii.gz");
  // The scan in the middle of a field of view 2.5 times as wide along each axis.
  Geometry wide = scan.geom;
  wide.nifti = nullptr;
  std::array<std::size_t, 3> lo{};
  for (int a = 0; a < 3; ++a) {
    lo[a] = scan.geom.size[a] * 3 / 4;
    wide.size[a] = scan.geom.size[a] * 5 / 2;
  }
  wide.origin = scan.geom.index_to_world({-double(lo[0]), -double(lo[1]), -double(lo[2])});
  Volume v(wide, 0.0f);
  Mask m(wide, 0);
  for (std::size_t k = 0; k < scan.geom.size[2]; ++k)
    for (std::size_t j = 0; j < scan.geom.size[1]; ++j)
      for (std::size_t i = 0; i < scan.geom.size[0]; ++i) {
        v.at(i + lo[0], j + lo[1], k + lo[2]) = scan.at(i, j, k);
        m.at(i + lo[0], j + lo[1], k + lo[2]) = mask.at(i, j, k);
      }
  write_nifti(dir + "/wide.nii.gz", v);
  write_nifti(dir + "/wide_mask.nii.gz", m);
  save_tiny_model(dir + "/model.pt", "3T-to-1p5T");
  const Result r = run("apply --model " + dir + "/model.pt --input " + dir + "/wide.nii.gz --mask " + dir +
                       "/wide_mask.nii.gz --output " + dir + "/out.nii.gz --steps 2 --batch 16 -v");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("working on the head's box"), std::string::npos) << r.output;
  const Volume out = read_nifti(dir + "/out.nii.gz");
  EXPECT_EQ(out.geom.size, wide.size);
  EXPECT_LT(out.geom.max_corner_distance(wide), 1e-4);
  std::size_t brain = 0, harmonized = 0;
  for (std::size_t n = 0; n < out.data.size(); ++n) {
    if (!m.data[n]) {
      ASSERT_EQ(out.data[n], 0.0f) << "outside the brain, voxel " << n;
      continue;
    }
    ++brain;
    harmonized += out.data[n] > 0.0f;
  }
  // An untrained model clamps some voxels to 0; most of the brain is filled,
  // in its place (nothing outside the mask).
  EXPECT_GT(double(harmonized), 0.5 * double(brain)) << harmonized << " of " << brain;
  fs::remove_all(dir);
}

// A 1 mm scan with a 1 mm model never passes through a coarser grid: the
// output is on the input's grid and keeps 1 mm detail, which the same
// network at 2 mm cannot (its output is interpolated back from 2 mm). All
// three orientations sampled and fused; the sidecar records them.
TEST(Apply, AOneMillimetreModelFusesThreeOrientationsOnTheInputGrid) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_apply1mm_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  Geometry g;
  g.size = {40, 48, 44};
  g.spacing = {1.0, 1.0, 1.0};
  g.origin = {-20.0, -24.0, -22.0};
  Volume scan(g, 0.0f);
  Mask brain(g, 0);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.15f);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const double x = (double(i) - 19.5) / 16, y = (double(j) - 23.5) / 19, z = (double(k) - 21.5) / 17;
        const bool in = x * x + y * y + z * z < 1;
        brain.at(i, j, k) = in;
        scan.at(i, j, k) =
            in ? std::clamp(100.0f + 60.0f * float(std::sin(3 * x) * std::cos(2 * y)) + 60.0f * noise(rng), 1.0f,
                            400.0f)
               : 2.0f;
      }
  write_nifti(dir + "/scan.nii.gz", scan);
  write_nifti(dir + "/mask.nii.gz", brain);
  const nlohmann::json views = {{"version", 1},
                                {"sampling", SamplingOptions{}},
                                {"end_noise_sd", 0.0},
                                {"seed", 3},
                                {"orientations", {"sagittal", "coronal", "axial"}},
                                {"fusion", "median"}};
  save_tiny_model(dir + "/m1.pt", "1p5T-to-3T", views,
                  {{"spacing_mm", 1.0}, {"slice_height", 48}, {"slice_width", 48}, {"n4", false}});
  save_tiny_model(dir + "/m2.pt", "1p5T-to-3T", views,
                  {{"spacing_mm", 2.0}, {"slice_height", 32}, {"slice_width", 32}, {"n4", false}});
  for (const char* m : {"m1", "m2"}) {
    const Result r = run(std::string("apply --model ") + dir + "/" + m + ".pt --input " + dir + "/scan.nii.gz --mask " +
                         dir + "/mask.nii.gz --output " + dir + "/" + m + "_out.nii.gz --steps 2 --batch 64 -q");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const Volume one = read_nifti(dir + "/m1_out.nii.gz"), two = read_nifti(dir + "/m2_out.nii.gz");
  EXPECT_EQ(one.geom.size, g.size);
  EXPECT_LT(one.geom.max_corner_distance(g), 1e-4);
  EXPECT_LT(two.geom.max_corner_distance(g), 1e-4);
  // Mean squared difference of neighbours along each axis, inside the brain.
  auto roughness = [&](const Volume& v) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t k = 1; k < g.size[2]; ++k)
      for (std::size_t j = 1; j < g.size[1]; ++j)
        for (std::size_t i = 1; i < g.size[0]; ++i) {
          if (!brain.at(i, j, k) || !brain.at(i - 1, j, k) || !brain.at(i, j - 1, k) || !brain.at(i, j, k - 1))
            continue;
          const double c = v.at(i, j, k);
          sum += std::pow(c - v.at(i - 1, j, k), 2) + std::pow(c - v.at(i, j - 1, k), 2) +
                 std::pow(c - v.at(i, j, k - 1), 2);
          ++n;
        }
    return sum / double(n);
  };
  for (std::size_t n = 0; n < one.data.size(); ++n) {
    if (!brain.data[n]) {
      ASSERT_EQ(one.data[n], 0.0f) << n;
    }
  }
  EXPECT_GT(roughness(one), 0.0);
  EXPECT_LT(roughness(two), 0.6 * roughness(one)) << "2 mm " << roughness(two) << ", 1 mm " << roughness(one);
  const auto sidecar = nlohmann::json::parse(std::ifstream(dir + "/m1_out.json"));
  EXPECT_EQ(sidecar.at("Orientations"), nlohmann::json({"sagittal", "coronal", "axial"}));
  EXPECT_EQ(sidecar.at("Fusion"), "median");
  // The sagittal slices alone (the command line overrides the recipe) give another volume.
  ASSERT_EQ(run("apply --model " + dir + "/m1.pt --input " + dir + "/scan.nii.gz --mask " + dir +
                "/mask.nii.gz --output " + dir + "/sag.nii.gz --steps 2 --batch 64 --orientations sagittal -q")
                .status,
            0);
  const Volume sag = read_nifti(dir + "/sag.nii.gz");
  double diff = 0;
  for (std::size_t n = 0; n < sag.data.size(); ++n) diff = std::max(diff, double(std::abs(sag.data[n] - one.data[n])));
  EXPECT_GT(diff, 1e-3);
  const Result bad = run("apply --model " + dir + "/m1.pt --input " + dir + "/scan.nii.gz --mask " + dir +
                         "/mask.nii.gz --output " + dir + "/bad.nii.gz --orientations oblique -q");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("oblique"), std::string::npos) << bad.output;
  fs::remove_all(dir);
}

TEST(Apply, TimestepsGivenOneByOneAreTheSamplersAndTheRecipeCarriesThem) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_applyts_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  Geometry g;
  g.size = {24, 28, 26};
  g.spacing = {2.0, 2.0, 2.0};
  Volume scan(g, 2.0f);
  Mask brain(g, 0);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const double x = (double(i) - 11.5) / 10, y = (double(j) - 13.5) / 12, z = (double(k) - 12.5) / 11;
        const bool in = x * x + y * y + z * z < 1;
        brain.at(i, j, k) = in;
        if (in) scan.at(i, j, k) = float(100 + 50 * std::sin(4 * x) + 30 * y);
      }
  write_nifti(dir + "/scan.nii.gz", scan);
  write_nifti(dir + "/mask.nii.gz", brain);
  SamplingOptions low;
  low.sampler = Sampler::Ddpm;  // ancestral: the untrained network's zero output makes DDIM a mere rescaling
  low.timesteps = {4, 999};
  low.steps = 2;
  const nlohmann::json recipe = {
      {"version", 1},      {"sampling", low}, {"end_noise_sd", 0.0}, {"seed", 3}, {"orientations", {"sagittal"}},
      {"fusion", "median"}};
  save_tiny_model(dir + "/m.pt", "1p5T-to-3T", recipe,
                  {{"spacing_mm", 2.0}, {"slice_height", 32}, {"slice_width", 32}, {"n4", false}});
  const std::string base = "apply --model " + dir + "/m.pt --input " + dir + "/scan.nii.gz --mask " + dir +
                           "/mask.nii.gz --batch 64 -q --output " + dir + "/";
  auto out = [&](const std::string& name, const std::string& opts) {
    const Result r = run(base + name + ".nii.gz " + opts);
    EXPECT_EQ(r.status, 0) << r.output;
    return read_nifti(dir + "/" + name + ".nii.gz");
  };
  auto max_diff = [](const Volume& a, const Volume& b) {
    double d = 0;
    for (std::size_t n = 0; n < a.data.size(); ++n) d = std::max(d, double(std::abs(a.data[n] - b.data[n])));
    return d;
  };
  // Given one by one, the trailing spacing's timesteps are the trailing spacing.
  const Volume listed = out("listed", "--timesteps 499,999");
  const Volume trailing = out("trailing", "--steps 2 --step-spacing trailing");
  EXPECT_EQ(max_diff(listed, trailing), 0.0);
  // The recipe's timesteps are used when none are given, and are what the sidecar records.
  const Volume by_recipe = out("recipe", "");
  EXPECT_EQ(max_diff(by_recipe, out("given", "--timesteps 4,999")), 0.0);
  EXPECT_GT(max_diff(by_recipe, trailing), 1e-3);  // 4 is not 499: another chain
  const auto sidecar = nlohmann::json::parse(std::ifstream(dir + "/recipe.json"));
  EXPECT_EQ(sidecar.at("Sampling").at("timesteps"), nlohmann::json({4, 999}));
  for (const char* bad : {"--timesteps 999,4", "--timesteps 4,1000", "--timesteps 4,999 --steps 2"}) {
    const Result r = run(base + "bad.nii.gz " + bad);
    EXPECT_NE(r.status, 0) << bad;
    EXPECT_FALSE(fs::exists(dir + "/bad.nii.gz")) << bad;
  }
  fs::remove_all(dir);
}
