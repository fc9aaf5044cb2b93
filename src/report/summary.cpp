#include "report/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace harmonize {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;
}  // namespace

std::vector<Summary> summarize(const std::vector<MetricRow>& rows) {
  std::map<Key, std::size_t> slot;
  std::vector<Summary> out;
  std::vector<std::vector<double>> values;
  for (const auto& r : rows) {
    const Key k{r.direction, r.method, r.reference, r.metric, r.cls};
    auto it = slot.find(k);
    if (it == slot.end()) {
      it = slot.emplace(k, out.size()).first;
      out.push_back(Summary{r.direction, r.method, r.reference, r.metric, r.cls, kNaN, kNaN, 0});
      values.emplace_back();
    }
    if (std::isfinite(r.value)) values[it->second].push_back(r.value);
  }
  for (std::size_t s = 0; s < out.size(); ++s) {
    const auto& v = values[s];
    out[s].n = v.size();
    if (v.empty()) continue;
    double sum = 0;
    for (double x : v) sum += x;
    const double mean = sum / double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    out[s].mean = mean;
    out[s].sd = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0;
  }
  return out;
}

const Summary* find_summary(const std::vector<Summary>& s, const std::string& direction, const std::string& method,
                            const std::string& reference, const std::string& metric, const std::string& cls) {
  for (const auto& x : s)
    if (x.direction == direction && x.method == method && x.reference == reference && x.metric == metric &&
        x.cls == cls)
      return &x;
  return nullptr;
}

std::vector<std::string> directions_of(const std::vector<Summary>& s) {
  std::vector<std::string> out;
  for (const std::string d : {"3T-to-1p5T", "1p5T-to-3T"})
    if (std::any_of(s.begin(), s.end(), [&](const Summary& x) { return x.direction == d; })) out.push_back(d);
  for (const auto& x : s)
    if (std::find(out.begin(), out.end(), x.direction) == out.end()) out.push_back(x.direction);
  return out;
}

std::vector<std::string> methods_of(const std::vector<Summary>& s, bool include_target) {
  std::vector<std::string> out;
  for (const std::string m : {"Original", "Histogram matching"})
    if (std::any_of(s.begin(), s.end(), [&](const Summary& x) { return x.method == m; })) out.push_back(m);
  for (const auto& x : s)
    if (x.method != "Target" && std::find(out.begin(), out.end(), x.method) == out.end()) out.push_back(x.method);
  if (include_target && std::any_of(s.begin(), s.end(), [](const Summary& x) { return x.method == "Target"; }))
    out.push_back("Target");
  return out;
}

std::string direction_label(const std::string& direction) {
  if (direction == "3T-to-1p5T") return "3T→1.5T";
  if (direction == "1p5T-to-3T") return "1.5T→3T";
  return direction;
}

std::vector<Summary> paper_summaries() {
  const std::string d31 = "3T-to-1p5T", d13 = "1p5T-to-3T";
  std::vector<Summary> p;
  auto add = [&](const std::string& d, const std::string& m, const std::string& metric, const std::string& cls,
                 double v) {
    p.push_back(Summary{d, m, "target", metric, cls, v, kNaN, 0});
  };
  // Table 1: MSE and AHD.
  struct T1 {
    const char* method;
    double mse31, ahd31, mse13, ahd13;
  };
  for (const T1& r :
       {T1{"Original", 1.85e-3, 6.15e5, 1.85e-3, 6.15e5}, T1{"DeepHarmony", 2.30e-3, 7.49e5, 1.73e-3, 8.22e5},
        T1{"pGAN", 1.50e-3, 1.27e5, 0.94e-3, 2.07e5}, T1{"DM (paper)", 1.61e-3, 1.31e5, 0.76e-3, 1.48e5}}) {
    add(d31, r.method, "mse_mean", "", r.mse31);
    add(d31, r.method, "ahd", "", r.ahd31);
    add(d13, r.method, "mse_mean", "", r.mse13);
    add(d13, r.method, "ahd", "", r.ahd13);
  }
  // Tables 2 and 3: per class CSF, GM, WM.
  struct T23 {
    const char* method;
    const char* direction;
    double vol[3], dice[3], hd[3];
  };
  const T23 t23[] = {
      {"Original", "3T-to-1p5T", {3.72e4, 9.32e4, 8.88e4}, {.82, .82, .87}, {10.2, 8.7, 11.2}},
      {"Original", "1p5T-to-3T", {3.72e4, 9.32e4, 8.88e4}, {.82, .82, .87}, {10.2, 8.7, 11.2}},
      {"pGAN", "3T-to-1p5T", {1.12e4, 1.14e4, 1.91e4}, {.82, .79, .87}, {21.5, 13.5, 12.1}},
      {"pGAN", "1p5T-to-3T", {3.11e4, 6.15e4, 2.09e4}, {.76, .85, .92}, {8.7, 7.2, 9.5}},
      {"DM (paper)", "3T-to-1p5T", {1.95e4, 1.54e4, 1.59e4}, {.80, .79, .88}, {9.1, 6.7, 7.7}},
      {"DM (paper)", "1p5T-to-3T", {1.79e4, 3.91e4, 1.49e4}, {.81, .88, .92}, {8.7, 7.0, 9.3}},
  };
  for (const auto& r : t23)
    for (int c = 0; c < 3; ++c) {
      add(r.direction, r.method, "volume_abs_diff_mm3", kReportClasses[std::size_t(c)], r.vol[c]);
      add(r.direction, r.method, "dice", kReportClasses[std::size_t(c)], r.dice[c]);
      add(r.direction, r.method, "hd", kReportClasses[std::size_t(c)], r.hd[c]);
    }
  return p;
}

const Summary* find_intensity(const std::vector<Summary>& s, const std::string& d, const std::string& m,
                              const std::string& metric) {
  const Summary* x = find_summary(s, d, m, "target", metric, "");
  return x ? x : find_summary(s, d, m, "", metric, "");
}

double summary_mean(const std::vector<Summary>& s, const std::string& d, const std::string& m, const std::string& ref,
                    const std::string& metric, const std::string& cls) {
  const Summary* x = find_summary(s, d, m, ref, metric, cls);
  return x ? x->mean : kNaN;
}

double intensity_mean(const std::vector<Summary>& s, const std::string& d, const std::string& m,
                      const std::string& metric) {
  const Summary* x = find_intensity(s, d, m, metric);
  return x ? x->mean : kNaN;
}

}  // namespace harmonize
