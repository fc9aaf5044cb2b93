// Noise schedule, timestep respacing and configuration JSON (no LibTorch).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/config.hpp"
#include "model/schedule.hpp"

using namespace harmonize;

TEST(Schedule, LinearBetasEndpointsAndSpacing) {
  const auto b = linear_betas(1000);
  ASSERT_EQ(b.size(), 1000u);
  EXPECT_DOUBLE_EQ(b.front(), 1e-4);
  EXPECT_DOUBLE_EQ(b.back(), 0.02);
  EXPECT_NEAR(b[1] - b[0], (0.02 - 1e-4) / 999.0, 1e-15);
  EXPECT_NEAR(b[500], 1e-4 + 500 * (0.02 - 1e-4) / 999.0, 1e-15);
  // guided-diffusion scales the endpoints by 1000 / T
  const auto b100 = linear_betas(100);
  EXPECT_DOUBLE_EQ(b100.front(), 1e-3);
  EXPECT_DOUBLE_EQ(b100.back(), 0.2);
  EXPECT_THROW(linear_betas(1), UsageError);
}

TEST(Schedule, AlphasCumprodIsTheProductOfOneMinusBeta) {
  const auto s = Schedule::from_betas(linear_betas(1000));
  for (int t : {0, 1, 10, 499, 999}) {
    double prod = 1.0;
    for (int k = 0; k <= t; ++k) prod *= 1.0 - (1e-4 + k * (0.02 - 1e-4) / 999.0);
    EXPECT_NEAR(s.alphas_cumprod[t], prod, 1e-12 * std::max(1.0, prod)) << "t=" << t;
    EXPECT_NEAR(s.sqrt_alphas_cumprod[t], std::sqrt(prod), 1e-12);
    EXPECT_NEAR(s.sqrt_recipm1_alphas_cumprod[t], std::sqrt(1.0 / prod - 1.0), 1e-9 * std::sqrt(1.0 / prod));
  }
  EXPECT_DOUBLE_EQ(s.alphas_cumprod_prev[0], 1.0);
  EXPECT_DOUBLE_EQ(s.alphas_cumprod_prev[10], s.alphas_cumprod[9]);
  EXPECT_DOUBLE_EQ(s.alphas_cumprod_next[999], 0.0);
  // the paper's T = 1000 linear schedule ends with almost pure noise
  EXPECT_LT(s.alphas_cumprod[999], 1e-4);
  EXPECT_GT(s.alphas_cumprod[999], 1e-5);
}

