// Stages 4 and 5 of a cross-validation: metrics per subject and direction,
// then figures and the report.
#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <optional>

#include "core/log.hpp"
#include "core/png.hpp"
#include "core/progress.hpp"
#include "crossval/folds.hpp"
#include "crossval/stages.hpp"
#include "evaluate/evaluate.hpp"
#include "harmonize/correction.hpp"
#include "io/nifti.hpp"
#include "preprocess/resample.hpp"
#include "report/figures.hpp"
#include "report/report.hpp"
#include "train/slice_dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The simulated truth of the target-session scan carried onto `grid` (same
// world space): CSF/GM/WM fractions resampled linearly, each brain voxel
// labelled by its largest fraction. Empty when the truth is not there.
std::optional<Mask> truth_on(const CrossvalPlan& p, const std::string& sub, const Geometry& grid, const Mask& brain) {
  if (p.truth_dir.empty()) return std::nullopt;
  std::array<Volume, 3> frac;
  const char* names[3] = {"CSF", "GM", "WM"};
  for (int c = 0; c < 3; ++c) {
    const std::string path = bids::probseg(p.truth_dir, sub, p.target_session, names[c]);
    if (!fs::exists(path)) return std::nullopt;
    frac[c] = resample(read_nifti(path), grid);
  }
  Mask dseg(grid, 0);
  for (std::size_t n = 0; n < dseg.data.size(); ++n) {
    if (!brain.data[n]) continue;
    int best = 0;
    for (int c = 1; c < 3; ++c)
      if (frac[c].data[n] > frac[best].data[n]) best = c;
    if (frac[best].data[n] > 0.0f) dseg.data[n] = std::uint8_t(best + 1);
  }
  return dseg;
}

// The simulated lesion mask of the target-session scan carried onto `grid`:
// resampled linearly, a voxel a lesion when at least half of it is. Empty when
// the truth has no lesion mask.
std::optional<Mask> lesions_on(const CrossvalPlan& p, const std::string& sub, const Geometry& grid) {
  const std::string path = bids::lesion_mask(p.truth_dir, sub, p.target_session);
  if (p.truth_dir.empty() || !fs::exists(path)) return std::nullopt;
  const Volume frac = resample(read_nifti(path), grid);
  Mask m(grid, 0);
  for (std::size_t n = 0; n < m.data.size(); ++n) m.data[n] = frac.data[n] >= 0.5f;
  return m;
}

// (direction, subject) in report order.
std::vector<std::pair<std::string, std::string>> cases_of(const CrossvalRun& r) {
  std::vector<std::pair<std::string, std::string>> cases;
  for (const auto& dir : r.plan.directions)
    for (const auto& f : r.folds)
      for (const auto& sub : f) cases.emplace_back(dir, sub);
  return cases;
}

}  // namespace

