// harmonize crossval end to end on a tiny cohort (4 subjects at 4 mm, the tiny
// network, a few training and sampling steps): every stage runs, the report and
// the metrics of every subject, direction and method are there, a rerun skips
// all finished work and changes nothing, and a rerun with other options is
// refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "cli/run_cli.hpp"
#include "core/files.hpp"
#include "evaluate/metrics_table.hpp"
#include "io/nifti.hpp"

namespace fs = std::filesystem;
using harmonize::test::run_cli;

TEST(Crossval, TinyCohortEndToEndAndResumable) {
  const std::string dir = (fs::temp_directory_path() / ("harmonize_crossval_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run_cli("simulate " + dir + "/cohort --subjects 4 --resolution 4 -q --threads 2").status, 0);
  const std::string args =
      "crossval " + dir + "/cohort " + dir + "/cv --folds 2 --spacing 4 --slice-size 48 " + "--mask-dir " + dir +
      "/cohort/derivatives/truth --no-deformable --preset tiny " +
      "--train-steps 6 --batch 2 --sampler ddim --steps 3 --end-noise auto --calibrate --volume-fit --threads 2";
  auto r = run_cli(args);
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f :
       {"report.md", "report.html", "metrics.csv", "plan.json", "state.json", "tables/table1.csv",
        "harmonize_crossval.json", "prep/dataset.json", "models/fold-1_1p5T-to-3T/model.pt",
        "models/fold-2_3T-to-1p5T/model.pt", "models/fold-1_1p5T-to-3T/calibration.json",
        "models/fold-2_3T-to-1p5T/calibration.json", "models/fold-2_3T-to-1p5T/calibration-volumes.json",
        "harmonized/3T-to-1p5T/sub-001_desc-volumefit_T1w.nii.gz", "harmonized/3T-to-1p5T/sub-001_desc-bare_T1w.nii.gz",
        "tables/table4.csv"})
    EXPECT_TRUE(fs::exists(dir + "/cv/" + f)) << f;
  // The calibration: a monotone map fitted on the fold's training subjects (the other fold).
  const auto cal =
      nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/models/fold-1_1p5T-to-3T/calibration.json"));
  const auto from = cal.at("from").get<std::vector<double>>(), to = cal.at("to").get<std::vector<double>>();
  ASSERT_EQ(from.size(), to.size());
  ASSERT_GE(from.size(), 10u);
  for (std::size_t i = 1; i < from.size(); ++i) EXPECT_TRUE(from[i] > from[i - 1] && to[i] >= to[i - 1]) << i;
  EXPECT_EQ(cal.at("training_subjects").size(), 2u);
  // --volume-fit: the noise level chosen among those tried, each with its score.
  const auto fit =
      nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/models/fold-2_3T-to-1p5T/calibration-volumes.json"));
  const double sd = fit.at("end_noise").get<double>();
  EXPECT_TRUE(sd >= 0.0 && sd <= 0.1) << sd;
  ASSERT_GE(fit.at("tried").size(), 6u);
  bool chosen_tried = false;
  for (const auto& t : fit.at("tried")) {
    chosen_tried |= t.at("end_noise").get<double>() == sd;
    EXPECT_GE(t.at("mean_abs_volume_difference_mm3").get<double>(), 0.0);
  }
  EXPECT_TRUE(chosen_tried);
  EXPECT_NE(r.output.find("sampling ends at noise sd"), std::string::npos) << r.output;

  const auto rows = harmonize::read_metrics_csv(dir + "/cv/metrics.csv");
  std::set<std::string> subjects, methods, directions, metrics;
  bool truth = false;
  for (const auto& row : rows) {
    subjects.insert(row.subject), methods.insert(row.method), directions.insert(row.direction);
    metrics.insert(row.metric);
    truth |= row.reference == "truth";
  }
  // The claim measured: stripes for every volume, lesion-like voxels against the truth.
  EXPECT_TRUE(metrics.count("stripe_index"));
  EXPECT_TRUE(metrics.count("lesion_false_mm3"));
  EXPECT_EQ(subjects.size(), 4u);
  EXPECT_EQ(directions, (std::set<std::string>{"1p5T-to-3T", "3T-to-1p5T"}));
  for (const char* m : {"Original", "Histogram matching", "harmonize DM (bare)", "harmonize DM",
                        "harmonize DM (noise fitted to volumes)", "Target"})
    EXPECT_TRUE(methods.count(m)) << m;
  EXPECT_TRUE(truth) << "the simulated truth was not used";
  const std::string md = harmonize::read_text_file(dir + "/cv/report.md");
  EXPECT_NE(md.find("Table 1"), std::string::npos);
  EXPECT_NE(md.find("Anatomy kept"), std::string::npos);
  EXPECT_NE(md.find("paired bootstrap"), std::string::npos);
  EXPECT_NE(md.find("figures/1p5T-to-3T_sub-001_slices.png"), std::string::npos);
  EXPECT_NE(md.find("`--end-noise auto`"), std::string::npos);
  EXPECT_NE(md.find("`--calibrate`"), std::string::npos);
  EXPECT_NE(md.find("`--volume-fit`"), std::string::npos);

  // `apply --model M` alone gives the same voxels as crossval: the model file
  // carries its recipe (sampler, steps, seed, end noise, quantile map), and a
  // scan's sampler and end noise are keyed by its image (the fold's test
  // subjects go in reverse order here: their place does not matter). An
  // option given on the command line overrides its part and is recorded.
  {
    const auto plan = nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/plan.json"));
    const auto folds = plan.at("folds").get<std::vector<std::vector<std::string>>>();
    const int f = folds[0].front() == "sub-001" ? 0 : 1;
    ASSERT_EQ(folds[f].front(), "sub-001");
    const std::string model = dir + "/cv/models/fold-" + std::to_string(f + 1) + "_1p5T-to-3T";
    const auto recipe = nlohmann::json::parse(harmonize::read_text_file(model + "/harmonize.json"));
    std::string inputs;
    for (auto it = folds[f].rbegin(); it != folds[f].rend(); ++it) {
      const std::string& sub = *it;
      inputs += " --input " + dir + "/cv/prep/" + sub + "/ses-1p5T/anat/" + sub +
                "_ses-1p5T_space-ses3T_desc-preproc_T1w.nii.gz --mask " + dir + "/cv/prep/" + sub + "/ses-3T/anat/" +
                sub + "_ses-3T_desc-brain_mask.nii.gz";
    }
    const std::string name = "/sub-001_ses-1p5T_space-ses3T_desc-preproc_T1w_harmonized";
    const auto a = run_cli("apply --model " + model + "/model.pt --preprocessed --threads 2 --output-dir " + dir +
                           "/applied" + inputs);
    ASSERT_EQ(a.status, 0) << a.output;
    EXPECT_NE(a.output.find("model recipe (crossval"), std::string::npos) << a.output;
    const auto applied = harmonize::read_nifti(dir + "/applied" + name + ".nii.gz");
    const auto evaluated = harmonize::read_nifti(dir + "/cv/harmonized/1p5T-to-3T/sub-001_desc-harmonized_T1w.nii.gz");
    ASSERT_TRUE(harmonize::same_grid(applied.geom, evaluated.geom));
    std::size_t brain = 0, differ = 0;
    for (std::size_t n = 0; n < applied.data.size(); ++n) {
      brain += evaluated.data[n] != 0.0f;
      differ += applied.data[n] != evaluated.data[n];
    }
    EXPECT_GT(brain, 1000u);
    EXPECT_EQ(differ, 0u) << "of " << applied.data.size() << " voxels";
    const std::string other = folds[f].back();  // the first input
    EXPECT_EQ(
        harmonize::read_nifti(dir + "/applied/" + other + "_ses-1p5T_space-ses3T_desc-preproc_T1w_harmonized.nii.gz")
            .data,
        harmonize::read_nifti(dir + "/cv/harmonized/1p5T-to-3T/" + other + "_desc-harmonized_T1w.nii.gz").data);
    const auto sidecar = nlohmann::json::parse(harmonize::read_text_file(dir + "/applied" + name + ".json"));
    EXPECT_EQ(sidecar.at("Recipe").at("seed"), recipe.at("seed"));
    EXPECT_TRUE(sidecar.at("QuantileMap").get<bool>());
    EXPECT_TRUE(sidecar.at("RecipeOverrides").empty());
    // Overridden: no quantile map and no end noise gives the bare output crossval evaluated.
    const auto b = run_cli("apply --model " + model + "/model.pt --preprocessed --calibration none --end-noise none " +
                           "--threads 2 -q --output-dir " + dir + "/bare" + inputs);
    ASSERT_EQ(b.status, 0) << b.output;
    const auto bare = harmonize::read_nifti(dir + "/bare" + name + ".nii.gz");
    const auto bare_cv = harmonize::read_nifti(dir + "/cv/harmonized/1p5T-to-3T/sub-001_desc-bare_T1w.nii.gz");
    EXPECT_EQ(bare.data, bare_cv.data);
    EXPECT_NE(bare.data, applied.data);
    const auto bare_sidecar = nlohmann::json::parse(harmonize::read_text_file(dir + "/bare" + name + ".json"));
    EXPECT_EQ(bare_sidecar.at("RecipeOverrides"), nlohmann::json({"--calibration", "--end-noise"}));
  }

  // A rerun does no work again and leaves the results as they were.
  const std::string before = harmonize::read_text_file(dir + "/cv/metrics.csv");
  r = run_cli(args);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("preprocessing: done before"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("[2/5] training fold 1/2 1p5T-to-3T ("), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("harmonizing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("evaluation: done before"), std::string::npos) << r.output;
  EXPECT_EQ(harmonize::read_text_file(dir + "/cv/metrics.csv"), before);

  // Lost work is redone, and only that: one subject's harmonized scan, the
  // same voxels again (the second of its fold: its sampler and end noise do
  // not depend on which subjects are left to do).
  {
    const auto plan = nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/plan.json"));
    const std::string lost = plan.at("folds").at(0).at(1).get<std::string>();
    const std::string path = dir + "/cv/harmonized/3T-to-1p5T/" + lost + "_desc-harmonized_T1w.nii.gz";
    const auto before_loss = harmonize::read_nifti(path);
    fs::remove(path);
    fs::remove(dir + "/cv/metrics/3T-to-1p5T/" + lost + "_metrics.csv");
    r = run_cli(args);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("harmonizing 1 subjects"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("calibrating"), std::string::npos) << "the saved calibration is reused: " << r.output;
    EXPECT_NE(r.output.find("evaluating 1 subject"), std::string::npos) << r.output;
    EXPECT_EQ(harmonize::read_nifti(path).data, before_loss.data);
    EXPECT_EQ(harmonize::read_text_file(dir + "/cv/metrics.csv"), before);
  }

  // The learned baselines added to the finished run (issue 17): only their
  // work is done; the model's results stay as they were.
  {
    auto dm_rows = [&] {
      std::vector<std::string> out;
      for (const auto& row : harmonize::read_metrics_csv(dir + "/cv/metrics.csv"))
        if (row.method == "harmonize DM" || row.method == "Histogram matching")
          out.push_back(row.subject + row.direction + row.method + row.reference + row.metric + row.cls + " " +
                        std::to_string(row.value));
      return out;
    };
    const auto dm_before = dm_rows();
    r = run_cli(args + " --baselines regression,gan");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("baselines added to the plan"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("[2/5] training fold 1/2 1p5T-to-3T ("), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("[2/5] training fold 2/2 3T-to-1p5T pGAN-like ("), std::string::npos) << r.output;
    for (const char* f : {"models/fold-1_1p5T-to-3T_regression/model.pt", "models/fold-2_3T-to-1p5T_gan/model.pt",
                          "models/fold-2_3T-to-1p5T_gan/checkpoints/last.pt", "models/baseline-budget_gan.json",
                          "harmonized/3T-to-1p5T/sub-001_desc-gan_T1w.nii.gz",
                          "harmonized/1p5T-to-3T/sub-004_desc-regression_T1w.nii.gz"})
      EXPECT_TRUE(fs::exists(dir + "/cv/" + f)) << f;
    const auto budget = nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/models/baseline-budget_gan.json"));
    EXPECT_EQ(budget.at("model_steps").get<int>(), 6);
    EXPECT_GT(budget.at("baseline_s_per_step").get<double>(), 0.0);
    const auto config =
        nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/models/fold-2_3T-to-1p5T_gan/config.json"));
    EXPECT_EQ(config.at("objective"), "gan");
    EXPECT_EQ(config.at("max_steps"), budget.at("steps"));
    EXPECT_EQ(config.at("preset"), "tiny");
    std::set<std::string> all;
    for (const auto& row : harmonize::read_metrics_csv(dir + "/cv/metrics.csv")) all.insert(row.method);
    EXPECT_TRUE(all.count("DeepHarmony-like") && all.count("pGAN-like") && all.count("harmonize DM"));
    EXPECT_EQ(dm_rows(), dm_before);
    const std::string with = harmonize::read_text_file(dir + "/cv/report.md");
    EXPECT_NE(with.find("| pGAN-like |"), std::string::npos);
    EXPECT_NE(with.find("PatchGAN discriminator"), std::string::npos);
    // Run again without the option: the plan keeps its baselines, nothing is redone.
    r = run_cli(args);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find(" steps)"), std::string::npos) << r.output;  // no training started
    EXPECT_EQ(r.output.find("harmonizing"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("evaluation: done before"), std::string::npos) << r.output;
    auto plan = nlohmann::json::parse(harmonize::read_text_file(dir + "/cv/plan.json"));
    EXPECT_EQ(plan.at("baselines"), nlohmann::json({"regression", "gan"}));
    // A plan.json written before some options existed continues: their
    // defaults stand in for them (here the GAN's options, and the baselines).
    plan.at("train").erase("gan_l1_weight");
    plan.at("train").erase("discriminator_channels");
    plan.erase("baselines");
    std::ofstream(dir + "/cv/plan.json") << plan.dump(2);
    r = run_cli(args);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("evaluation: done before"), std::string::npos) << r.output;
  }

  // Other options in the same folder are refused before any work.
  r = run_cli("crossval " + dir + "/cohort " + dir + "/cv --folds 2 --train-steps 7 --threads 2");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("another plan"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(Crossval, RefusesTooFewSubjectsOrABadParticipantsFileBeforeWritingAnything) {
  const std::string dir =
      (fs::temp_directory_path() / ("harmonize_crossval_refuse_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_EQ(run_cli("simulate " + dir + "/cohort --subjects 2 --resolution 4 -q --threads 2").status, 0);
  auto r = run_cli("crossval " + dir + "/cohort " + dir + "/cv --folds 3 --preset tiny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("3 folds need at least as many"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/cv"));
  // A participants.tsv line shorter than its header.
  std::ofstream(dir + "/cohort/participants.tsv") << "participant_id\tgroup\nsub-001\tHC\nsub-002\n";
  r = run_cli("crossval " + dir + "/cohort " + dir + "/cv --folds 2 --preset tiny");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("participants.tsv: line 3 has 1 cells"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/cv"));
  fs::remove_all(dir);
}
