#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"
#include "preprocess/slicing.hpp"

using namespace harmonize;

namespace {
// An oblique, non-RAS grid with a brain-like blob; zero outside the blob.
struct Case {
  Volume v;
  Mask m;
};
Case blob(std::array<std::size_t, 3> size, double radius) {
  Geometry g;
  g.size = size;
  g.spacing = {1, 1, 1};
  const Mat3 perm{0, 0, 1, 1, 0, 0, 0, -1, 0};
  g.direction = mat_mul(rotation_xyz(0.1, 0.05, -0.2), perm);
  Case c{Volume(g, 0.0f), Mask(g, 0)};
  Rng r(1);
  for (std::size_t k = 0; k < size[2]; ++k)
    for (std::size_t j = 0; j < size[1]; ++j)
      for (std::size_t i = 0; i < size[0]; ++i) {
        const double dx = i - size[0] * 0.45, dy = j - size[1] * 0.55, dz = k - size[2] * 0.5;
        if (dx * dx + dy * dy + dz * dz < radius * radius) {
          c.m.at(i, j, k) = 1;
          c.v.at(i, j, k) = float(r.uniform());
        }
      }
  return c;
}
}  // namespace

TEST(Slicing, SliceThenUnsliceIsBitExact) {
  for (auto size : {std::array<std::size_t, 3>{60, 70, 50}, std::array<std::size_t, 3>{40, 30, 36}}) {
    const Case c = blob(size, 14);
    const SliceLayout l = plan_slices(c.v.geom, c.m, 32, 48);
    EXPECT_FALSE(l.clipped);
    const Volume stack = to_slices(c.v, l);
    EXPECT_EQ(stack.geom.size[0], 48u);
    EXPECT_EQ(stack.geom.size[1], 32u);
    const Volume back = from_slices(stack, l);
    EXPECT_EQ(back.data, c.v.data);
    EXPECT_EQ(back.geom.direction, c.v.geom.direction);
    // Through JSON too.
    const SliceLayout l2 = SliceLayout::from_json(nlohmann::json::parse(l.to_json().dump()));
    EXPECT_EQ(from_slices(stack, l2).data, c.v.data);
  }
}

TEST(Slicing, StackVoxelsKeepTheirWorldPositions) {
  const Case c = blob({60, 70, 50}, 14);
  const SliceLayout l = plan_slices(c.v.geom, c.m, 32, 48);
  const Volume stack = to_slices(c.v, l);
  for (std::size_t k = 0; k < stack.geom.size[2]; k += 3)
    for (std::size_t r = 0; r < 32; r += 5)
      for (std::size_t col = 0; col < 48; col += 5) {
        const Vec3 w = stack.geom.index_to_world({double(col), double(r), double(k)});
        const Vec3 o = c.v.geom.world_to_index(w);
        const long i = std::lround(o[0]), j = std::lround(o[1]), kk = std::lround(o[2]);
        if (i < 0 || j < 0 || kk < 0 || i >= 60 || j >= 70 || kk >= 50) {
          EXPECT_EQ(stack.at(col, r, k), 0.0f);
        } else {
          EXPECT_EQ(stack.at(col, r, k), c.v.at(i, j, kk));
        }
      }
}

TEST(Slicing, MarksEmptySlicesAndClipsOversizedBrains) {
  const Case c = blob({60, 70, 50}, 14);
  const SliceLayout l = plan_slices(c.v.geom, c.m, 32, 48);
  int with_brain = 0;
  for (auto b : l.has_brain) with_brain += b;
  EXPECT_GT(with_brain, 20);
  EXPECT_LT(with_brain, int(l.has_brain.size()));
  EXPECT_EQ(l.has_brain.front(), 0);
  const SliceLayout small = plan_slices(c.v.geom, c.m, 16, 16);
  EXPECT_TRUE(small.clipped);
}

TEST(Slicing, HarmonizedSlicesAreTheBrainOfTheSlicesWithOutput) {
  // Identity direction (LPS): file axis i runs left-right, so sagittal slices are i = const.
  Geometry g;
  g.size = {12, 12, 12};
  Mask brain(g, 0);
  Volume produced(g, 0.0f);
  for (std::size_t k = 2; k < 10; ++k)
    for (std::size_t j = 2; j < 10; ++j)
      for (std::size_t i = 2; i < 10; ++i) {
        brain.at(i, j, k) = 1;
        if (i % 3 == 0 && !(j == 5 && k == 5)) produced.at(i, j, k) = 0.4f;  // one dark voxel stays 0
      }
  const Mask r = harmonized_slices(produced, brain);
  for (std::size_t k = 0; k < 12; ++k)
    for (std::size_t j = 0; j < 12; ++j)
      for (std::size_t i = 0; i < 12; ++i)
        ASSERT_EQ(r.at(i, j, k), brain.at(i, j, k) && i % 3 == 0 ? 1 : 0) << i << " " << j << " " << k;
  // A grid whose left-right axis is k: the slices are k = const.
  Geometry h = g;
  h.direction = {0, 0, 1, 1, 0, 0, 0, 1, 0};  // columns: i -> y, j -> z, k -> x
  Volume p2(h, 0.0f);
  Mask b2(h, 1);
  p2.at(3, 4, 6) = 0.5f;
  const Mask r2 = harmonized_slices(p2, b2);
  EXPECT_EQ(r2.at(0, 0, 6), 1);
  EXPECT_EQ(r2.at(3, 4, 5), 0);
}
