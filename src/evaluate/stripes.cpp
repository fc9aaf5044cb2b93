#include "evaluate/stripes.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/reorient.hpp"

namespace harmonize {

double stripe_index(const Volume& v, const Mask& brain, int axis) {
  require_same_grid(brain.geom, v.geom, "stripe index: the brain mask is not on the volume's grid");
  if (axis < 0 || axis > 2) throw Error("stripe index: axis " + std::to_string(axis) + " (expected 0, 1 or 2)");
  const auto& s = v.geom.size;
  const std::size_t stride[3] = {1, s[0], s[0] * s[1]};
  double sum[3] = {0, 0, 0};
  std::size_t count[3] = {0, 0, 0};
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i) {
        const std::size_t n = v.index(i, j, k);
        if (!brain.data[n]) continue;
        const std::size_t at[3] = {i, j, k};
        for (int a = 0; a < 3; ++a) {
          if (at[a] == 0 || at[a] + 1 >= s[a]) continue;
          const std::size_t lo = n - stride[a], hi = n + stride[a];
          if (!brain.data[lo] || !brain.data[hi]) continue;
          const double d = double(v.data[hi]) - 2.0 * double(v.data[n]) + double(v.data[lo]);
          sum[a] += d * d;
          ++count[a];
        }
      }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double across = 0;
  int planes = 0;
  for (int a = 0; a < 3; ++a)
    if (a != axis && count[a]) across += sum[a] / double(count[a]), ++planes;
  if (!count[axis] || planes == 0 || across <= 0) return nan;
  return (sum[axis] / double(count[axis])) / (across / planes);
}

int left_right_axis(const Geometry& g) { return sagittal_reorientation(g).perm[2]; }

}  // namespace harmonize
