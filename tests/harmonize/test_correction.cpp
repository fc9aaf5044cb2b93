// The step after sampling (harmonize/correction.hpp): quantile maps, end
// noise and finish_output, which apply and crossval share.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "harmonize/correction.hpp"

using namespace harmonize;

TEST(QuantileMapping, UndoesAMonotoneDistortionOfPairedData) {
  // wanted = x, produced = a biased monotone distortion of x: the fitted map
  // sends produced back to wanted within the quantile resolution.
  Rng rng(4);
  std::vector<float> wanted, produced;
  for (int i = 0; i < 20000; ++i) {
    const double x = std::clamp(0.5 + 0.2 * rng.normal(), 0.0, 1.0);
    wanted.push_back(float(x));
    produced.push_back(float(0.1 + 0.6 * x * x));  // increasing on [0, 1]
  }
  const QuantileMap m = fit_quantile_map(produced, wanted);
  ASSERT_GE(m.from.size(), 50u);
  for (std::size_t i = 1; i < m.from.size(); ++i) {
    EXPECT_GT(m.from[i], m.from[i - 1]);
    EXPECT_GE(m.to[i], m.to[i - 1]);
  }
  for (double x : {0.3, 0.45, 0.5, 0.62, 0.7}) EXPECT_NEAR(m(0.1 + 0.6 * x * x), x, 0.004) << x;
  // Beyond the end points: slope 1.
  EXPECT_NEAR(m(m.from.back() + 0.1) - m.to.back(), 0.1, 1e-12);
  EXPECT_NEAR(m(m.from.front() - 0.1) - m.to.front(), -0.1, 1e-12);
  // Constant output: one point, a shift to the mean of the wanted quantiles (about the mean).
  const QuantileMap c = fit_quantile_map(std::vector<float>(200, 0.3f), wanted);
  ASSERT_EQ(c.from.size(), 1u);
  EXPECT_NEAR(c(0.3), 0.5, 0.01);
  EXPECT_THROW(fit_quantile_map(std::vector<float>(10, 0.3f), wanted), Error);
}

TEST(FinishOutput, ZeroesBackgroundAddsSeededNoiseInsideThenMaps) {
  Geometry g;
  g.size = {16, 16, 8};
  Volume v(g, 0.5f);
  Mask brain(g, 0);
  for (std::size_t n = 0; n < brain.data.size(); n += 2) brain.data[n] = 1;
  // Without noise or map: background 0, brain untouched.
  Volume a = v;
  finish_output(a, brain, Correction{}, 7);
  for (std::size_t n = 0; n < a.data.size(); ++n) EXPECT_EQ(a.data[n], brain.data[n] ? 0.5f : 0.0f) << n;
  // With noise: sd as asked inside the brain, none outside, the same for the same seed.
  Correction c;
  c.end_noise_sd = 0.05;
  Volume b = v, b2 = v, b3 = v;
  finish_output(b, brain, c, 11);
  finish_output(b2, brain, c, 11);
  finish_output(b3, brain, c, 12);
  EXPECT_EQ(b.data, b2.data);
  EXPECT_NE(b.data, b3.data);
  double s = 0, s2 = 0;
  std::size_t k = 0;
  for (std::size_t n = 0; n < b.data.size(); ++n) {
    if (!brain.data[n]) {
      EXPECT_EQ(b.data[n], 0.0f);
      continue;
    }
    const double d = b.data[n] - 0.5;
    s += d, s2 += d * d, ++k;
  }
  EXPECT_NEAR(s / k, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(s2 / k), 0.05, 0.006);
  // Then the map: a shift of +0.1 applied after the noise, to brain voxels only.
  c.map = QuantileMap{{0.0, 1.0}, {0.1, 1.1}};
  Volume m = v;
  finish_output(m, brain, c, 11);
  for (std::size_t n = 0; n < m.data.size(); ++n)
    EXPECT_FLOAT_EQ(m.data[n], brain.data[n] ? std::clamp(b.data[n] + 0.1f, 0.0f, 1.0f) : 0.0f) << n;
  // A mask on another grid is refused.
  Geometry other = g;
  other.size = {16, 16, 9};
  EXPECT_THROW(finish_output(m, Mask(other, 1), c, 1), Error);
}
