#pragma once
// The stages of a cross-validation, in the order the data flows, each a
// library function run in-process (crossval/run.hpp calls them). Each writes
// its outputs atomically and skips what exists, so a rerun continues a killed
// run; training resumes from its checkpoint.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crossval/layout.hpp"
#include "crossval/plan.hpp"
#include "evaluate/metrics_table.hpp"

namespace harmonize {

struct CrossvalRun {
  CrossvalPlan plan;
  CrossvalLayout layout;
  std::vector<std::string> subjects;            // with both sessions, sorted
  std::vector<std::vector<std::string>> folds;  // test subjects per fold
  std::string device = "cpu";                   // training and sampling
  nlohmann::json versions;                      // of harmonize and its libraries, for records
  std::function<void(const std::string& stage, double seconds)> add_seconds;  // time bookkeeping
  // The fold's training subjects (all others), sorted.
  std::vector<std::string> training_subjects(int fold) const;
};

// 1. Every pair preprocessed into layout.prep() (built under prep.partial, renamed when complete).
void preprocess_stage(const CrossvalRun& r);
// 2. One model per fold and direction (models/fold-k_dir: a train run, resumed if it was killed),
// then each planned baseline's (models/fold-k_dir_<objective>) for the model's time.
void train_stage(const CrossvalRun& r);
// A baseline's steps as the train stage measured and recorded them
// (models/baseline-budget_<objective>.json); empty when not measured yet.
std::optional<BaselineBudget> recorded_baseline_budget(const CrossvalLayout& layout, const std::string& objective);
// 3. Each fold's test subjects harmonized by its models (calibrated when planned), histogram matching beside them.
void harmonize_stage(const CrossvalRun& r);
// 4. Metrics per subject and direction; returns all rows (also written to metrics.csv).
std::vector<MetricRow> evaluate_stage(const CrossvalRun& r);
// 5. Figures and report.md / report.html; `time_line` gives the settings' time line once the figures are made.
void report_stage(const CrossvalRun& r, const std::vector<MetricRow>& rows,
                  const std::function<std::string()>& time_line);

}  // namespace harmonize
