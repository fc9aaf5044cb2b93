// harmonize evaluate end to end on small phantoms: the table and summary, the
// lesion rows, and volumes on another grid refused with the file named and
// nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli/run_cli.hpp"
#include "evaluate/metrics_table.hpp"
#include "evaluate/phantom.hpp"
#include "evaluate/stripes.hpp"
#include "io/nifti.hpp"

using namespace harmonize;
using harmonize::test::run_cli;
namespace fs = std::filesystem;

namespace {
class EvaluateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("harmonize_eval_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto p = test::eval_phantom(24, 2.0, 1);
    Volume source = p.image;
    for (auto& x : source.data) x = std::sqrt(x);
    write_nifti(dir_ + "/target.nii.gz", p.image);
    write_nifti(dir_ + "/source.nii.gz", source);
    write_nifti(dir_ + "/mask.nii.gz", p.brain);
    write_nifti(dir_ + "/dseg.nii.gz", p.labels);
    write_nifti(dir_ + "/perfect.nii.gz", p.image);
    const auto ref = test::eval_phantom(20, 2.2, 5);
    write_nifti(dir_ + "/ref.nii.gz", ref.image);
    write_nifti(dir_ + "/ref_mask.nii.gz", ref.brain);
    Volume shifted = p.image;
    shifted.geom.origin[2] += 2.0;
    write_nifti(dir_ + "/shifted.nii.gz", shifted);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string base() {
    return "evaluate --source " + dir_ + "/source.nii.gz --target " + dir_ + "/target.nii.gz --mask " + dir_ +
           "/mask.nii.gz --subject sub-001 --direction 1p5T-to-3T --threads 2";
  }
  static inline std::string dir_;
};
}  // namespace

