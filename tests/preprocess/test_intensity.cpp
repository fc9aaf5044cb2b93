#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "preprocess/intensity.hpp"

using namespace harmonize;

namespace {
Geometry grid() {
  Geometry g;
  g.size = {20, 15, 10};
  return g;
}
}  // namespace

TEST(Intensity, PercentilesMatchADirectComputation) {
  Volume v(grid());
  Mask m(grid(), 0);
  Rng r(3);
  std::vector<double> inside;
  for (std::size_t n = 0; n < v.data.size(); ++n) {
    v.data[n] = float(r.normal(100, 20));
    m.data[n] = (n % 3) != 0;
    if (m.data[n]) inside.push_back(v.data[n]);
  }
  std::sort(inside.begin(), inside.end());
  for (double q : {0.0, 0.1, 25.0, 50.0, 99.9, 100.0}) {
    // numpy.percentile's linear definition, computed directly from the sorted values
    const double pos = q / 100.0 * double(inside.size() - 1);
    const std::size_t lo = std::size_t(std::floor(pos));
    const std::size_t hi = std::min(inside.size() - 1, lo + 1);
    const double expected = inside[lo] + (pos - double(lo)) * (inside[hi] - inside[lo]);
    EXPECT_NEAR(masked_percentile(v, m, q), expected, 1e-4) << q;
  }
}

TEST(Intensity, ClipsAndScalesToUnitRangeWithZeroBackground) {
  Volume v(grid());
  Mask m(grid(), 1);
  for (std::size_t n = 0; n < v.data.size(); ++n) v.data[n] = float(n);
  m.data[0] = 0;
  const auto w = brain_window(v, m, 0.1, 99.9);
  const Volume out = normalise(v, m, w);
  EXPECT_EQ(out.data[0], 0.0f);
  float lo = 1, hi = 0;
  for (std::size_t n = 1; n < out.data.size(); ++n) lo = std::min(lo, out.data[n]), hi = std::max(hi, out.data[n]);
  EXPECT_FLOAT_EQ(lo, 0.0f);
  EXPECT_FLOAT_EQ(hi, 1.0f);
  // A value inside the window maps linearly.
  const std::size_t mid = 1500;
  EXPECT_NEAR(out.data[mid], (double(mid) - w.lo) / (w.hi - w.lo), 1e-6);
  // 0.1 % of 2999 brain voxels lie below the lower bound and are clipped to 0.
  const auto zeros = std::count(out.data.begin() + 1, out.data.end(), 0.0f);
  EXPECT_GE(zeros, 2);
  EXPECT_LE(zeros, 5);
}

TEST(Intensity, RefusesConstantBrainAndEmptyMask) {
  Volume v(grid(), 5.0f);
  Mask m(grid(), 1);
  EXPECT_THROW(brain_window(v, m), Error);
  Mask empty(grid(), 0);
  EXPECT_THROW(masked_percentile(v, empty, 50), Error);
}
