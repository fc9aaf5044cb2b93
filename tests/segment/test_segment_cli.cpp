// harmonize segment end to end on a coarse simulated scan (3 mm): outputs on
// the input's grid, volumes that add up, and refusals that leave nothing behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/run_cli.hpp"
#include "core/files.hpp"
#include "io/nifti.hpp"

using namespace harmonize;
using harmonize::test::run_cli;
namespace fs = std::filesystem;

namespace {
class SegmentCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("harmonize_segment_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto r = run_cli("simulate " + dir_ + "/cohort --subjects 1 --patients 0 --resolution 3 -q");
    ASSERT_EQ(r.status, 0) << r.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string scan() { return dir_ + "/cohort/sub-001/ses-3T/anat/sub-001_ses-3T_T1w.nii.gz"; }
  static std::string mask() {
    return dir_ + "/cohort/derivatives/truth/sub-001/ses-3T/anat/sub-001_ses-3T_desc-brain_mask.nii.gz";
  }
  static std::size_t files_in(const std::string& d) {
    if (!fs::exists(d)) return 0;
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(d)) n += e.is_regular_file();
    return n;
  }
  static inline std::string dir_;
};

// A 2D NIfTI-1 (dim[0] = 2), uncompressed.
void write_2d_nifti(const std::string& path) {
  char hdr[352] = {};
  auto i32 = [&](int off, int v) { std::memcpy(hdr + off, &v, 4); };
  auto i16 = [&](int off, short v) { std::memcpy(hdr + off, &v, 2); };
  auto f32 = [&](int off, float v) { std::memcpy(hdr + off, &v, 4); };
  i32(0, 348);
  i16(40, 2), i16(42, 8), i16(44, 8);
  for (int d = 2; d < 7; ++d) i16(42 + 2 * d, 1);
  i16(70, 16), i16(72, 32);
  for (int d = 0; d < 8; ++d) f32(76 + 4 * d, 1.0f);
  f32(108, 352.0f), f32(112, 1.0f);
  std::memcpy(hdr + 344, "n+1\0", 4);
  std::ofstream out(path, std::ios::binary);
  out.write(hdr, 352);
  const std::vector<float> data(64, 1.0f);
  out.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size() * 4));
}
}  // namespace

