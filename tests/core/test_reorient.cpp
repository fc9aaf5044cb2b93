#include <gtest/gtest.h>

#include <cmath>

#include "core/reorient.hpp"

using namespace harmonize;

namespace {
Volume ramp(const Geometry& g) {
  Volume v(g);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = float(n);
  return v;
}

// A scan stored in a non-RAS, oblique orientation: file axis 0 runs
// superior->inferior, axis 1 right->left, axis 2 anterior->posterior, all
// rotated by ~12 degrees.
Geometry oblique_non_ras() {
  Geometry g;
  g.size = {9, 7, 5};
  g.spacing = {1.2, 0.8, 2.0};
  g.origin = {10, -20, 30};
  const Mat3 perm{0,  1, 0,   // world x (L) <- axis 1 (points left)
                  0,  0, 1,   // world y (P) <- axis 2 (points posterior)
                  -1, 0, 0};  // world z (S) <- axis 0 (points inferior)
  g.direction = mat_mul(rotation_xyz(0.21, -0.12, 0.15), perm);
  return g;
}
}  // namespace

TEST(Reorient, SagittalLayoutAxesPointAnteriorInferiorLeft) {
  const Geometry g = oblique_non_ras();
  const Reorientation r = sagittal_reorientation(g);
  const Geometry s = r.reoriented();
  // Column a of the new direction must be closest to the target axis.
  EXPECT_LT(s.direction[1 * 3 + 0], -0.9);  // i: -y (anterior)
  EXPECT_LT(s.direction[2 * 3 + 1], -0.9);  // j: -z (inferior)
  EXPECT_GT(s.direction[0 * 3 + 2], 0.9);   // k: +x (left)
  EXPECT_EQ(s.size[2], g.size[1]);          // slices along the old left-right axis
  EXPECT_FALSE(r.is_identity());
}

TEST(Reorient, EveryVoxelKeepsItsWorldPosition) {
  const Geometry g = oblique_non_ras();
  const Volume v = ramp(g);
  const Reorientation r = sagittal_reorientation(g);
  const Volume s = reorient(v, r);
  for (std::size_t k = 0; k < s.geom.size[2]; ++k)
    for (std::size_t j = 0; j < s.geom.size[1]; ++j)
      for (std::size_t i = 0; i < s.geom.size[0]; ++i) {
        const Vec3 w = s.geom.index_to_world({double(i), double(j), double(k)});
        const Vec3 o = g.world_to_index(w);
        const std::size_t oi = std::size_t(std::lround(o[0])), oj = std::size_t(std::lround(o[1])),
                          ok = std::size_t(std::lround(o[2]));
        ASSERT_NEAR(o[0], double(oi), 1e-9);
        ASSERT_NEAR(o[1], double(oj), 1e-9);
        ASSERT_NEAR(o[2], double(ok), 1e-9);
        ASSERT_EQ(s.at(i, j, k), v.at(oi, oj, ok));
      }
}

TEST(Reorient, RestoreIsExactInverse) {
  for (const Geometry& g : {oblique_non_ras(), Geometry{{4, 5, 6}, {1, 1, 1}, {0, 0, 0}, mat_identity(), nullptr}}) {
    const Volume v = ramp(g);
    const Reorientation r = sagittal_reorientation(g);
    const Volume back = restore_orientation(reorient(v, r), r);
    EXPECT_EQ(back.data, v.data);
    EXPECT_EQ(back.geom.size, g.size);
    EXPECT_EQ(back.geom.origin, g.origin);
    EXPECT_EQ(back.geom.direction, g.direction);
    EXPECT_EQ(back.geom.spacing, g.spacing);
  }
}

TEST(Reorient, AlreadySagittalIsIdentity) {
  Geometry g;
  g.size = {4, 5, 6};
  g.direction = {0, 0, 1, -1, 0, 0, 0, -1, 0};  // i -> -y, j -> -z, k -> +x
  EXPECT_TRUE(sagittal_reorientation(g).is_identity());
}

TEST(Reorient, MasksAndLabelsToo) {
  const Geometry g = oblique_non_ras();
  Mask m(g);
  for (std::size_t n = 0; n < m.data.size(); ++n) m.data[n] = std::uint8_t(n % 3);
  const Reorientation r = sagittal_reorientation(g);
  EXPECT_EQ(restore_orientation(reorient(m, r), r).data, m.data);
}
