#include "bids/qc.hpp"

#include <algorithm>
#include <cmath>

namespace harmonize::bids {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<double> robust_z(const std::vector<double>& x) {
  const double m = median(x);
  std::vector<double> dev;
  for (double v : x) dev.push_back(std::abs(v - m));
  const double mad = 1.4826 * median(dev);
  std::vector<double> z;
  for (double v : x) z.push_back(mad > 0 ? (v - m) / mad : 0.0);
  return z;
}

std::vector<bool> outliers(const std::vector<double>& x, double min_relative) {
  const auto z = robust_z(x);
  const double m = median(x);
  std::vector<bool> out;
  for (std::size_t i = 0; i < x.size(); ++i)
    out.push_back(std::abs(z[i]) > 3.5 && std::abs(x[i] - m) > min_relative * std::abs(m));
  return out;
}

}  // namespace harmonize::bids
