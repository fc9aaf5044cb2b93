#pragma once
// Changes relative to "Original" (the paper's "-78 % AHD"), with 95 % paired
// bootstrap intervals over subjects.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "report/summary.hpp"

namespace harmonize {

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
// A subject's value of one row among its rows (NaN when it has none).
double value_of(const std::vector<const MetricRow*>& rows, const std::string& reference, const std::string& metric,
                const std::string& cls);
Interval bootstrap_relative(const std::vector<MetricRow>& rows, const std::string& direction, const std::string& method,
                            const std::string& reference_method, const SubjectValue& value, int resamples = 2000,
                            std::uint64_t seed = 1);
// The intervals of every change in `changes`, from the per-subject rows
// (the quantities of relative_to_original, per subject).
void add_intervals(std::vector<RelativeChange>& changes, const std::vector<MetricRow>& rows);

}  // namespace harmonize
