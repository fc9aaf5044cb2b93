// The acquisition-noise estimate (mode of local variances) on images with known noise.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/noise.hpp"

using namespace harmonize;

namespace {

// [n, h, w]: a disc of brain (radius 0.42 of the size) on a zero background,
// intensity a smooth ramp plus a few flat "tissue" regions, plus N(0, sd).
torch::Tensor brain_like(int64_t n, int64_t size, double sd, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto idx = torch::arange(size, torch::kFloat32);
  const auto y = idx.reshape({size, 1}).expand({size, size});
  const auto x = idx.reshape({1, size}).expand({size, size});
  const double c = (size - 1) / 2.0;
  const auto r = torch::sqrt((x - c).pow(2) + (y - c).pow(2));
  // a ramp, a disc of another tissue and stripes: edges in about a third of the 5x5 windows
  auto signal = 0.4 + 0.3 * x / size + 0.25 * (r < size * 0.2).to(torch::kFloat32) +
                0.2 * (torch::remainder(y, 24) < 4).to(torch::kFloat32);
  const auto disc = (r < size * 0.42).to(torch::kFloat32);
  auto img = (signal.unsqueeze(0) + sd * torch::randn({n, size, size}, gen)) * disc.unsqueeze(0);
  return img;
}

}  // namespace

TEST(NoiseEstimate, RecoversTheSdOfWhiteNoiseInsideTheBrain) {
  for (double sd : {0.01, 0.033, 0.06}) {
    const double est = estimate_noise_sd(brain_like(6, 96, sd, 11));
    EXPECT_NEAR(est, sd, 0.05 * sd) << "sd " << sd;
  }
  // Strongly correlated noise (white noise averaged over 2x2: marginal sd
  // halves, neighbour correlation 0.5) comes out somewhat under its marginal sd.
  auto gen = at::detail::createCPUGenerator(8);
  auto white = 0.08 * torch::randn({6, 1, 97, 97}, gen);
  auto smooth = torch::avg_pool2d(white, {2, 2}, {1, 1}) + 0.5;  // marginal sd 0.04
  const double corr = estimate_noise_sd(smooth);
  EXPECT_LT(corr, 0.04);
  EXPECT_GT(corr, 0.8 * 0.04);
  // [N, 1, H, W] gives the same as [N, H, W].
  const auto img = brain_like(3, 64, 0.02, 5);
  EXPECT_DOUBLE_EQ(estimate_noise_sd(img), estimate_noise_sd(img.unsqueeze(1)));
}

TEST(NoiseEstimate, IgnoresSmoothSignalAndBackground) {
  // Without noise the flat and gently sloped windows dominate: close to 0.
  EXPECT_LT(estimate_noise_sd(brain_like(2, 96, 0.0, 1)), 0.005);
  // All background: nothing to measure.
  EXPECT_EQ(estimate_noise_sd(torch::zeros({2, 32, 32})), 0.0);
  // Noise in the background is not counted (only 3x3 windows wholly > 0).
  auto img = brain_like(2, 96, 0.02, 3);
  auto outside = (img == 0).to(torch::kFloat32);
  EXPECT_NEAR(estimate_noise_sd(img - 0.5 * outside.mul(torch::rand_like(img))), estimate_noise_sd(img), 1e-9);
  EXPECT_THROW(estimate_noise_sd(torch::zeros({2, 2, 8, 8})), Error);
}
