#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "preprocess/resample.hpp"

using namespace harmonize;

namespace {
Geometry oblique_grid() {
  Geometry g;
  g.size = {20, 16, 10};
  g.spacing = {1.0, 1.2, 2.5};
  g.origin = {-10, 4, 7};
  g.direction = rotation_xyz(0.1, -0.2, 0.3);
  return g;
}
// A linear function of world position: trilinear interpolation reproduces it.
float ramp(const Vec3& w) { return float(3 + 0.5 * w[0] - 0.25 * w[1] + 0.125 * w[2]); }
}  // namespace

TEST(Resample, IsotropicGridKeepsDirectionAndPhysicalBox) {
  const Geometry g = oblique_grid();
  const Geometry iso = isotropic_grid(g, 1.0);
  EXPECT_EQ(iso.size[0], 20u);
  EXPECT_EQ(iso.size[1], 19u);  // 16 * 1.2 = 19.2
  EXPECT_EQ(iso.size[2], 25u);
  EXPECT_EQ(iso.direction, g.direction);
  // Outer corner of voxel 0 is shared.
  const Vec3 a = g.index_to_world({-0.5, -0.5, -0.5});
  const Vec3 b = iso.index_to_world({-0.5, -0.5, -0.5});
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(a[k], b[k], 1e-9);
  EXPECT_THROW(isotropic_grid(g, 0.0), Error);
}

TEST(Resample, LinearReproducesALinearFunctionInside) {
  const Geometry g = oblique_grid();
  Volume v(g);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i)
        v.at(i, j, k) = ramp(g.index_to_world({double(i), double(j), double(k)}));
  const Volume r = resample_isotropic(v, 0.7);
  double worst = 0;
  for (std::size_t k = 0; k < r.geom.size[2]; ++k)
    for (std::size_t j = 0; j < r.geom.size[1]; ++j)
      for (std::size_t i = 0; i < r.geom.size[0]; ++i) {
        const Vec3 w = r.geom.index_to_world({double(i), double(j), double(k)});
        const Vec3 c = g.world_to_index(w);
        bool inside = true;
        for (int a = 0; a < 3; ++a) inside = inside && c[a] >= 0 && c[a] <= double(g.size[a] - 1);
        if (inside) worst = std::max(worst, double(std::abs(r.at(i, j, k) - ramp(w))));
      }
  EXPECT_LT(worst, 1e-4);
}

TEST(Resample, MaskIsNearestNeighbourAndIdentityIsExact) {
  const Geometry g = oblique_grid();
  Mask m(g, 0);
  for (std::size_t n = 0; n < m.data.size(); ++n) m.data[n] = std::uint8_t(n % 7 == 0 ? 3 : 0);
  const Mask same = resample(m, g);
  EXPECT_EQ(same.data, m.data);
  const Mask iso = resample_isotropic(m, 0.5);
  for (std::uint8_t x : iso.data) EXPECT_TRUE(x == 0 || x == 3);
  // A shift by exactly one voxel along i moves every value by one voxel.
  const Mat3 d = g.direction;
  const Vec3 step{d[0] * g.spacing[0], d[3] * g.spacing[0], d[6] * g.spacing[0]};
  const Mask shifted = resample(m, g, [&](const Vec3& w) {
    return Vec3{w[0] + step[0], w[1] + step[1], w[2] + step[2]};
  });
  EXPECT_EQ(shifted.at(3, 4, 5), m.at(4, 4, 5));
  EXPECT_EQ(shifted.at(19, 4, 5), 0);
}
