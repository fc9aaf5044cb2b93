#include "report/relative.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

namespace harmonize {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

double percent_change(double value, double original) {
  if (!std::isfinite(value) || !std::isfinite(original) || original == 0) return kNaN;
  return 100.0 * (value - original) / original;
}

std::vector<RelativeChange> relative_to_original(const std::vector<Summary>& s) {
  std::vector<RelativeChange> out;
  auto volume_mean = [&](const std::string& d, const std::string& m) {
    double sum = 0;
    for (const auto& c : kReportClasses) sum += summary_mean(s, d, m, "target", "volume_abs_diff_mm3", c);
    return sum / 3.0;  // NaN unless all three classes are there
  };
  auto mse = [&](const std::string& d, const std::string& m) {
    const double sum = intensity_mean(s, d, m, "mse_sum");
    return std::isfinite(sum) ? sum : intensity_mean(s, d, m, "mse_mean");
  };
  auto ahd = [&](const std::string& d, const std::string& m) { return intensity_mean(s, d, m, "ahd"); };
  auto wm = [&](const std::string& d, const std::string& m) {
    return summary_mean(s, d, m, "target", "volume_abs_diff_mm3", "WM");
  };
  for (const auto& d : directions_of(s)) {
    const bool has_original =
        std::any_of(s.begin(), s.end(), [&](const Summary& x) { return x.direction == d && x.method == "Original"; });
    if (!has_original) continue;
    for (const auto& m : methods_of(s)) {
      if (m == "Original") continue;
      const bool present =
          std::any_of(s.begin(), s.end(), [&](const Summary& x) { return x.direction == d && x.method == m; });
      if (!present) continue;
      // The paper's Original rows hold mse_mean only; fall back consistently.
      double mse_m = mse(d, m), mse_o = mse(d, "Original");
      if (!std::isfinite(mse_m) || !std::isfinite(mse_o)) {
        mse_m = intensity_mean(s, d, m, "mse_mean");
        mse_o = intensity_mean(s, d, "Original", "mse_mean");
      }
      RelativeChange c;
      c.direction = d;
      c.method = m;
      c.ahd = percent_change(ahd(d, m), ahd(d, "Original"));
      c.mse = percent_change(mse_m, mse_o);
      c.volume = percent_change(volume_mean(d, m), volume_mean(d, "Original"));
      c.wm_volume = percent_change(wm(d, m), wm(d, "Original"));
      out.push_back(c);
    }
  }
  return out;
}

Interval bootstrap_relative(const std::vector<MetricRow>& rows, const std::string& direction, const std::string& method,
                            const std::string& reference_method, const SubjectValue& value, int resamples,
                            std::uint64_t seed) {
  std::map<std::string, std::vector<const MetricRow*>> of_method, of_reference;
  for (const auto& r : rows) {
    if (r.direction != direction) continue;
    if (r.method == method) of_method[r.subject].push_back(&r);
    if (r.method == reference_method) of_reference[r.subject].push_back(&r);
  }
  std::vector<std::pair<double, double>> pairs;  // (method, reference) per subject
  for (const auto& [subject, mine] : of_method) {
    const auto it = of_reference.find(subject);
    if (it == of_reference.end()) continue;
    const double x = value(mine), y = value(it->second);
    if (std::isfinite(x) && std::isfinite(y)) pairs.emplace_back(x, y);
  }
  if (pairs.size() < 2 || resamples < 1) return {};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, pairs.size() - 1);
  std::vector<double> pct;
  pct.reserve(std::size_t(resamples));
  for (int b = 0; b < resamples; ++b) {
    double sx = 0, sy = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& [x, y] = pairs[pick(rng)];
      sx += x, sy += y;
    }
    if (sy != 0) pct.push_back(100.0 * (sx / sy - 1.0));
  }
  if (pct.empty()) return {};
  std::sort(pct.begin(), pct.end());
  auto rank = [&](double p) {
    const auto k = std::size_t(std::ceil(p / 100.0 * double(pct.size())));
    return pct[std::min(pct.size(), std::max<std::size_t>(k, 1)) - 1];
  };
  return Interval{rank(2.5), rank(97.5)};
}

double value_of(const std::vector<const MetricRow*>& rows, const std::string& reference, const std::string& metric,
                const std::string& cls) {
  for (const MetricRow* r : rows)
    if (r->reference == reference && r->metric == metric && r->cls == cls) return r->value;
  return kNaN;
}

namespace {
// An intensity metric of a subject: against the target, or without a reference (as find_intensity).
double intensity_of(const std::vector<const MetricRow*>& rows, const std::string& metric) {
  const double v = value_of(rows, "target", metric, "");
  return std::isfinite(v) ? v : value_of(rows, "", metric, "");
}
}  // namespace

void add_intervals(std::vector<RelativeChange>& changes, const std::vector<MetricRow>& rows) {
  const SubjectValue ahd = [](const auto& r) { return intensity_of(r, "ahd"); };
  const SubjectValue mse = [](const auto& r) {
    const double sum = intensity_of(r, "mse_sum");
    return std::isfinite(sum) ? sum : intensity_of(r, "mse_mean");
  };
  const SubjectValue volume = [](const auto& r) {
    double sum = 0;
    for (const auto& c : kReportClasses) sum += value_of(r, "target", "volume_abs_diff_mm3", c);
    return sum / 3.0;
  };
  const SubjectValue wm = [](const auto& r) { return value_of(r, "target", "volume_abs_diff_mm3", "WM"); };
  for (auto& c : changes) {
    c.ahd_ci = bootstrap_relative(rows, c.direction, c.method, "Original", ahd);
    c.mse_ci = bootstrap_relative(rows, c.direction, c.method, "Original", mse);
    c.volume_ci = bootstrap_relative(rows, c.direction, c.method, "Original", volume);
    c.wm_volume_ci = bootstrap_relative(rows, c.direction, c.method, "Original", wm);
  }
}

}  // namespace harmonize
