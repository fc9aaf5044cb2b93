#include "preprocess/intensity.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/rng.hpp"

namespace harmonize {

double masked_percentile(const Volume& v, const Mask& mask, double q) {
  require_same_grid(mask.geom, v.geom, "masked_percentile: the mask is not on the image's grid");
  std::vector<float> x;
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (mask.data[n]) x.push_back(v.data[n]);
  if (x.empty()) throw Error("masked_percentile: the mask is empty");
  const double pos = std::clamp(q, 0.0, 100.0) / 100.0 * double(x.size() - 1);
  const std::size_t lo = std::size_t(std::floor(pos));
  std::nth_element(x.begin(), x.begin() + long(lo), x.end());
  const double a = x[lo];
  if (lo + 1 >= x.size()) return a;
  const double b = *std::min_element(x.begin() + long(lo) + 1, x.end());
  return a + (pos - double(lo)) * (b - a);
}

IntensityWindow brain_window(const Volume& v, const Mask& mask, double q_lo, double q_hi) {
  IntensityWindow w{masked_percentile(v, mask, q_lo), masked_percentile(v, mask, q_hi)};
  if (!(w.hi > w.lo)) throw Error("the brain's intensities are constant: cannot scale to [0, 1]");
  return w;
}

Volume normalise(const Volume& v, const Mask& mask, const IntensityWindow& w) {
  Volume out(v.geom, 0.0f);
  const double scale = 1.0 / (w.hi - w.lo);
  for (std::size_t n = 0; n < v.data.size(); ++n)
    if (mask.data[n]) out.data[n] = float((std::clamp(double(v.data[n]), w.lo, w.hi) - w.lo) * scale);
  return out;
}

}  // namespace harmonize
