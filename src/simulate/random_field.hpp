#pragma once
// Smooth random fields for deformations, within-tissue variation and bias
// fields: i.i.d. N(0,1) coefficients on a control grid of spacing `scale_mm`
// covering a box, interpolated by cubic B-splines and divided by the mean
// standard deviation of that interpolant (sqrt((151/315)^3) ~ 0.332), so the
// field's standard deviation is ~`amplitude`.
#include <cstdint>
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

class SmoothField {
 public:
  SmoothField() = default;  // the zero field
  SmoothField(const Vec3& box_min, const Vec3& box_max, double scale_mm, double amplitude, std::uint64_t seed);
  // Value at world point x (mm); outside the box the border coefficients continue.
  double operator()(const Vec3& x) const;
  bool is_zero() const { return coeff_.empty(); }

 private:
  Vec3 lo_{};
  double scale_ = 1;
  std::array<int, 3> n_{0, 0, 0};
  std::vector<double> coeff_;
};

// Three independent fields: a smooth random displacement (mm).
struct SmoothVectorField {
  SmoothField x, y, z;
  SmoothVectorField() = default;
  SmoothVectorField(const Vec3& box_min, const Vec3& box_max, double scale_mm, double amplitude, std::uint64_t seed);
  Vec3 operator()(const Vec3& p) const { return {x(p), y(p), z(p)}; }
};

}  // namespace harmonize
