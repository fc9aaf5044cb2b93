// harmonize bids end to end on a simulated 3 mm dataset and a tiny untrained
// model that carries a recipe: the BIDS-Apps call, the derivatives it writes
// (names, geometry, sidecars), resuming, the group QC, bad calls, and the
// official BIDS validator on the input and on the derivatives.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli/run_cli.hpp"
#include "cli/tiny_model.hpp"
#include "core/files.hpp"
#include "core/overlap.hpp"
#include "harmonize/recipe.hpp"
#include "io/nifti.hpp"
#include "simulate/scanner_form.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {

using Result = harmonize::test::CliResult;
Result run(const std::string& args) { return harmonize::test::run_cli(args); }

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text_file(path)); }

// Every file below root, relative, sorted.
std::vector<std::string> files_below(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).string());
  std::sort(files.begin(), files.end());
  return files;
}

// The official validator (tools/bids-validator, installed by scripts/install-deps.sh).
const std::string kValidator =
    std::string(HARMONIZE_SOURCE_DIR) + "/tools/bids-validator/node_modules/.bin/bids-validator";

Result run_validator(const std::string& args) { return harmonize::test::run_shell(kValidator + " " + args); }

class BidsApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("harmonize_bids_cli_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const Result r = run("simulate " + dir_ + "/raw --subjects 2 --resolution 3 -q");
    ASSERT_EQ(r.status, 0) << r.output;
    Recipe recipe;
    recipe.sampling.sampler = Sampler::Ddim;
    recipe.sampling.steps = 2;
    recipe.sampling.batch = 16;
    recipe.seed = 3;
    recipe.made_by = "test";
    recipe.method = "tiny";
    // Trained, as it were, on 3 mm images in 64x64 slices: a few seconds per scan.
    test::save_tiny_model(dir_ + "/model.pt", "1p5T-to-3T", to_json(recipe),
                          {{"spacing_mm", 3.0}, {"slice_height", 64}, {"slice_width", 64}});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string raw() { return dir_ + "/raw"; }
  static std::string model() { return dir_ + "/model.pt"; }
  // Masks from the simulation's truth keep the test fast (no template registration).
  static std::string masks() { return dir_ + "/raw/derivatives/truth"; }
  static std::string dir_;
};
std::string BidsApp::dir_;

}  // namespace

