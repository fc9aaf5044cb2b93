#pragma once
// The report's numbers: metric rows (metrics_table.hpp) summarised per
// direction, method, reference, metric and class; the paper's own numbers
// (Durrer et al. 2023, Tables 1-3, their private data); the changes relative
// to "Original"; and the tables laid out as in the paper, as plain text cells
// that report.cpp renders to markdown and HTML.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "evaluate/metrics_table.hpp"

namespace harmonize {

struct Summary {
  std::string direction, method, reference, metric, cls;
  double mean = 0, sd = 0;  // sd: sample standard deviation (n - 1), 0 when n = 1, NaN when unknown (paper)
  std::size_t n = 0;        // subjects with a finite value; 0 for the paper's numbers
};

// One Summary per (direction, method, reference, metric, class) present in
// `rows`, over the finite values (a Hausdorff distance to an empty class is
// infinite and left out; n says how many were used), in first-seen order.
std::vector<Summary> summarize(const std::vector<MetricRow>& rows);

const Summary* find_summary(const std::vector<Summary>& s, const std::string& direction, const std::string& method,
                            const std::string& reference, const std::string& metric, const std::string& cls);

// Directions in the paper's order ("3T-to-1p5T", "1p5T-to-3T", then others);
// methods as "Original", "Histogram matching", then the rest in first-seen
// order ("Target" only when include_target, last).
std::vector<std::string> directions_of(const std::vector<Summary>& s);
std::vector<std::string> methods_of(const std::vector<Summary>& s, bool include_target = false);
std::string direction_label(const std::string& direction);  // "3T-to-1p5T" -> "3T→1.5T"

// The paper's Tables 1-3 (means over its 4 folds; no sd, n = 0) as summaries
// with this project's metric names and reference "target". Its MSE values
// (1e-3 scale) are per-voxel means although its appendix writes a sum, so they
// are recorded as mse_mean. Methods: Original, DeepHarmony, pGAN, "DM (paper)".
std::vector<Summary> paper_summaries();

// 100 (value - original) / original: negative = smaller = better for every
// quantity here. NaN when either is missing or original is 0.
double percent_change(double value, double original);

struct Interval {
  double lo = std::numeric_limits<double>::quiet_NaN(), hi = std::numeric_limits<double>::quiet_NaN();
  bool known() const { return std::isfinite(lo) && std::isfinite(hi); }
  bool includes_zero() const { return known() && lo <= 0 && hi >= 0; }
};

struct RelativeChange {
  std::string direction, method;
  // NaN where a quantity is missing. mse: mse_sum, or mse_mean when no sums.
  // volume: mean over CSF, GM and WM of the mean absolute volume difference to
  // the target's segmentation; wm_volume: WM alone (as the paper quotes it).
  double ahd = 0, mse = 0, volume = 0, wm_volume = 0;
  // 95 % intervals of the same changes (bootstrap_relative); unknown without per-subject rows.
  Interval ahd_ci, mse_ci, volume_ci, wm_volume_ci;
};
// One entry per direction and method other than Original (and Target) that
// has an Original to compare with in that direction.
std::vector<RelativeChange> relative_to_original(const std::vector<Summary>& s);

// The paired bootstrap over subjects: `resamples` times, the subjects that
// have the quantity for both `method` and `reference_method` in `direction`
// are drawn with replacement, and 100 (mean_method / mean_reference - 1) is
// computed on the draw; the interval is its 2.5 and 97.5 percentiles
// (nearest rank). `value(subject rows)` gives a subject's quantity (NaN: the
// subject lacks it). Fixed seed: the same rows give the same interval.
// Unknown with fewer than 2 subjects.
using SubjectValue = std::function<double(const std::vector<const MetricRow*>&)>;
Interval bootstrap_relative(const std::vector<MetricRow>& rows, const std::string& direction,
                            const std::string& method, const std::string& reference_method, const SubjectValue& value,
                            int resamples = 2000, std::uint64_t seed = 1);
// The intervals of every change in `changes`, from the per-subject rows
// (the quantities of relative_to_original, per subject).
void add_intervals(std::vector<RelativeChange>& changes, const std::vector<MetricRow>& rows);

// Numbers as the paper prints them: 3 significant digits, powers of ten
// written e-3 / e4 beyond [0.01, 10000).
std::string format_number(double x);
// "mean [sd]", or "mean" when sd is NaN, or "–" when s is null.
std::string format_cell(const Summary* s);
std::string format_percent(double pct);  // "-78.7 %", "–" for NaN
// "-78.7 % [-82.1, -75.0]" (the interval when known), "–" for NaN.
std::string format_percent(double pct, const Interval& ci);

struct TextTable {
  std::string id;       // "table1"... (HTML anchor)
  std::string caption;  // heading text
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notes;  // markdown paragraphs under the table
};

// The report's tables, in order: Table 1 (MSE, AHD), its whole-volume variant
// when present, Relative to Original, Table 2 (volume differences; against the
// truth when present; tissue volumes), Table 3 (Dice, HD, HD95 per direction,
// against the target's segmentation and, when present, the truth), then the
// stripe and lesion table when the run has those metrics. Each holds this
// run's rows and then the paper's, its first column saying which. With the
// per-subject `rows` (the ones `run` summarises), relative changes carry
// 95 % bootstrap intervals and the notes name those that include zero.
std::vector<TextTable> report_tables(const std::vector<Summary>& run, const std::vector<MetricRow>* rows = nullptr);

// CSV lines "direction,method,reference,metric,class,mean,sd,n" (with that
// header) of the summaries whose metric is in `metrics`, in the report's order.
std::string summaries_csv(const std::vector<Summary>& s, const std::vector<std::string>& metrics);
// The metrics that go into tables/table1.csv ... table4.csv (4: stripes and lesions).
const std::vector<std::string>& table_metrics(int table);

}  // namespace harmonize
