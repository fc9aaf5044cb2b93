#pragma once
// Metric rows (evaluate/metrics_table.hpp) summarised per direction, method,
// reference, metric and class, and the paper's own numbers (Durrer et al.
// 2023, Tables 1-3, their private data) in the same form.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "evaluate/metrics_table.hpp"

namespace harmonize {

// The tissue classes of the volume rows, in the tables' order.
inline const std::array<std::string, 3> kReportClasses = {"CSF", "GM", "WM"};

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

// An intensity metric's summary: against the target scan (reference
// "target"), or without a reference; null when neither is there.
const Summary* find_intensity(const std::vector<Summary>& s, const std::string& direction, const std::string& method,
                              const std::string& metric);
// The mean of find_summary / find_intensity, NaN when missing.
double summary_mean(const std::vector<Summary>& s, const std::string& direction, const std::string& method,
                    const std::string& reference, const std::string& metric, const std::string& cls);
double intensity_mean(const std::vector<Summary>& s, const std::string& direction, const std::string& method,
                      const std::string& metric);

}  // namespace harmonize