TEST_F(BidsApp, ParticipantWritesDerivativesOnTheInputGridAndSkipsWhatIsDone) {
  const std::string out = dir_ + "/derivatives";
  const std::string call = "bids " + raw() + " " + out + " participant --model " + model() + " --masks " + masks() +
                           " --session 1p5T --threads 2";
  Result r = run(call + " --participant-label 001 -q");
  ASSERT_EQ(r.status, 0) << r.output;

  const std::string anat = out + "/sub-001/ses-1p5T/anat/";
  std::vector<std::string> files;
  for (const auto& f : files_below(out))
    if (f.rfind("code/", 0) != 0) files.push_back(f);
  EXPECT_EQ(files, (std::vector<std::string>{"README", "dataset_description.json",
                                             "sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.json",
                                             "sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz",
                                             "sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-harmonized_T1w.json",
                                             "sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-harmonized_T1w.nii.gz"}));
  const auto desc = read_json(out + "/dataset_description.json");
  EXPECT_EQ(desc["DatasetType"], "derivative");
  EXPECT_EQ(desc["GeneratedBy"][0]["Name"], "harmonize");
  EXPECT_FALSE(desc["GeneratedBy"][0]["Version"].get<std::string>().empty());
  EXPECT_NE(desc["GeneratedBy"][0]["Description"].get<std::string>().find("participant --model"), std::string::npos);
  EXPECT_EQ(desc["SourceDatasets"][0]["URL"], "file://" + fs::absolute(raw()).lexically_normal().string());

  // On the input's grid, 0 outside the mask used, the mask as given.
  const std::string in = raw() + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz";
  const Volume input = read_nifti(in), out_image = read_nifti(anat + "sub-001_ses-1p5T_desc-harmonized_T1w.nii.gz");
  const Mask used = read_nifti_mask(anat + "sub-001_ses-1p5T_desc-brain_mask.nii.gz");
  const Mask truth = read_nifti_mask(masks() + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz");
  EXPECT_EQ(out_image.geom.size, input.geom.size);
  EXPECT_LT(out_image.geom.max_corner_distance(input.geom), 1e-4);
  EXPECT_EQ(used.data, truth.data);
  std::size_t inside = 0, nonzero = 0;
  for (std::size_t n = 0; n < used.data.size(); ++n) {
    if (!used.data[n]) {
      ASSERT_EQ(out_image.data[n], 0.0f) << n;
    } else {
      ++inside;
      nonzero += out_image.data[n] > 0;
    }
  }
  EXPECT_GT(nonzero, inside / 2);

  // The sidecar says where the image came from and how it was made.
  const auto side = read_json(anat + "sub-001_ses-1p5T_desc-harmonized_T1w.json");
  EXPECT_EQ(side["Sources"][0], "bids:raw:sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz");
  EXPECT_EQ(side["Recipe"]["made_by"], "test");
  EXPECT_EQ(side["Sampling"]["sampler"], "ddim");
  EXPECT_EQ(side["Sampling"]["steps"], 2);
  EXPECT_TRUE(side["Seed"].is_number());
  EXPECT_EQ(read_json(anat + "sub-001_ses-1p5T_desc-brain_mask.json")["Type"], "Brain");

  // Again: sub-001 is done and skipped (its files untouched); without a
  // label, sub-002 is harmonized and sub-001 still skipped.
  const auto stamp = fs::last_write_time(anat + "sub-001_ses-1p5T_desc-harmonized_T1w.nii.gz");
  r = run(call + " --participant-label sub-001");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("sub-001: done already"), std::string::npos) << r.output;
  r = run(call);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1 scan(s) harmonized"), std::string::npos) << r.output;
  EXPECT_EQ(fs::last_write_time(anat + "sub-001_ses-1p5T_desc-harmonized_T1w.nii.gz"), stamp);
  EXPECT_TRUE(fs::exists(out + "/sub-002/ses-1p5T/anat/sub-002_ses-1p5T_desc-harmonized_T1w.nii.gz"));
  // A scan's output does not depend on which participants shared the call.
  fs::remove_all(out + "/sub-001");
  r = run(call);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_nifti(anat + "sub-001_ses-1p5T_desc-harmonized_T1w.nii.gz").data, out_image.data);
  // --seed replaces the recipe's seed: another draw, recorded in the sidecar.
  const std::string reseeded = dir_ + "/reseeded";
  r = run("bids " + raw() + " " + reseeded + " participant --model " + model() + " --masks " + masks() +
          " --session 1p5T --participant-label 001 --seed 9 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string reseeded_image = reseeded + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-harmonized_T1w";
  EXPECT_NE(read_nifti(reseeded_image + ".nii.gz").data, out_image.data);
  EXPECT_NE(read_json(reseeded_image + ".json")["Seed"], side["Seed"]);

  // group: one QC row per harmonized scan, a figure each, and the report.
  r = run("bids " + raw() + " " + out + " group -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string tsv = read_text_file(out + "/group/qc.tsv");
  EXPECT_EQ(std::count(tsv.begin(), tsv.end(), '\n'), 3);
  EXPECT_NE(tsv.find("sub-002\tses-1p5T\tsub-002/ses-1p5T/anat/sub-002_ses-1p5T_desc-harmonized_T1w.nii.gz"),
            std::string::npos)
      << tsv;
  EXPECT_TRUE(fs::exists(out + "/group/figures/sub-001_ses-1p5T.png"));
  EXPECT_NE(read_text_file(out + "/group/report.html").find("figures/sub-002_ses-1p5T.png"), std::string::npos);

  // Every name follows the BIDS derivatives pattern: sub[_ses]_desc-<label>_<suffix>.
  const std::regex derivative(R"(sub-[0-9A-Za-z]+/(ses-[0-9A-Za-z]+/)?anat/sub-[0-9A-Za-z]+(_ses-[0-9A-Za-z]+)?)"
                              R"(_desc-(harmonized_T1w|brain_mask)\.(nii\.gz|json))");
  for (const auto& f : files_below(out)) {
    if (f.rfind("sub-", 0) == 0) {
      EXPECT_TRUE(std::regex_match(f, derivative)) << f;
    }
  }

  // The official validator: no error on the raw dataset; on the derivatives,
  // no error beyond the two that its version 1.x (the npm registry's) raises
  // for any derivatives dataset, whose names it does not know (see
  // tests/bids/validator-derivatives.json and docs/BIDS.md).
  if (!fs::exists(kValidator))
    GTEST_SKIP() << "no BIDS validator at " << kValidator << " (scripts/install-deps.sh installs it with npm)";
  r = run_validator(raw());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 - Subjects"), std::string::npos) << r.output;  // it did look at the data
  EXPECT_EQ(r.output.find("[ERR]"), std::string::npos) << r.output;
  r = run_validator(out + " --config " + std::string(HARMONIZE_SOURCE_DIR) + "/tests/bids/validator-derivatives.json");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("[ERR]"), std::string::npos) << r.output;
}

