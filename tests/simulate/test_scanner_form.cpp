// A scan in a converter's form keeps its anatomy where the tilt puts it.
#include <gtest/gtest.h>

#include <cmath>

#include "simulate/scanner_form.hpp"

using namespace harmonize;

namespace {
// World centroid of a mask.
Vec3 centroid(const Mask& m) {
  Vec3 c{0, 0, 0};
  double n = 0;
  for (std::size_t k = 0; k < m.geom.size[2]; ++k)
    for (std::size_t j = 0; j < m.geom.size[1]; ++j)
      for (std::size_t i = 0; i < m.geom.size[0]; ++i)
        if (m.at(i, j, k)) {
          const Vec3 w = m.geom.index_to_world({double(i), double(j), double(k)});
          for (int a = 0; a < 3; ++a) c[a] += w[a];
          ++n;
        }
  for (int a = 0; a < 3; ++a) c[a] /= n;
  return c;
}
}  // namespace

TEST(ScannerForm, StorageTiltNeckAndUnits) {
  Geometry g;
  g.size = {20, 24, 28};
  g.spacing = {2, 2, 2};
  g.origin = {-20, -30, -25};
  Volume scan(g, 0.0f);
  Mask brain(g, 0);
  for (std::size_t k = 4; k < 20; ++k)
    for (std::size_t j = 6; j < 15; ++j)
      for (std::size_t i = 3; i < 9; ++i) scan.at(i, j, k) = 100.0f + float(i), brain.at(i, j, k) = 1;
  ScannerForm f;
  f.neck_slices = 5;
  const ScannerFormScan s = scanner_form(scan, brain, f);

  // Axes permuted (new a = old perm[a]: 28 x 20 x 24); the old k axis (the
  // world's z), now axis 0, gets 5 slices of neck.
  EXPECT_EQ(s.image.geom.size, (std::array<std::size_t, 3>{33, 20, 24}));
  std::size_t neck = 0, brain_voxels = 0, old_brain = 0;
  for (auto v : s.neck.data) neck += v;
  for (auto v : s.brain.data) brain_voxels += v;
  for (auto v : brain.data) old_brain += v;
  EXPECT_EQ(neck, 5u * 20u * 24u);
  EXPECT_EQ(brain_voxels, old_brain);

  // Integer scanner units, the brightest voxel at full scale.
  float hi = 0;
  for (float v : s.image.data) {
    EXPECT_EQ(v, std::round(v));
    hi = std::max(hi, v);
  }
  EXPECT_EQ(hi, 4095.0f);

  // The brain sits where the tilt about the grid's centre puts it.
  const Vec3 c = g.index_to_world({9.5, 11.5, 13.5});
  const Mat3 rot = rotation_xyz(15 * M_PI / 180, 0.0, 7 * M_PI / 180);
  const Vec3 before = centroid(brain), after = centroid(s.brain);
  const Vec3 expected = mat_vec(rot, {before[0] - c[0], before[1] - c[1], before[2] - c[2]});
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(after[a], c[a] + expected[a], 1e-6) << a;
}
