#include "phantom.hpp"

#include <cmath>

namespace harmonize::test {
namespace {
double ellipsoid(const Vec3& w, const Vec3& centre, const Vec3& semi) {
  double s = 0;
  for (int a = 0; a < 3; ++a) s += std::pow((w[a] - centre[a]) / semi[a], 2);
  return s;
}
}  // namespace

LabelVolume asymmetric_phantom() {
  Geometry g;
  g.size = {64, 64, 64};
  g.spacing = {2, 2, 2};
  g.origin = {-63, -63, -63};
  LabelVolume l(g, 0);
  const Vec3 o{0, 0, 0};
  auto shell = [](double d) { return Vec3{34 + d, 42 + d, 32 + d}; };
  for (std::size_t k = 0; k < 64; ++k)
    for (std::size_t j = 0; j < 64; ++j)
      for (std::size_t i = 0; i < 64; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        std::uint16_t v = 0;
        if (ellipsoid(w, {-8, 5, 4}, {5, 14, 6}) < 1 || ellipsoid(w, {10, 0, 2}, {4, 10, 5}) < 1)
          v = 4;
        else if (ellipsoid(w, {12, -15, -8}, {6, 6, 6}) < 1)
          v = 10;
        else if (ellipsoid(w, {-14, -20, 10}, {5, 7, 5}) < 1)
          v = 11;
        else if (ellipsoid(w, o, shell(-6)) < 1)
          v = 2;
        else if (ellipsoid(w, o, shell(0)) < 1)
          v = 3;
        else if (ellipsoid(w, o, shell(6)) < 1)
          v = 24;
        else if (ellipsoid(w, o, shell(10)) < 1)
          v = 515;
        else if (ellipsoid(w, o, shell(14)) < 1)
          v = 511;
        l.at(i, j, k) = v;
      }
  return l;
}

CohortOptions small_pair_options() {
  CohortOptions o;
  o.resolution_mm = 2.0;
  for (auto& s : o.scanners) s.fov_mm = {110, 130, 110};
  o.rotation_deg = 6;
  o.translation_mm = 5;
  return o;
}

Vec3 true_moving_point(const SessionSpec& fixed, const SessionSpec& moving, const Vec3& c, const Vec3& y) {
  const Vec3 d{y[0] - c[0] - fixed.head_translation[0], y[1] - c[1] - fixed.head_translation[1],
               y[2] - c[2] - fixed.head_translation[2]};
  const Vec3 x = mat_vec(mat_transpose(fixed.head_rotation), d);
  const Vec3 r = mat_vec(moving.head_rotation, x);
  return {r[0] + c[0] + moving.head_translation[0], r[1] + c[1] + moving.head_translation[1],
          r[2] + c[2] + moving.head_translation[2]};
}

}  // namespace harmonize::test