TEST_F(BidsApp, SlurmScriptsRunUnchangedWithoutSlurm) {
  const std::string out = dir_ + "/slurm";
  Result r = run("bids " + raw() + " " + out + " participant --model " + model() + " --masks " + masks() +
                 " --session ses-1p5T --slurm --slurm-cpus 1 --slurm-mem 2G --slurm-time 00:20:00 -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string dir = out + "/code/slurm";
  EXPECT_EQ(read_text_file(dir + "/participants.txt"), "sub-001\nsub-002\n");
  const std::string array = read_text_file(dir + "/participant.sbatch");
  for (const char* line : {"#SBATCH --array=1-2\n", "#SBATCH --cpus-per-task=1\n", "#SBATCH --mem=2G\n",
                           "#SBATCH --time=00:20:00\n", "--participant-label \"$label\"", "--session 'ses-1p5T'"})
    EXPECT_NE(array.find(line), std::string::npos) << line << " in\n" << array;
  EXPECT_NE(read_text_file(dir + "/submit.sh").find("--dependency=afterok:"), std::string::npos);
  EXPECT_FALSE(fs::exists(out + "/sub-001"));  // written, not run

  // On a workstation: task 2 by hand is participant 2, then the group level.
  r = harmonize::test::run_shell("SLURM_ARRAY_TASK_ID=2 bash " + dir + "/participant.sbatch");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(out + "/sub-002/ses-1p5T/anat/sub-002_ses-1p5T_desc-harmonized_T1w.nii.gz"));
  EXPECT_FALSE(fs::exists(out + "/sub-001"));
  r = harmonize::test::run_shell("SLURM_ARRAY_TASK_ID=3 bash " + dir + "/participant.sbatch");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no participant on line 3"), std::string::npos) << r.output;
  r = harmonize::test::run_shell("bash " + dir + "/group.sbatch");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string tsv = read_text_file(out + "/group/qc.tsv");
  EXPECT_EQ(std::count(tsv.begin(), tsv.end(), '\n'), 2) << tsv;
}

