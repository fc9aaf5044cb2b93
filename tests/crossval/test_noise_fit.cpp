// The end-noise fit to tissue volumes (crossval/noise_fit.hpp) on phantoms.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "crossval/noise_fit.hpp"
#include "evaluate/phantom.hpp"

using namespace harmonize;
using harmonize::test::eval_phantom;

TEST(EndNoise, AddsSeededNoiseInsideTheMaskAndClampsToTheUnitRange) {
  Geometry g;
  g.size = {30, 30, 30};
  Mask m(g, 0);
  for (std::size_t n = 0; n < m.data.size(); ++n) m.data[n] = n % 5 != 0;
  Volume a(g, 0.5f), b(g, 0.5f);
  add_end_noise(a, m, 0.03, 7);
  add_end_noise(b, m, 0.03, 7);
  double s = 0, ss = 0;
  std::size_t c = 0;
  for (std::size_t n = 0; n < a.data.size(); ++n) {
    EXPECT_EQ(a.data[n], b.data[n]);
    if (!m.data[n]) {
      EXPECT_EQ(a.data[n], 0.5f);
      continue;
    }
    s += a.data[n] - 0.5;
    ss += (a.data[n] - 0.5) * (a.data[n] - 0.5);
    ++c;
  }
  EXPECT_NEAR(s / double(c), 0.0, 0.001);
  EXPECT_NEAR(std::sqrt(ss / double(c)), 0.03, 0.03 * 0.02);
  Volume d(g, 0.5f);
  add_end_noise(d, m, 0.03, 8);
  EXPECT_NE(a.data[1], d.data[1]);
  // Clamping: near 0 and 1 nothing leaves [0, 1]; sd 0 only clamps.
  Volume e(g, 0.01f);
  add_end_noise(e, m, 0.2, 1);
  for (std::size_t n = 0; n < e.data.size(); ++n) EXPECT_TRUE(e.data[n] >= 0.0f && e.data[n] <= 1.0f);
  Volume f(g, 1.5f);
  add_end_noise(f, m, 0.0, 1);
  EXPECT_EQ(f.data[1], 1.0f);
  EXPECT_EQ(f.data[0], 1.5f);
  EXPECT_THROW(add_end_noise(f, Mask(Geometry{}, 0), 0.1, 1), Error);
}

TEST(EndNoiseFit, OutputsEqualToTheTargetsNeedNoNoise) {
  const auto p = eval_phantom(28, 2.0, 3, 0.05);
  const NoiseFitData d{{p.image}, {p.image}, {p.brain}};
  const EndNoiseFit fit = fit_end_noise_to_volumes(d, d, 1, {0.0, 0.02, 0.04});
  EXPECT_EQ(fit.sd, 0.0);
  // Tried: the coarse levels and the midpoint next to the best one, ascending.
  ASSERT_EQ(fit.tried.size(), 4u);
  EXPECT_EQ(fit.tried[0].first, 0.0);
  EXPECT_EQ(fit.tried[1].first, 0.01);
  EXPECT_EQ(fit.tried[3].first, 0.04);
  EXPECT_EQ(fit.tried[0].second, 0.0);  // the map of a distribution onto itself is the identity
  for (std::size_t i = 1; i < fit.tried.size(); ++i) EXPECT_GE(fit.tried[i].second, 0.0);
  EXPECT_NEAR(fit.map(0.3), 0.3, 1e-6);
}

namespace {
// Thin layers, as in a cortex at 2 mm: along i, every 8 voxels CSF CSF GM WM WM WM WM GM
// (intensities 0.2, 0.55, 0.8), plus white noise of sd `noise`; brain = all but the border.
std::pair<Volume, Mask> layers(double noise, std::uint64_t seed) {
  Geometry g;
  g.size = {40, 24, 24};
  g.spacing = {2, 2, 2};
  Volume v(g, 0.0f);
  Mask brain(g, 0);
  const float level[8] = {0.2f, 0.2f, 0.55f, 0.8f, 0.8f, 0.8f, 0.8f, 0.55f};
  for (std::size_t k = 1; k + 1 < 24; ++k)
    for (std::size_t j = 1; j + 1 < 24; ++j)
      for (std::size_t i = 1; i + 1 < 40; ++i) {
        brain.at(i, j, k) = 1;
        v.at(i, j, k) = level[i % 8];
      }
  add_end_noise(v, brain, noise, seed);
  return {v, brain};
}
}  // namespace

TEST(EndNoiseFit, ANoiseFreeOutputOfANoisyTargetGetsNoiseThatBringsItsVolumesBack) {
  // The same anatomy: the target with noise sd 0.08, the output without.
  const auto [target, brain] = layers(0.08, 5);
  const auto [smooth, unused] = layers(0.0, 5);
  // The map fitted on every third slice, the volumes scored on the whole brain.
  Mask thirds = brain;
  for (std::size_t k = 0; k < 24; ++k)
    for (std::size_t j = 0; j < 24; ++j)
      for (std::size_t i = 0; i < 40; ++i)
        if (i % 3) thirds.at(i, j, k) = 0;
  const EndNoiseFit fit = fit_end_noise_to_volumes({{smooth}, {target}, {thirds}}, {{smooth}, {target}, {brain}}, 9,
                                                   {0.0, 0.04, 0.08, 0.12});
  double at_zero = -1, at_fit = -1;
  for (const auto& [sd, score] : fit.tried) {
    if (sd == 0.0) at_zero = score;
    if (sd == fit.sd) at_fit = score;
  }
  // Measured: 464 mm3 at sd 0, 400 at the fitted sd (the target's is 0.08; another noise field than the
  // target's). With the class means fixed at the cores' values (2026-12-01) it was 523 and 395; with the
  // segmentation before that (Potts EM, not converged) 2667 and 917: the converged segmentation depends
  // far less on the noise level, and refining the means made the noise-free output's volumes closer still.
  EXPECT_NEAR(fit.sd, 0.08, 0.021);
  EXPECT_LT(at_fit, 0.9 * at_zero);
  for (const auto& t : fit.tried) EXPECT_GE(t.second, at_fit);
}

TEST(EndNoiseFit, RefusesMismatchedInputs) {
  const auto p = eval_phantom(16, 2.0, 3, 0.05);
  const auto q = eval_phantom(18, 2.0, 3, 0.05);
  const NoiseFitData good{{p.image}, {p.image}, {p.brain}};
  EXPECT_THROW(fit_end_noise_to_volumes({}, good, 1), Error);
  EXPECT_THROW(fit_end_noise_to_volumes(good, {{p.image}, {q.image}, {p.brain}}, 1), Error);
  EXPECT_THROW(fit_end_noise_to_volumes({{p.image}, {p.image}, {p.brain, p.brain}}, good, 1), Error);
  EXPECT_THROW(fit_end_noise_to_volumes(good, good, 1, {}), Error);
}