TEST_F(EvaluateCli, WritesTheTableAndASummary) {
  const std::string out = dir_ + "/ok/metrics.csv";
  const auto r = run_cli(base() + " --method Perfect=" + dir_ + "/perfect.nii.gz --histogram-reference " + dir_ +
                         "/ref.nii.gz --histogram-reference-mask " + dir_ + "/ref_mask.nii.gz --truth " + dir_ +
                         "/dseg.nii.gz --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Histogram matching"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Perfect"), std::string::npos) << r.output;
  const auto rows = read_metrics_csv(out);
  // Original, Histogram matching, Perfect: 6 intensity rows each; the stripe
  // index of Target + 3; volumes and segment_sweeps for Target + 3; 12 rows vs
  // target for 3 methods and vs truth for 4.
  EXPECT_EQ(rows.size(), 3u * 6 + 4u + 4u * 4 + 3u * 12 + 4u * 12);
  EXPECT_EQ(rows[0].method, "Original");
  EXPECT_EQ(rows[6].method, "Histogram matching");
  EXPECT_TRUE(fs::exists(dir_ + "/ok/metrics_evaluate.json"));
  // An existing output needs --force.
  const auto again = run_cli(base() + " --no-segmentation --out " + out);
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
}

TEST_F(EvaluateCli, VolumesOnAnotherGridAreRefused) {
  const std::string out = dir_ + "/bad/metrics.csv";
  const std::string shifted = dir_ + "/shifted.nii.gz";
  auto r = run_cli(base() + " --method Moved=" + shifted + " --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(shifted), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("grid"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  // Another size: the reference scan given as the source.
  r = run_cli("evaluate --source " + dir_ + "/ref.nii.gz --target " + dir_ + "/target.nii.gz --mask " + dir_ +
              "/mask.nii.gz --subject s --direction d --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(dir_ + "/ref.nii.gz"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  // A reserved method name.
  r = run_cli(base() + " --method Original=" + dir_ + "/perfect.nii.gz --out " + out);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("reserved"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(dir_ + "/bad/metrics_evaluate.json"));
}

// With --truth and --lesions, the lesion rows: a dark ball in the WM is found
// in the target and in an output equal to it (Dice 1 against the target), and
// is missing from an output where it was filled with WM (Dice 0, its volume
// the difference). --lesions without --truth, or on another grid, is refused.
TEST_F(EvaluateCli, LesionRowsFromATruthLesionMask) {
  const auto p = test::eval_phantom(24, 2.0, 1);
  Volume target = p.image, filled = p.image;
  Mask lesions(p.image.geom, 0);
  const double c = 0.5 * 23;
  for (std::size_t k = 0; k < 24; ++k)
    for (std::size_t j = 0; j < 24; ++j)
      for (std::size_t i = 0; i < 24; ++i) {
        const double x = double(i) - c - 2, y = double(j) - c, z = double(k) - c;
        if (x * x + y * y + z * z > 2.6 * 2.6) continue;
        const std::size_t n = target.index(i, j, k);
        ASSERT_EQ(p.labels.data[n], 3);
        lesions.data[n] = 1;
        target.data[n] = 0.3f;  // below the WM/GM midpoint (0.8 + 0.55) / 2
      }
  write_nifti(dir_ + "/les_target.nii.gz", target);
  write_nifti(dir_ + "/les_filled.nii.gz", filled);
  write_nifti(dir_ + "/les_mask.nii.gz", lesions);
  const std::string out = dir_ + "/les/metrics.csv";
  const std::string common = "evaluate --source " + dir_ + "/les_filled.nii.gz --target " + dir_ +
                             "/les_target.nii.gz --mask " + dir_ + "/mask.nii.gz --subject sub-001 --direction d " +
                             "--no-segmentation --threads 2 --method Same=" + dir_ + "/les_target.nii.gz";
  const auto r =
      run_cli(common + " --truth " + dir_ + "/dseg.nii.gz --lesions " + dir_ + "/les_mask.nii.gz --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  auto value = [&](const std::string& method, const std::string& ref, const std::string& metric) {
    for (const auto& row : read_metrics_csv(out))
      if (row.method == method && row.reference == ref && row.metric == metric) return row.value;
    ADD_FAILURE() << "no row " << method << " / " << ref << " / " << metric;
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(value("Same", "target", "lesion_dice"), 1.0);
  EXPECT_DOUBLE_EQ(value("Same", "target", "lesion_volume_abs_diff_mm3"), 0.0);
  EXPECT_GT(value("Target", "truth", "lesion_dice"), 0.5);
  EXPECT_DOUBLE_EQ(value("Original", "target", "lesion_dice"), 0.0);
  EXPECT_NEAR(value("Original", "target", "lesion_volume_abs_diff_mm3"), value("Target", "", "lesion_volume_mm3"),
              1e-9);
  EXPECT_NEAR(value("Target", "", "lesion_contrast"), 0.3 / 0.8, 0.05);
  // Refused: without --truth, and on another grid.
  auto bad = run_cli(common + " --lesions " + dir_ + "/les_mask.nii.gz --out " + dir_ + "/les2/metrics.csv");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--lesions needs --truth"), std::string::npos) << bad.output;
  bad = run_cli(common + " --truth " + dir_ + "/dseg.nii.gz --lesions " + dir_ + "/shifted.nii.gz --out " + dir_ +
                "/les2/metrics.csv");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find(dir_ + "/shifted.nii.gz"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir_ + "/les2/metrics.csv"));
}

// --harmonized-slices-only scores every method on the sagittal slices the first
// method harmonized (apply --slice-stride): a volume equal to the target on
// every third left-right slice and 0 elsewhere then has MSE 0, as it has not
// on the whole brain.
TEST_F(EvaluateCli, HarmonizedSlicesOnlyScoresTheSlicesTheFirstMethodMade) {
  const Volume target = read_nifti(dir_ + "/target.nii.gz");
  Volume partial = target;
  const int lr = left_right_axis(target.geom);
  const auto& n = target.geom.size;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i) {
        const std::size_t slice = lr == 0 ? i : lr == 1 ? j : k;
        if (slice % 3 != 0) partial.at(i, j, k) = 0.0f;
      }
  write_nifti(dir_ + "/partial.nii.gz", partial);
  auto mse = [](const std::string& csv, const std::string& method) {
    for (const auto& r : read_metrics_csv(csv))
      if (r.method == method && r.reference == "target" && r.metric == "mse_mean") return r.value;
    return -1.0;
  };
  const std::string methods = " --method Partial=" + dir_ + "/partial.nii.gz --no-segmentation --out ";
  ASSERT_EQ(run_cli(base() + methods + dir_ + "/whole.csv").status, 0);
  const auto r = run_cli(base() + methods + dir_ + "/sliced.csv --harmonized-slices-only");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GT(mse(dir_ + "/whole.csv", "Partial"), 1e-3);
  EXPECT_NEAR(mse(dir_ + "/sliced.csv", "Partial"), 0.0, 1e-12);
  EXPECT_GT(mse(dir_ + "/sliced.csv", "Original"), 1e-4);  // the source is scored on the same slices
  const auto refused = run_cli(base() + " --method Partial=" + dir_ + "/partial.nii.gz --out " + dir_ +
                               "/x.csv --harmonized-slices-only");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("--no-segmentation"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(dir_ + "/x.csv"));
}