// A scan as a DICOM converter writes it: the simulated 1.5 T scan stored in
// another axis order (axes permuted and two reversed), tilted 15 and 7 degrees
// in the world (an oblique acquisition), with 30 mm of neck below the head,
// in integer scanner units 0..4095. apply and bids take it as it is (brain by
// template registration) and give an image that overlays it: same grid and
// geometry, the brain where the truth puts it, nothing in the neck.
TEST_F(BidsApp, AScanAsAConverterWritesItOverlaysItsInput) {
  const std::string root = dir_ + "/scanner";
  fs::create_directories(root + "/sub-01/anat");
  const Volume scan = read_nifti(raw() + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz");
  const Mask truth = read_nifti_mask(masks() + "/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz");
  const ScannerFormScan form = scanner_form(scan, truth);  // 10 slices of neck: 30 mm at 3 mm
  const Mask& head_truth = form.brain;
  const std::string input = root + "/sub-01/anat/sub-01_T1w.nii.gz";
  write_nifti(input, form.image, DiskType::UInt16);
  std::ofstream(root + "/dataset_description.json") << R"({"Name": "scanner form", "BIDSVersion": "1.8.0"})";

  // bids: the mask it used is the truth's brain, on the input's grid.
  Result r = run("bids " + root + " " + root + "/derivatives/harmonize participant --model " + model() + " -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string anat = root + "/derivatives/harmonize/sub-01/anat/";
  const Volume in = read_nifti(input), out = read_nifti(anat + "sub-01_desc-harmonized_T1w.nii.gz");
  const Mask used = read_nifti_mask(anat + "sub-01_desc-brain_mask.nii.gz");
  EXPECT_EQ(out.geom.size, in.geom.size);
  EXPECT_LT(out.geom.max_corner_distance(in.geom), 1e-4);
  const double mask_dice = dice(used, head_truth, 1);
  std::printf("brain mask found in the scanner-form scan: Dice %.3f to the truth\n", mask_dice);
  EXPECT_GT(mask_dice, 0.85);
  // apply: the same grid, the harmonized voxels inside the head's brain.
  r = run("apply --model " + model() + " --input " + input + " --output " + root + "/applied.nii.gz -q");
  ASSERT_EQ(r.status, 0) << r.output;
  const Volume applied = read_nifti(root + "/applied.nii.gz");
  EXPECT_EQ(applied.geom.size, in.geom.size);
  EXPECT_LT(applied.geom.max_corner_distance(in.geom), 1e-4);
  for (const Volume* v : {&out, &applied}) {
    std::size_t nonzero = 0, in_brain = 0, in_neck = 0;
    for (std::size_t m = 0; m < v->data.size(); ++m) {
      if (v->data[m] <= 0) continue;
      ++nonzero;
      in_brain += head_truth.data[m];
    }
    for (std::size_t m = 0; m < v->data.size(); ++m) in_neck += form.neck.data[m] && v->data[m] > 0;
    std::printf("%zu of %zu harmonized voxels in the truth's brain, %zu in the neck\n", in_brain, nonzero, in_neck);
    EXPECT_GT(double(in_brain), 0.9 * double(nonzero)) << in_brain << " of " << nonzero;
    EXPECT_EQ(in_neck, 0u);
  }
}

TEST_F(BidsApp, BadCallsAreRefusedWithTheReason) {
  const std::string out = dir_ + "/bad";
  Result r = run("bids " + dir_ + "/missing " + out + " participant --model " + model());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("BIDS dataset folder does not exist"), std::string::npos) << r.output;
  r = run("bids " + raw() + " " + out + " participant");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("needs --model"), std::string::npos) << r.output;
  r = run("bids " + raw() + " " + out + " participant --model " + model() + " --participant-label 042");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("no folder sub-042"), std::string::npos) << r.output;
  r = run("bids " + raw() + " " + out + " participant --model " + model() + " --session 7T");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("holds no *_T1w"), std::string::npos) << r.output;
  r = run("bids " + raw() + " " + out + " everything");
  EXPECT_NE(r.status, 0);
  r = run("bids " + raw() + " " + out + " group");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("run the participant level first"), std::string::npos) << r.output;
  // Another tool's dataset is not written into.
  r = run("bids " + raw() + " " + raw() + " participant --model " + model() + " --masks " + masks());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("harmonize bids did not write"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
}
