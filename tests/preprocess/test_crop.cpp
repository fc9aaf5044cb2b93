// The head's box inside a larger field of view: found on a phantom despite
// bright noise voxels, widened within the grid, cropped and pasted back exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "preprocess/crop.hpp"

using namespace harmonize;

namespace {
// A bright ellipsoid "head" at a known place in a 96x80x64 field of view of
// 1.5 mm voxels, faint noise everywhere, and a few isolated bright voxels.
Volume wide_field(Box& head) {
  Geometry g;
  g.size = {96, 80, 64};
  g.spacing = {1.5, 1.5, 1.5};
  g.origin = {-10, 20, 5};
  g.direction = rotation_xyz(0.1, 0.2, -0.3);
  Volume v(g);
  const double c[3] = {30, 45, 25}, r[3] = {12, 15, 10};
  head = Box{{96, 80, 64}, {0, 0, 0}};
  std::uint32_t s = 7;
  for (std::size_t k = 0; k < 64; ++k)
    for (std::size_t j = 0; j < 80; ++j)
      for (std::size_t i = 0; i < 96; ++i) {
        const double d =
            std::pow((i - c[0]) / r[0], 2) + std::pow((j - c[1]) / r[1], 2) + std::pow((k - c[2]) / r[2], 2);
        s = s * 1664525u + 1013904223u;
        float x = 0.02f * float(s >> 8) / float(1 << 24);  // background noise, 0..0.02
        if (d <= 1.0) {
          x += 1.0f;
          const std::size_t ijk[3] = {i, j, k};
          for (int a = 0; a < 3; ++a)
            head.lo[a] = std::min(head.lo[a], ijk[a]), head.hi[a] = std::max(head.hi[a], ijk[a] + 1);
        }
        v.at(i, j, k) = x;
      }
  v.at(2, 3, 60) = 5.0f;  // isolated bright voxels far from the head
  v.at(90, 70, 2) = 5.0f;
  return v;
}
}  // namespace

TEST(Crop, HeadBoxIsTheBrightObjectNotItsIsolatedNoise) {
  Box truth;
  const Volume v = wide_field(truth);
  const Box b = head_box(v, 4);
  // The ellipsoid's tips (planes with fewer than 4 of its voxels) may be left
  // to the margin; the isolated voxels at the corners are not taken.
  for (int a = 0; a < 3; ++a) {
    EXPECT_GE(b.lo[a], truth.lo[a]) << b.describe() << " vs " << truth.describe();
    EXPECT_LE(b.lo[a], truth.lo[a] + 1) << b.describe() << " vs " << truth.describe();
    EXPECT_LE(b.hi[a], truth.hi[a]) << b.describe() << " vs " << truth.describe();
    EXPECT_GE(b.hi[a] + 1, truth.hi[a]) << b.describe() << " vs " << truth.describe();
  }
  // A flat image has no head.
  EXPECT_TRUE(head_box(Volume(v.geom, 3.0f)).empty());
}

TEST(Crop, GrowStaysOnTheGridAndMasksGiveTheirBox) {
  Box truth;
  const Volume v = wide_field(truth);
  const Box g = grow(truth, v.geom, 10.0);  // ceil(10 / 1.5) = 7 voxels
  for (int a = 0; a < 3; ++a) {
    EXPECT_EQ(g.lo[a], truth.lo[a] >= 7 ? truth.lo[a] - 7 : 0);
    EXPECT_EQ(g.hi[a], std::min(v.geom.size[a], truth.hi[a] + 7));
  }
  Mask m(v.geom, 0);
  m.at(10, 20, 30) = m.at(40, 21, 33) = 1;
  const Box mb = bounding_box(m);
  EXPECT_EQ(mb.lo, (std::array<std::size_t, 3>{10, 20, 30}));
  EXPECT_EQ(mb.hi, (std::array<std::size_t, 3>{41, 22, 34}));
  EXPECT_TRUE(bounding_box(Mask(v.geom, 0)).empty());
}

TEST(Crop, CropAndPasteAreExactAndKeepWorldPositions) {
  Box truth;
  const Volume v = wide_field(truth);
  const Box b = grow(truth, v.geom, 3.0);
  const Volume part = crop(v, b);
  EXPECT_EQ(part.geom.voxels(), b.voxels());
  // The same world point in both grids.
  const Vec3 w_full = v.geom.index_to_world({double(b.lo[0] + 2), double(b.lo[1] + 3), double(b.lo[2] + 4)});
  const Vec3 w_part = part.geom.index_to_world({2, 3, 4});
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(w_full[a], w_part[a], 1e-9);
  EXPECT_EQ(part.at(2, 3, 4), v.at(b.lo[0] + 2, b.lo[1] + 3, b.lo[2] + 4));
  const Volume back = paste(part, v.geom, b, -1.0f);
  for (std::size_t k = 0; k < v.geom.size[2]; ++k)
    for (std::size_t j = 0; j < v.geom.size[1]; ++j)
      for (std::size_t i = 0; i < v.geom.size[0]; ++i) {
        const bool in = i >= b.lo[0] && i < b.hi[0] && j >= b.lo[1] && j < b.hi[1] && k >= b.lo[2] && k < b.hi[2];
        ASSERT_EQ(back.at(i, j, k), in ? v.at(i, j, k) : -1.0f) << i << "," << j << "," << k;
      }
  EXPECT_THROW(crop(v, Box{{0, 0, 0}, {97, 1, 1}}), Error);
  EXPECT_THROW(paste(part, v.geom, Box{{0, 0, 0}, {1, 1, 1}}), Error);
}
