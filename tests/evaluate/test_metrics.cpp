// The paper's metrics on hand-computed cases: MSE sum and mean, the AHD's bins
// and clamping, Dice, Hausdorff (max and 95th percentile) in mm with
// anisotropic voxels, the empty-set conventions, volumes.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/overlap.hpp"
#include "evaluate/metrics.hpp"

using namespace harmonize;

namespace {
Volume line(std::vector<float> v) {
  Geometry g;
  g.size = {v.size(), 1, 1};
  Volume out(g);
  out.data = std::move(v);
  return out;
}
Mask line_mask(std::vector<std::uint8_t> v) {
  Geometry g;
  g.size = {v.size(), 1, 1};
  Mask out(g);
  out.data = std::move(v);
  return out;
}
Mask box(const Geometry& g, std::array<std::size_t, 3> lo, std::array<std::size_t, 3> hi, std::uint8_t label = 1) {
  Mask m(g, 0);
  for (std::size_t k = lo[2]; k < hi[2]; ++k)
    for (std::size_t j = lo[1]; j < hi[1]; ++j)
      for (std::size_t i = lo[0]; i < hi[0]; ++i) m.at(i, j, k) = label;
  return m;
}
Geometry cube_grid(std::size_t n, Vec3 spacing) {
  Geometry g;
  g.size = {n, n, n};
  g.spacing = spacing;
  return g;
}
}  // namespace

TEST(Metrics, MseSumAndMean) {
  const Volume a = line({0, 0.5f, 1, 0.25f}), b = line({0.5f, 0.5f, 0, 0.25f});
  EXPECT_DOUBLE_EQ(mse_sum(a, b), 1.25);
  EXPECT_DOUBLE_EQ(mse_mean(a, b), 1.25 / 4);
  const Mask m = line_mask({1, 1, 0, 0});
  EXPECT_DOUBLE_EQ(mse_sum(a, b, &m), 0.25);
  EXPECT_DOUBLE_EQ(mse_mean(a, b, &m), 0.125);
  const Mask none = line_mask({0, 0, 0, 0});
  EXPECT_EQ(mse_sum(a, b, &none), 0.0);
  EXPECT_TRUE(std::isnan(mse_mean(a, b, &none)));
  EXPECT_THROW(mse_sum(a, line({0, 1})), Error);
}

TEST(Metrics, HistogramBinEdgesAndClamping) {
  EXPECT_EQ(histogram_bin(0.0), 0);
  EXPECT_EQ(histogram_bin(-3.0), 0);   // clamped into the first bin
  EXPECT_EQ(histogram_bin(1.0), 254);  // the last bin is closed at 1
  EXPECT_EQ(histogram_bin(7.0), 254);  // clamped into the last bin
  EXPECT_EQ(histogram_bin(0.5), 127);  // floor(127.5)
  for (int k : {1, 2, 51, 100, 200, 254}) {
    EXPECT_EQ(histogram_bin(k / 255.0 + 1e-9), k) << k;
    EXPECT_EQ(histogram_bin(k / 255.0 - 1e-9), k - 1) << k;
  }
  const auto h = intensity_histogram(line({0, 0, 0.5f, 1, -1, 2}));
  ASSERT_EQ(h.size(), 255u);
  EXPECT_EQ(h[0], 3);  // two zeros and the clamped -1
  EXPECT_EQ(h[127], 1);
  EXPECT_EQ(h[254], 2);  // 1 and the clamped 2
  double total = 0;
  for (double x : h) total += x;
  EXPECT_EQ(total, 6);
  EXPECT_THROW(intensity_histogram(line({0, std::nanf("")})), Error);
}

TEST(Metrics, AhdCountsVoxels) {
  // a: bin0 x2, bin127 x1, bin254 x1; b: bin0 x1, bin127 x2, bin254 x1 -> |1| + |1| = 2.
  EXPECT_EQ(ahd(line({0, 0, 0.5f, 1}), line({0, 0.5f, 0.5f, 0.999f})), 2.0);
  EXPECT_EQ(ahd(line({-1, 2}), line({0, 1})), 0.0);  // clamped into the end bins
  // Every voxel in a different bin: AHD = 2 n.
  EXPECT_EQ(ahd(line({0.1f, 0.2f, 0.3f}), line({0.6f, 0.7f, 0.8f})), 6.0);
  // Brain vs whole volume: the whole-volume variant includes the background.
  const Volume a = line({0.3f, 0.6f, 0, 0, 0}), b = line({0.3f, 0.6f, 0.2f, 0, 0});
  const Mask brain = line_mask({1, 1, 0, 0, 0});
  EXPECT_EQ(ahd(a, b, &brain), 0.0);
  EXPECT_EQ(ahd(a, b), 2.0);  // one voxel moved from bin 0 to bin 51
}

TEST(Metrics, DiceAndVolumes) {
  const Geometry g = cube_grid(10, {0.8, 1.7, 2.5});
  const Mask a = box(g, {0, 0, 0}, {4, 5, 5});  // 100 voxels
  const Mask b = box(g, {2, 0, 0}, {6, 5, 5});  // 100 voxels, 50 shared
  EXPECT_DOUBLE_EQ(dice(a, b, 1), 0.5);
  EXPECT_DOUBLE_EQ(voxel_volume_mm3(g), 0.8 * 1.7 * 2.5);
  EXPECT_EQ(label_count(a, 1), 100u);
  EXPECT_NEAR(label_volume_mm3(a, 1), 100 * 0.8 * 1.7 * 2.5, 1e-9);
  EXPECT_EQ(label_volume_mm3(a, 2), 0.0);
}

