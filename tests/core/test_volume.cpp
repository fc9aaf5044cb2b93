#include <gtest/gtest.h>

#include <cmath>

#include "core/volume.hpp"

using namespace harmonize;

TEST(Geometry, IndexWorldRoundTripOblique) {
  Geometry g;
  g.size = {10, 12, 14};
  g.spacing = {0.9, 1.1, 2.5};
  g.origin = {-30.5, 12.25, 7.0};
  g.direction = rotation_xyz(0.3, -0.2, 0.7);
  const Vec3 ijk{3.25, 7.5, 11.0};
  const Vec3 w = g.index_to_world(ijk);
  const Vec3 back = g.world_to_index(w);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(back[a], ijk[a], 1e-9);
  // world = origin + D * S * ijk, computed by hand for one axis.
  const auto& D = g.direction;
  const double wx = g.origin[0] + D[0] * 0.9 * 3.25 + D[1] * 1.1 * 7.5 + D[2] * 2.5 * 11.0;
  EXPECT_NEAR(w[0], wx, 1e-12);
}

TEST(Geometry, RotationIsOrthonormal) {
  const Mat3 r = rotation_xyz(0.4, 1.1, -2.0);
  const Mat3 p = mat_mul(r, mat_transpose(r));
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(p[i], (i % 4 == 0) ? 1.0 : 0.0, 1e-12);
  EXPECT_NEAR(mat_det(r), 1.0, 1e-12);
  const Mat3 inv = mat_inverse(r);
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(inv[i], mat_transpose(r)[i], 1e-12);
}

TEST(Geometry, SampleLinearIsExactOnLinearFunction) {
  Geometry g;
  g.size = {5, 6, 7};
  Volume v(g);
  for (std::size_t k = 0; k < 7; ++k)
    for (std::size_t j = 0; j < 6; ++j)
      for (std::size_t i = 0; i < 5; ++i) v.at(i, j, k) = float(2.0 * i - 3.0 * j + 0.5 * k + 1);
  EXPECT_NEAR(sample_linear(v, {1.25, 2.5, 3.75}), 2 * 1.25 - 3 * 2.5 + 0.5 * 3.75 + 1, 1e-5);
  EXPECT_EQ(sample_linear(v, {-5, 0, 0}, -7.0f), -7.0f);
}

#include "core/error.hpp"

namespace {
Geometry oblique_grid() {
  Geometry g;
  g.size = {96, 96, 80};
  g.spacing = {1.0, 1.0, 1.2};
  g.origin = {-48.0, -60.5, -40.0};
  g.direction = rotation_xyz(0.1, -0.05, 0.2);
  return g;
}
}  // namespace

TEST(Geometry, SameGridAllowsRoundingOnly) {
  const Geometry g = oblique_grid();
  EXPECT_TRUE(same_grid(g, g));
  EXPECT_EQ(grid_mismatch(g, g), "");
  Geometry h = g;
  h.origin[1] += 1e-5;  // float rounding of a NIfTI header
  EXPECT_TRUE(same_grid(g, h));
  EXPECT_EQ(grid_mismatch(g, h), "");

  h = g;
  h.size[2] = 81;
  EXPECT_FALSE(same_grid(g, h));
  EXPECT_EQ(grid_mismatch(g, h), "96x96x80 voxels vs 96x96x81");
  h.spacing = {2, 2, 2};  // another size and spacing: both described
  EXPECT_NE(grid_mismatch(g, h).find("96x96x80 voxels of 1x1x1.2 mm"), std::string::npos) << grid_mismatch(g, h);
  EXPECT_NE(grid_mismatch(g, h).find("96x96x81 voxels of 2x2x2 mm"), std::string::npos) << grid_mismatch(g, h);

  h = g;
  h.origin[0] += 0.01;
  EXPECT_FALSE(same_grid(g, h));
  EXPECT_NE(grid_mismatch(g, h).find("same size"), std::string::npos) << grid_mismatch(g, h);
  EXPECT_NE(grid_mismatch(g, h).find("0.01 mm"), std::string::npos) << grid_mismatch(g, h);

  h = g;
  h.direction = mat_mul(rotation_xyz(0, 0, 0.01), g.direction);  // 0.01 rad: about 1 mm at the far corner
  EXPECT_FALSE(same_grid(g, h));
  EXPECT_FALSE(same_grid(h, g));
  EXPECT_NE(grid_mismatch(g, h), "");

  h = g;
  h.spacing[0] = 1.01;  // same size, the far corner 0.95 mm away
  EXPECT_NE(grid_mismatch(g, h).find("voxels of 1x1x1.2 mm vs 1.01x1x1.2 mm"), std::string::npos)
      << grid_mismatch(g, h);
}

TEST(Geometry, RequireSameGridNamesWhatDiffers) {
  const Geometry g = oblique_grid();
  EXPECT_NO_THROW(require_same_grid(g, g, "unused"));
  Geometry h = g;
  h.size[0] = 95;
  try {
    require_same_grid(h, g, "segment: the brain mask");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "segment: the brain mask: 95x96x80 voxels vs 96x96x80");
  }
  h = g;
  h.origin[2] += 2.5;
  EXPECT_THROW(require_same_grid(g, h, "x"), Error);
}

#include "core/overlap.hpp"

TEST(Overlap, DiceOfKnownShapes) {
  Geometry g;
  g.size = {10, 1, 2};
  Mask a(g, 0), b(g, 0);
  for (std::size_t i = 0; i < 4; ++i) a.at(i, 0, 0) = 1;  // 4 voxels
  for (std::size_t i = 2; i < 8; ++i) b.at(i, 0, 0) = 1;  // 6 voxels, 2 shared
  EXPECT_DOUBLE_EQ(dice(a, b, 1), 2.0 * 2 / (4 + 6));
  EXPECT_DOUBLE_EQ(dice(a, a, 1), 1.0);
  EXPECT_DOUBLE_EQ(dice(a, b, 3), 1.0);  // neither has label 3
  a.at(0, 0, 1) = 2;
  EXPECT_DOUBLE_EQ(dice(a, b, 2), 0.0);
  EXPECT_DOUBLE_EQ(mean_tissue_dice(a, b), (0.4 + 0.0 + 1.0) / 3);
  Geometry h = g;
  h.origin[0] = 0.5;  // same size, another place
  EXPECT_THROW(dice(a, Mask(h, 0), 1), Error);
}