TEST(Schedule, PosteriorVarianceAndMeanCoefficients) {
  const auto s = Schedule::from_betas(linear_betas(1000));
  for (int t : {1, 2, 100, 999}) {
    const double ab = s.alphas_cumprod[t], abp = s.alphas_cumprod[t - 1], beta = s.betas[t];
    // Ho 2020 eq. 7
    EXPECT_NEAR(s.posterior_variance[t], (1 - abp) / (1 - ab) * beta, 1e-15);
    EXPECT_NEAR(s.posterior_log_variance_clipped[t], std::log((1 - abp) / (1 - ab) * beta), 1e-10);
    EXPECT_NEAR(s.posterior_mean_coef1[t], std::sqrt(abp) * beta / (1 - ab), 1e-14);
    EXPECT_NEAR(s.posterior_mean_coef2[t], std::sqrt(1 - beta) * (1 - abp) / (1 - ab), 1e-14);
    // posterior variance is below beta_t (Ho 2020 sec. 3.2: the two extremes)
    EXPECT_LT(s.posterior_variance[t], beta);
  }
  EXPECT_DOUBLE_EQ(s.posterior_variance[0], 0.0);
  EXPECT_DOUBLE_EQ(s.posterior_log_variance_clipped[0], std::log(s.posterior_variance[1]));
  // at t = 0 the posterior mean is x0 itself
  EXPECT_NEAR(s.posterior_mean_coef1[0], 1.0, 1e-12);
  EXPECT_NEAR(s.posterior_mean_coef2[0], 0.0, 1e-15);
  EXPECT_THROW(Schedule::from_betas({}), UsageError);
  EXPECT_THROW(Schedule::from_betas({0.1, 0.0}), UsageError);
  // One step (a respaced chain's shortest): x0 comes out at once, its clipped log variance is finite.
  const auto one = Schedule::from_betas({0.9});
  EXPECT_NEAR(one.posterior_mean_coef1[0], 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(one.posterior_log_variance_clipped[0], std::log(0.9));
}

TEST(Respacing, DdimStrideAndSections) {
  const auto d50 = space_timesteps(1000, "ddim50");
  ASSERT_EQ(d50.size(), 50u);
  EXPECT_EQ(d50[0], 0);
  EXPECT_EQ(d50[1], 20);
  EXPECT_EQ(d50.back(), 980);
  const auto ten = space_timesteps(1000, "10");  // stride 999/9 = 111, ends included
  ASSERT_EQ(ten.size(), 10u);
  EXPECT_EQ(ten[1], 111);
  EXPECT_EQ(ten.back(), 999);
  // two sections of 500 steps: 0, 499 | 500, 749.5 -> round half to even 750, 999
  const auto two = space_timesteps(1000, "2,3");
  EXPECT_EQ(two, (std::vector<int>{0, 499, 500, 750, 999}));
  // Python round(): 2.5 -> 2 (sections of 6 with 3 counts: stride 2.5)
  EXPECT_EQ(space_timesteps(6, "3"), (std::vector<int>{0, 2, 5}));
  EXPECT_EQ(space_timesteps(1000, "1000").size(), 1000u);
  EXPECT_EQ(space_timesteps(1000, "ddim7").size(), 7u);        // stride 143
  EXPECT_THROW(space_timesteps(1000, "ddim999"), UsageError);  // no integer stride gives 999
  EXPECT_THROW(space_timesteps(10, "11"), UsageError);
  EXPECT_THROW(space_timesteps(1000, "abc"), UsageError);
  EXPECT_THROW(space_timesteps(1000, "10,"), UsageError);
}

TEST(Respacing, QuadraticGridIsDenseAtLowNoise) {
  // t_i = round((i/19)^2 * 999): 0, 2.77 -> 3, 11.07 -> 11, 24.9 -> 25, ..., 999
  const auto q = space_timesteps(1000, "quad20");
  ASSERT_EQ(q.size(), 20u);
  EXPECT_EQ(q[0], 0);
  EXPECT_EQ(q[1], 3);
  EXPECT_EQ(q[2], 11);
  EXPECT_EQ(q[3], 25);
  EXPECT_EQ(q[10], 277);  // (10/19)^2 * 999 = 276.7
  EXPECT_EQ(q.back(), 999);
  // where the square grid repeats a step, the next free step is taken
  EXPECT_EQ(space_timesteps(10, "10"), space_timesteps(10, "quad10"));
  const auto small = space_timesteps(20, "quad6");  // 0, 0.76, 3.04, 6.84, 12.16, 19
  EXPECT_EQ(small, (std::vector<int>{0, 1, 3, 7, 12, 19}));
  EXPECT_THROW(space_timesteps(1000, "quad1"), UsageError);
  EXPECT_THROW(space_timesteps(10, "quad11"), UsageError);
  EXPECT_THROW(space_timesteps(1000, "quadx"), UsageError);
  EXPECT_THROW(space_timesteps(1000, "quad20x"), UsageError);
  EXPECT_THROW(space_timesteps(1000, "ddim20x"), UsageError);
}

// Trailing spacing starts every chain at the last timestep: one step is
// t = 999 (pure noise in, x0 out), which the stride rules cannot give.
TEST(Respacing, TrailingSpacingEndsAtTheLastTimestep) {
  EXPECT_EQ(trailing_timesteps(1000, 1), (std::vector<int>{999}));
  EXPECT_EQ(trailing_timesteps(1000, 2), (std::vector<int>{499, 999}));
  EXPECT_EQ(trailing_timesteps(1000, 4), (std::vector<int>{249, 499, 749, 999}));
  EXPECT_EQ(trailing_timesteps(1000, 8), (std::vector<int>{124, 249, 374, 499, 624, 749, 874, 999}));
  EXPECT_EQ(trailing_timesteps(1000, 3), (std::vector<int>{332, 666, 999}));  // 1000 - 2000/3 = 333.3 -> 333
  std::vector<int> all(10);
  for (int t = 0; t < 10; ++t) all[std::size_t(t)] = t;
  EXPECT_EQ(trailing_timesteps(10, 10), all);
  EXPECT_THROW(trailing_timesteps(1000, 0), UsageError);
  EXPECT_THROW(trailing_timesteps(10, 11), UsageError);
  EXPECT_THROW(ddim_timesteps(1000, 1), UsageError);  // why trailing exists
  const auto base = Schedule::from_betas(linear_betas(1000));
  const auto one = Schedule::from_betas(respaced_betas(base, trailing_timesteps(1000, 1)));
  ASSERT_EQ(one.steps(), 1);
  EXPECT_NEAR(one.alphas_cumprod[0], base.alphas_cumprod[999], 1e-14);
  EXPECT_LT(one.alphas_cumprod[0], 1e-4);  // the one step starts from (nearly) pure noise
}

TEST(Respacing, KeptTimestepsKeepTheirAlphasCumprod) {
  const auto base = Schedule::from_betas(linear_betas(1000));
  const auto kept = space_timesteps(1000, "ddim25");
  const auto s = Schedule::from_betas(respaced_betas(base, kept));
  ASSERT_EQ(s.steps(), 25);
  for (int i = 0; i < 25; ++i) EXPECT_NEAR(s.alphas_cumprod[i], base.alphas_cumprod[kept[i]], 1e-14);
  EXPECT_NEAR(s.betas[0], base.betas[0], 1e-15);  // kept[0] = 0
}

TEST(Config, PresetsValidateAndRoundTripThroughJson) {
  for (const auto& name : unet_preset_names()) {
    const auto c = unet_preset(name);
    EXPECT_NO_THROW(c.validate()) << name;
    const nlohmann::json j = c;
    EXPECT_EQ(j.get<UNetConfig>(), c) << name;
  }
  const auto paper = unet_preset("paper");
  EXPECT_EQ(paper.model_channels, 128);
  EXPECT_EQ(paper.channel_mult, (std::vector<int>{1, 1, 1, 1}));
  EXPECT_TRUE(paper.attention_resolutions.empty());
  EXPECT_EQ(paper.size_multiple(), 8);
  EXPECT_THROW(unet_preset("huge"), UsageError);
}

TEST(Config, JsonRejectsUnknownKeysBadTypesAndInvalidValues) {
  nlohmann::json j = unet_preset("cpu");
  j["width"] = 3;
  EXPECT_THROW(j.get<UNetConfig>(), Error);
  j = unet_preset("cpu");
  j["num_heads"] = "one";
  EXPECT_THROW(j.get<UNetConfig>(), Error);
  j = unet_preset("cpu");
  j["model_channels"] = 20;  // not divisible by 32 groups
  EXPECT_THROW(j.get<UNetConfig>(), UsageError);
  j = unet_preset("cpu");
  j["attention_resolutions"] = {3};
  EXPECT_THROW(j.get<UNetConfig>(), UsageError);
  // absent keys keep the paper defaults
  EXPECT_EQ(nlohmann::json::object().get<UNetConfig>(), unet_preset("paper"));
}

TEST(Config, DiffusionJsonAndConsistency) {
  DiffusionConfig d;
  d.variance = ModelVariance::FixedSmall;
  d.loss = LossKind::Mse;
  const nlohmann::json j = d;
  EXPECT_EQ(j.at("variance"), "fixed_small");
  EXPECT_EQ(j.get<DiffusionConfig>(), d);
  nlohmann::json bad = d;
  bad["loss"] = "hybrid";  // hybrid needs the learned variance
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
  bad = d;
  bad["schedule"] = "cosine";
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
  // the loss norm: written only when it is not the paper's l2, so l2 models' files are unchanged
  EXPECT_FALSE(j.contains("loss_norm"));
  d.loss_norm = "l1";
  const nlohmann::json l1 = d;
  EXPECT_EQ(l1.at("loss_norm"), "l1");
  EXPECT_EQ(l1.get<DiffusionConfig>(), d);
  bad = d;
  bad["loss_norm"] = "huber";
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
  // the spread: absent unless gaussian, x0 prediction only, one more output channel
  EXPECT_FALSE(l1.contains("spread"));
  EXPECT_EQ(d.output_channels(), 1);  // fixed variance
  d.prediction = "x0";
  d.spread = "gaussian";
  EXPECT_EQ(d.output_channels(), 2);
  // per image channel: prediction, variance interpolation (learned range), spread
  EXPECT_EQ(network_output_channels(ModelVariance::LearnedRange, true, 3), 9);
  EXPECT_EQ(network_output_channels(ModelVariance::FixedSmall, false, 3), 3);
  EXPECT_EQ(network_output_channels(ModelVariance::FixedLarge, true, 1), 2);
  const nlohmann::json spread = d;
  EXPECT_EQ(spread.at("spread"), "gaussian");
  EXPECT_EQ(spread.get<DiffusionConfig>(), d);
  EXPECT_EQ(DiffusionConfig{}.output_channels(), 2);  // the paper's: eps and v
  EXPECT_EQ(unet_preset("small", d).out_channels, 2);
  d.variance = ModelVariance::LearnedRange;
  d.loss = LossKind::Hybrid;
  EXPECT_EQ(unet_preset("small", d).out_channels, 3);
  bad = d;
  bad["spread"] = "laplace";
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
  bad = d;
  bad["prediction"] = "eps";
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
  // the histogram loss's weight: absent at 0, kept otherwise, never negative
  EXPECT_FALSE(spread.contains("histogram_weight"));
  d.histogram_weight = 1.5;
  const nlohmann::json weighted = d;
  EXPECT_EQ(weighted.at("histogram_weight"), 1.5);
  EXPECT_EQ(weighted.get<DiffusionConfig>(), d);
  bad = weighted;
  bad["histogram_weight"] = -1;
  EXPECT_THROW(bad.get<DiffusionConfig>(), UsageError);
}