TEST(Metrics, NearestRankPercentile) {
  std::vector<double> v;
  for (int i = 20; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(nearest_rank_percentile(v, 95), 19);  // ceil(0.95 * 20) = 19th smallest
  EXPECT_EQ(nearest_rank_percentile(v, 100), 20);
  std::vector<double> w{4, 1, 3, 2};
  EXPECT_EQ(nearest_rank_percentile(w, 50), 2);
  EXPECT_EQ(nearest_rank_percentile(w, 95), 4);  // ceil(3.8) = 4
  std::vector<double> one{7};
  EXPECT_EQ(nearest_rank_percentile(one, 95), 7);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(nearest_rank_percentile(none, 95)));
}

TEST(Metrics, HausdorffOfOffsetCubesAlongEachAxis) {
  const Vec3 spacing{0.8, 1.7, 2.5};
  const Geometry g = cube_grid(32, spacing);
  const Mask a = box(g, {10, 10, 10}, {20, 20, 20});
  for (int axis = 0; axis < 3; ++axis)
    for (std::size_t k : {1u, 3u}) {
      std::array<std::size_t, 3> lo{10, 10, 10}, hi{20, 20, 20};
      lo[axis] += k, hi[axis] += k;
      const Mask b = box(g, lo, hi);
      const auto d = surface_distances(a, b, 1);
      EXPECT_NEAR(d.hd, double(k) * spacing[axis], 1e-4) << "axis " << axis << " shift " << k;
      // A whole face is k voxels away (> 5 % of the surface): the 95th percentile is k too.
      EXPECT_NEAR(d.hd95, double(k) * spacing[axis], 1e-4) << "axis " << axis << " shift " << k;
      EXPECT_EQ(d.surface_a, 1000u - 512u);  // 10^3 cube minus its 8^3 interior
      EXPECT_EQ(d.surface_b, 488u);
      const auto r = surface_distances(b, a, 1);  // symmetric
      EXPECT_EQ(r.hd, d.hd);
      EXPECT_EQ(r.hd95, d.hd95);
    }
}

TEST(Metrics, HausdorffOfASpikeAndPercentile) {
  // b = a plus a 5-voxel spike along x: hd = 5 voxels (tip to a's face); only
  // 5 of b's 492 surface voxels are off a's surface and one of a's is 1 voxel
  // from b's surface, so both 95th percentiles are 0.
  const Geometry g = cube_grid(32, {1.5, 1, 1});
  const Mask a = box(g, {10, 10, 10}, {20, 20, 20});
  Mask b = a;
  for (std::size_t i = 20; i < 25; ++i) b.at(i, 15, 15) = 1;
  const auto d = surface_distances(a, b, 1);
  EXPECT_NEAR(d.hd, 5 * 1.5, 1e-4);
  EXPECT_EQ(d.hd95, 0.0);
  EXPECT_EQ(d.surface_b, 488u - 1u + 5u);
}

TEST(Metrics, HausdorffOfShiftedSpheres) {
  const Geometry g = cube_grid(40, {1, 1, 1});
  auto sphere = [&](double cx) {
    Mask m(g, 0);
    for (std::size_t k = 0; k < 40; ++k)
      for (std::size_t j = 0; j < 40; ++j)
        for (std::size_t i = 0; i < 40; ++i) {
          const double x = double(i) - cx, y = double(j) - 19.0, z = double(k) - 19.0;
          m.at(i, j, k) = x * x + y * y + z * z <= 10.0 * 10.0 ? 2 : 0;
        }
    return m;
  };
  const Mask a = sphere(17), b = sphere(21);  // shifted by 4 voxels
  const auto d = surface_distances(a, b, 2);
  EXPECT_NEAR(d.hd, 4.0, 1e-4);  // the poles along x
  EXPECT_GT(d.hd95, 2.0);
  EXPECT_LE(d.hd95, 4.0);
  EXPECT_EQ(surface_distances(a, a, 2).hd, 0.0);
  // Labels other than the one asked for are ignored.
  EXPECT_EQ(surface_distances(a, b, 1).hd, 0.0);  // both empty
}

TEST(Metrics, HausdorffAtTheGridEdgeAndEmptySets) {
  // Slabs touching the grid's x = 0 face: that face is surface of both (0 apart);
  // the far faces are 2 voxels apart.
  const Geometry g = cube_grid(10, {2, 1, 1});
  const Mask a = box(g, {0, 0, 0}, {5, 10, 10}), b = box(g, {0, 0, 0}, {7, 10, 10});
  const auto d = surface_distances(a, b, 1);
  EXPECT_NEAR(d.hd, 4.0, 1e-4);
  const Mask empty(g, 0);
  const auto both = surface_distances(empty, empty, 1);
  EXPECT_EQ(both.hd, 0.0);
  EXPECT_EQ(both.hd95, 0.0);
  const auto one = surface_distances(a, empty, 1);
  EXPECT_TRUE(std::isnan(one.hd));
  EXPECT_TRUE(std::isnan(one.hd95));
  // A single voxel against itself and against a neighbour.
  Mask p(g, 0), q(g, 0);
  p.at(3, 3, 3) = 1;
  q.at(3, 4, 3) = 1;
  EXPECT_EQ(surface_distances(p, p, 1).hd, 0.0);
  EXPECT_NEAR(surface_distances(p, q, 1).hd, 1.0, 1e-6);
  EXPECT_THROW(surface_distances(p, Mask(cube_grid(9, {1, 1, 1}), 0), 1), Error);
}