TEST_F(SegmentCli, WritesLabelsFractionsVolumesAndRecordOnTheInputGrid) {
  const std::string prefix = dir_ + "/out/sub-001_ses-3T";
  const auto r =
      run_cli("segment --input " + scan() + " --mask " + mask() + " --out-prefix " + prefix + " --write-bias -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const Volume input = read_nifti(scan());
  const Volume brain = read_nifti(mask());
  const Volume dseg = read_nifti(prefix + "_dseg.nii.gz");
  EXPECT_LT(dseg.geom.max_corner_distance(input.geom), 1e-3);
  std::array<double, 3> count{};
  for (std::size_t i = 0; i < dseg.data.size(); ++i) {
    const float l = dseg.data[i];
    ASSERT_TRUE(l == 0 || l == 1 || l == 2 || l == 3);
    ASSERT_EQ(l > 0, brain.data[i] > 0) << "labels exactly inside the mask";
    if (l > 0) count[std::size_t(l) - 1] += 1;
  }
  for (const char* c : {"CSF", "GM", "WM"}) {
    const Volume f = read_nifti(prefix + "_label-" + c + "_probseg.nii.gz");
    EXPECT_LT(f.geom.max_corner_distance(input.geom), 1e-3);
    for (float x : f.data) ASSERT_TRUE(x >= 0.0f && x <= 1.0f);
  }
  const Volume bias = read_nifti(prefix + "_desc-bias_T1w.nii.gz");
  EXPECT_LT(bias.geom.max_corner_distance(input.geom), 1e-3);
  // volumes.tsv: voxel counts as in dseg, mm^3 from the 3 mm voxels.
  std::istringstream tsv(read_text_file(prefix + "_volumes.tsv"));
  std::string line;
  std::getline(tsv, line);
  EXPECT_EQ(line.rfind("class\tlabel\tvoxels\tvolume_mm3", 0), 0u) << line;
  for (int k = 0; k < 3; ++k) {
    std::string cls;
    int label = 0;
    double voxels = 0, mm3 = 0;
    tsv >> cls >> label >> voxels >> mm3;
    std::getline(tsv, line);
    EXPECT_EQ(label, k + 1);
    EXPECT_EQ(voxels, count[k]) << cls;
    EXPECT_NEAR(mm3, voxels * 27.0, 1.0) << cls;
  }
  const auto rec = nlohmann::json::parse(read_text_file(prefix + "_segment.json"));
  EXPECT_EQ(rec["status"], "complete");
  EXPECT_GT(rec["classes"]["WM"]["volume_mm3"].get<double>(), 0);
  // Again without --force: refused, and the outputs are untouched.
  const auto again = run_cli("segment --input " + scan() + " --mask " + mask() + " --out-prefix " + prefix + " -q");
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(read_nifti(prefix + "_dseg.nii.gz").data, dseg.data);
}

TEST_F(SegmentCli, WithoutAMaskPositiveVoxelsAreBrain) {
  // A brain-extracted input: the scan times its mask.
  Volume input = read_nifti(scan());
  const Volume brain = read_nifti(mask());
  std::size_t n = 0;
  for (std::size_t i = 0; i < input.data.size(); ++i) {
    if (!(brain.data[i] > 0)) input.data[i] = 0;
    n += brain.data[i] > 0;
  }
  write_nifti(dir_ + "/brain.nii.gz", input);
  const std::string prefix = dir_ + "/nomask/x";
  const auto r = run_cli("segment --input " + dir_ + "/brain.nii.gz --out-prefix " + prefix + " --beta 0.2 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  std::size_t labelled = 0;
  for (float l : read_nifti(prefix + "_dseg.nii.gz").data) labelled += l > 0;
  EXPECT_EQ(labelled, n);
  EXPECT_EQ(nlohmann::json::parse(read_text_file(prefix + "_segment.json"))["config"]["beta"], 0.2);
}

// The bias phase runs to convergence by default; --fixed-bias is the earlier
// fixed count of residual updates, 10 unless --bias-iterations says otherwise.
TEST_F(SegmentCli, BiasPhaseConvergesByDefaultAndFixedBiasMakesItsCount) {
  const std::string prefix = dir_ + "/converge/x";
  auto r = run_cli("segment --input " + scan() + " --mask " + mask() + " --out-prefix " + prefix + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  auto rec = nlohmann::json::parse(read_text_file(prefix + "_segment.json"));
  EXPECT_EQ(rec["config"]["converge_bias"], true);
  EXPECT_EQ(rec["config"]["bias_iterations"], 100) << "the cap's default";
  EXPECT_TRUE(rec["converged"].get<bool>());
  EXPECT_GT(rec["bias_updates"].get<int>(), 1);
  EXPECT_LT(rec["bias_updates"].get<int>(), 100);
  EXPECT_LT(rec["last_bias_change"].get<double>(), rec["config"]["bias_tolerance"].get<double>());

  const std::string fixed = dir_ + "/fixed/x";
  r = run_cli("segment --input " + scan() + " --mask " + mask() + " --out-prefix " + fixed + " --fixed-bias -q");
  ASSERT_EQ(r.status, 0) << r.output;
  rec = nlohmann::json::parse(read_text_file(fixed + "_segment.json"));
  EXPECT_EQ(rec["config"]["converge_bias"], false);
  EXPECT_EQ(rec["config"]["bias_iterations"], 10) << "the count's default with --fixed-bias";
  EXPECT_EQ(rec["bias_updates"].get<int>(), 10);
  EXPECT_FALSE(rec.contains("last_bias_change"));
}

TEST_F(SegmentCli, RefusesBadInputsAndWritesNothing) {
  const std::string out = dir_ + "/refused";
  auto refused = [&](const std::string& args, const std::string& says) {
    const auto r = run_cli("segment " + args + " --out-prefix " + out + "/x -q");
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.output.find(says), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(files_in(out), 0u) << args;
  };
  refused("--input " + dir_ + "/missing.nii.gz", "missing.nii.gz");
  write_2d_nifti(dir_ + "/flat.nii");
  refused("--input " + dir_ + "/flat.nii", "flat.nii");
  // A mask of another size (the 1.5 T session's grid is the same size here, so make one).
  const Volume input = read_nifti(scan());
  Geometry g = input.geom;
  g.size[2] -= 2;
  write_nifti(dir_ + "/small_mask.nii.gz", Volume(g, 1.0f));
  refused("--input " + scan() + " --mask " + dir_ + "/small_mask.nii.gz", "small_mask.nii.gz");
  write_nifti(dir_ + "/empty_mask.nii.gz", Volume(input.geom, 0.0f));
  refused("--input " + scan() + " --mask " + dir_ + "/empty_mask.nii.gz", "no brain voxel");
  // Masks are read as every command reads them: a voxel above 0.5 is brain.
  write_nifti(dir_ + "/faint_mask.nii.gz", Volume(input.geom, 0.4f));
  refused("--input " + scan() + " --mask " + dir_ + "/faint_mask.nii.gz", "no brain voxel");
  refused("--input " + scan() + " --mask " + mask() + " --beta -1", "--beta");
  refused("--input " + scan() + " --mask " + mask() + " --bias-tolerance -1", "--bias-tolerance");
  refused("--input " + scan() + " --mask " + mask() + " --class-means 40,20,60", "--class-means");
  refused("--input " + scan() + " --mask " + mask() + " --class-means 20,40", "--class-means");
}
