#include "evaluate/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"

namespace harmonize {
namespace {

void check_same_grid(const Volume& a, const Volume& b, const Mask* mask, const char* what) {
  require_same_grid(a.geom, b.geom, std::string(what) + ": the volumes are not on one grid");
  if (mask) require_same_grid(mask->geom, a.geom, std::string(what) + ": the mask is not on the volumes' grid");
}

}  // namespace

double mse_sum(const Volume& a, const Volume& b, const Mask* mask) {
  check_same_grid(a, b, mask, "mse");
  double sum = 0;
  for (std::size_t n = 0; n < a.data.size(); ++n) {
    if (mask && !mask->data[n]) continue;
    const double d = double(a.data[n]) - double(b.data[n]);
    sum += d * d;
  }
  return sum;
}

double mse_mean(const Volume& a, const Volume& b, const Mask* mask) {
  check_same_grid(a, b, mask, "mse");
  std::size_t n = a.data.size();
  if (mask) n = std::size_t(std::count_if(mask->data.begin(), mask->data.end(), [](std::uint8_t m) { return m != 0; }));
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  return mse_sum(a, b, mask) / double(n);
}

int histogram_bin(double x) {
  if (!(x >= 0)) return 0;  // negative (NaN is refused by the callers)
  const double k = std::floor(x * kAhdBins);
  return k >= kAhdBins - 1 ? kAhdBins - 1 : int(k);
}

std::vector<double> intensity_histogram(const Volume& v, const Mask* mask) {
  if (mask) require_same_grid(mask->geom, v.geom, "histogram: the mask is not on the volume's grid");
  std::vector<double> h(kAhdBins, 0.0);
  for (std::size_t n = 0; n < v.data.size(); ++n) {
    if (mask && !mask->data[n]) continue;
    const float x = v.data[n];
    if (std::isnan(x)) throw Error("histogram: the volume holds NaN");
    h[std::size_t(histogram_bin(x))] += 1;
  }
  return h;
}

double ahd(const Volume& a, const Volume& b, const Mask* mask) {
  check_same_grid(a, b, mask, "ahd");
  const auto ha = intensity_histogram(a, mask), hb = intensity_histogram(b, mask);
  double sum = 0;
  for (int k = 0; k < kAhdBins; ++k) sum += std::abs(ha[k] - hb[k]);
  return sum;
}

double voxel_volume_mm3(const Geometry& g) { return g.spacing[0] * g.spacing[1] * g.spacing[2]; }

std::size_t label_count(const Mask& labels, std::uint8_t label) {
  return std::size_t(std::count(labels.data.begin(), labels.data.end(), label));
}

double label_volume_mm3(const Mask& labels, std::uint8_t label) {
  return double(label_count(labels, label)) * voxel_volume_mm3(labels.geom);
}

double nearest_rank_percentile(std::vector<double>& values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (!(p > 0 && p <= 100)) throw Error("percentile must be in (0, 100]");
  // rank = ceil(p/100 * n), 1-based; computed so that p = 95, n = 20 gives 19 exactly.
  const double n = double(values.size());
  std::size_t rank = std::size_t(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(rank - 1), values.end());
  return values[rank - 1];
}

}  // namespace harmonize
