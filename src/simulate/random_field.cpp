#include "simulate/random_field.hpp"

#include <algorithm>
#include <cmath>

#include "core/rng.hpp"

namespace harmonize {
namespace {
// Uniform cubic B-spline weights for fractional position u in [0,1).
inline void bspline_weights(double u, double w[4]) {
  const double u2 = u * u, u3 = u2 * u;
  w[0] = (1 - 3 * u + 3 * u2 - u3) / 6.0;
  w[1] = (4 - 6 * u2 + 3 * u3) / 6.0;
  w[2] = (1 + 3 * u + 3 * u2 - 3 * u3) / 6.0;
  w[3] = u3 / 6.0;
}
// 1 / sqrt(mean over positions of sum of squared 3D weights) = 1/sqrt((151/315)^3).
const double kNormalise = 1.0 / std::sqrt(std::pow(151.0 / 315.0, 3));
}  // namespace

SmoothField::SmoothField(const Vec3& box_min, const Vec3& box_max, double scale_mm, double amplitude,
                         std::uint64_t seed)
    : scale_(scale_mm) {
  if (amplitude == 0.0 || scale_mm <= 0) return;
  for (int a = 0; a < 3; ++a) {
    lo_[a] = box_min[a] - scale_mm;  // one control point beyond the box on each side
    n_[a] = static_cast<int>(std::ceil((box_max[a] - box_min[a]) / scale_mm)) + 4;
  }
  Rng rng(seed);
  coeff_.resize(std::size_t(n_[0]) * n_[1] * n_[2]);
  for (double& c : coeff_) c = rng.normal() * amplitude * kNormalise;
}

double SmoothField::operator()(const Vec3& x) const {
  if (coeff_.empty()) return 0.0;
  int base[3];
  double w[3][4];
  for (int a = 0; a < 3; ++a) {
    double g = (x[a] - lo_[a]) / scale_;
    g = std::clamp(g, 1.0, double(n_[a]) - 3.0 - 1e-9);
    const double f = std::floor(g);
    base[a] = static_cast<int>(f) - 1;
    bspline_weights(g - f, w[a]);
  }
  double s = 0;
  for (int k = 0; k < 4; ++k) {
    double sj = 0;
    for (int j = 0; j < 4; ++j) {
      const double* row = &coeff_[std::size_t(base[0]) + n_[0] * (std::size_t(base[1] + j) + n_[1] * (base[2] + k))];
      sj += w[1][j] * (w[0][0] * row[0] + w[0][1] * row[1] + w[0][2] * row[2] + w[0][3] * row[3]);
    }
    s += w[2][k] * sj;
  }
  return s;
}

SmoothVectorField::SmoothVectorField(const Vec3& box_min, const Vec3& box_max, double scale_mm, double amplitude,
                                     std::uint64_t seed)
    : x(box_min, box_max, scale_mm, amplitude, derive_seed(seed, 0)),
      y(box_min, box_max, scale_mm, amplitude, derive_seed(seed, 1)),
      z(box_min, box_max, scale_mm, amplitude, derive_seed(seed, 2)) {}

}  // namespace harmonize
