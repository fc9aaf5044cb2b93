#pragma once
// The plan of a cross-validation (nnU-Net's habit): the data and the option
// struct of every stage, fixed when the run folder is made and written first
// (OUT/plan.json), so that a rerun continues the same experiment and the
// report's settings are generated from it. No LibTorch, no ITK.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harmonize/options.hpp"
#include "preprocess/pipeline.hpp"
#include "train/trainer.hpp"

namespace harmonize {

struct CrossvalPlan {
  // The data.
  std::string bids;       // paired BIDS dataset (absolute)
  std::string mask_dir;   // brain masks per scan ("" = template registration)
  std::string truth_dir;  // simulated truth to score segmentations against ("" = none)
  std::string source_session = "ses-1p5T", target_session = "ses-3T";  // the pair: source registered onto target
  std::vector<std::string> directions{"3T-to-1p5T", "1p5T-to-3T"};
  int folds = 4;
  std::uint64_t seed = 1;  // every seed of the run derives from it (crossval/seeds.hpp)
  // The stages' options.
  PreprocessOptions preprocess;  // of every pair
  TrainOptions train;            // the recipe; data, subjects, seed and the step intervals are set per model
  SamplingOptions sampling;      // harmonizing the test subjects
  EndNoise end_noise;            // of the main output
  bool calibrate = false;        // a quantile map per model, fitted on its training subjects
  bool volume_fit = false;       // a second output per model, its end noise fitted to tissue volumes
  std::string model_name = "harmonize DM";
  // The paper's learned baselines, beside the model (issue 17): objectives
  // "regression" (DeepHarmony-like) and/or "gan" (pGAN-like), each trained per
  // fold and direction with the model's recipe (network, data, optimizer,
  // schedule) and the same budget in wall-clock time (baseline_budget.json),
  // applied in one pass without corrections. A finished run may be given more
  // baselines: they are added to its plan (run_crossval).
  std::vector<std::string> baselines;
  // Throws UsageError naming the first invalid field.
  void validate() const;
  std::string fitted_method_name() const { return model_name + " (noise fitted to volumes)"; }
  // Whether the main output is corrected after sampling (end noise or a
  // quantile map); then the bare output (the same samples, uncorrected) is
  // written and evaluated beside it.
  bool corrected() const {
    return calibrate ||
           !(end_noise.kind == EndNoise::Kind::None || (end_noise.kind == EndNoise::Kind::Sd && end_noise.sd == 0));
  }
  std::string bare_method_name() const { return model_name + " (bare)"; }
};

// The training steps of a baseline that take the model's training time:
// the model's steps x its seconds per step / the baseline's, both measured in
// one process on the same data (crossval's train stage measures and records them).
struct BaselineBudget {
  std::string objective;
  double model_s_per_step = 0, baseline_s_per_step = 0;
  int64_t steps = 0;
};
int64_t equal_time_steps(int64_t model_steps, double model_s_per_step, double baseline_s_per_step);

// {"format": "harmonize-crossval-plan", "version": 1, "data": {..},
//  "preprocess": PreprocessOptions, "train": TrainOptions, "harmonize":
//  {"sampling", "end_noise", "calibrate", "volume_fit"}, "evaluate": {"model_name"},
//  "baselines": [objective, ...]}
nlohmann::json to_json(const CrossvalPlan& p);
// Throws InputError naming `path` when j is not such a plan.
CrossvalPlan plan_from_json(const nlohmann::json& j, const std::string& path);

// The report's settings lines, from the plan and what the run measured.
struct RunFacts {
  std::size_t subjects = 0, training_subjects = 0;
  std::vector<std::pair<std::string, double>> fitted_noise;                 // "<direction> fold <k>" -> sd (volume fit)
  std::vector<BaselineBudget> baseline_budgets;                             // one per planned baseline
  std::string time_line;                                                    // the run's time
  std::string grouping = "groups of participants.tsv mixed in every fold";  // grouping_text()
};
std::vector<std::string> settings_text(const CrossvalPlan& p, const RunFacts& f);

}  // namespace harmonize