std::vector<MetricRow> evaluate_stage(const CrossvalRun& r) {
  const CrossvalPlan& p = r.plan;
  const CrossvalLayout& L = r.layout;
  const auto cases = cases_of(r);
  // A case is evaluated again when its metrics lack a method (a baseline added to the run).
  std::vector<std::string> wanted;
  for (const auto& objective : p.baselines) wanted.push_back(objective_method_name(objective));
  auto complete = [&](const std::string& path) {
    if (!fs::exists(path)) return false;
    const auto rows = read_metrics_csv(path);
    for (const auto& m : wanted)
      if (std::none_of(rows.begin(), rows.end(), [&](const MetricRow& x) { return x.method == m; })) return false;
    return true;
  };
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (!complete(L.metrics(cases[i].first, cases[i].second))) todo.push_back(i);
  if (!todo.empty()) {
    log::info("[4/5] evaluating " + std::to_string(todo.size()) + " subject x direction cases");
    const auto t0 = std::chrono::steady_clock::now();
    Progress progress("evaluate", todo.size());
    // Each scan is Target in one direction and Original in the other: segmented once.
    SegmentationCache segmentations;
    EvaluateOptions options;
    options.cache = &segmentations;
    for (std::size_t i : todo) {
      const auto& [dir, sub] = cases[i];
      const Direction d = parse_direction(dir);
      EvaluateInput in;
      in.subject = sub;
      in.direction = dir;
      in.source = read_nifti(L.image(sub, d.condition_session));
      in.target = read_nifti(L.image(sub, d.target_session));
      in.brain = read_nifti_mask(L.brain(sub));
      in.methods.emplace_back("Histogram matching", read_nifti(L.harmonized(dir, sub, "histmatch")));
      if (p.corrected()) in.methods.emplace_back(p.bare_method_name(), read_nifti(L.harmonized(dir, sub, "bare")));
      in.methods.emplace_back(p.model_name, read_nifti(L.harmonized(dir, sub, "harmonized")));
      if (p.volume_fit)
        in.methods.emplace_back(p.fitted_method_name(), read_nifti(L.harmonized(dir, sub, "volumefit")));
      for (const auto& objective : p.baselines)
        in.methods.emplace_back(objective_method_name(objective), read_nifti(L.harmonized(dir, sub, objective)));
      in.truth_dseg = truth_on(p, sub, in.target.geom, in.brain);
      if (in.truth_dseg) in.truth_lesions = lesions_on(p, sub, in.target.geom);
      fs::create_directories(fs::path(L.metrics(dir, sub)).parent_path());
      write_metrics_csv(L.metrics(dir, sub), evaluate_subject(in, options));
      progress.advance(1, dir + " " + sub);
    }
    progress.finish();
    log::info("evaluation: " + std::to_string(segmentations.hits()) + " segmentations reused");
    r.add_seconds("evaluate", seconds_since(t0));
  } else {
    log::info("[4/5] evaluation: done before");
  }
  std::vector<MetricRow> rows;
  for (const auto& [dir, sub] : cases) {
    const auto c = read_metrics_csv(L.metrics(dir, sub));
    rows.insert(rows.end(), c.begin(), c.end());
  }
  write_metrics_csv(L.out + "/metrics.csv", rows);
  return rows;
}

void report_stage(const CrossvalRun& r, const std::vector<MetricRow>& rows,
                  const std::function<std::string()>& time_line) {
  const CrossvalLayout& L = r.layout;
  log::info("[5/5] report");
  const auto t0 = std::chrono::steady_clock::now();
  ReportInput report;
  report.out_dir = L.out;
  report.rows = rows;
  fs::create_directories(L.out + "/figures");
  for (const auto& [dir, sub] : cases_of(r)) {
    const Direction d = parse_direction(dir);
    const std::string stem = "figures/" + dir + "_" + sub;
    if (!fs::exists(L.out + "/" + stem + "_slices.png") || !fs::exists(L.out + "/" + stem + "_histogram.png")) {
      const Volume source = read_nifti(L.image(sub, d.condition_session));
      const Volume target = read_nifti(L.image(sub, d.target_session));
      const Volume harmonized = read_nifti(L.harmonized(dir, sub, "harmonized"));
      const Mask brain = read_nifti_mask(L.brain(sub));
      const std::string title = sub + "  " + dir;
      write_png(L.out + "/" + stem + "_slices.png", comparison_figure(source, target, harmonized, brain, title));
      write_png(L.out + "/" + stem + "_histogram.png", histogram_figure(source, target, harmonized, brain, title));
    }
    report.figures.push_back(
        {sub, dir, sub + ", " + dir + ": source / target / harmonized / |difference|", stem + "_slices.png"});
    report.figures.push_back({sub, dir, sub + ", " + dir + ": brain intensity histograms", stem + "_histogram.png"});
  }
  r.add_seconds("report", seconds_since(t0));
  RunFacts facts;
  facts.subjects = r.subjects.size();
  facts.training_subjects = r.subjects.size() - r.folds[0].size();
  facts.time_line = time_line();
  facts.grouping = grouping_text(read_participant_groups(r.plan.bids + "/participants.tsv"), r.subjects);
  if (r.plan.volume_fit)
    for (const auto& dir : r.plan.directions)
      for (int f = 0; f < r.plan.folds; ++f)
        facts.fitted_noise.emplace_back(dir + " fold " + std::to_string(f + 1),
                                        read_calibration_end_noise(L.calibration_volumes(f, dir)).value_or(0.0));
  for (const auto& objective : r.plan.baselines)
    if (auto b = recorded_baseline_budget(L, objective)) facts.baseline_budgets.push_back(*b);
  report.settings = settings_text(r.plan, facts);
  write_report(report);
}

}  // namespace harmonize
