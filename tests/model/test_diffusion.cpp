// Gaussian diffusion: forward process, posterior, model prediction, losses.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/diffusion.hpp"

using namespace harmonize;

namespace {

GaussianDiffusion learned() { return GaussianDiffusion(DiffusionConfig{}); }

GaussianDiffusion fixed(ModelVariance v) {
  DiffusionConfig c;
  c.variance = v;
  c.loss = LossKind::Mse;
  return GaussianDiffusion(c);
}

double item(const torch::Tensor& t) { return t.item<double>(); }

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

}  // namespace

TEST(Diffusion, QSampleHasTheForwardProcessMoments) {
  torch::manual_seed(0);
  const auto d = learned();
  const auto& s = d.schedule();
  auto x0 = torch::full({3, 1, 100, 100}, 0.6);
  auto t = torch::tensor({0, 300, 900}, torch::kLong);
  auto xt = d.q_sample(x0, t, torch::randn_like(x0));
  for (int b = 0; b < 3; ++b) {
    const int ti = t[b].item<int>();
    auto v = xt[b].to(torch::kFloat64);
    // Ho 2020 eq. 4: mean sqrt(abar) x0, variance 1 - abar; 1e4 samples
    EXPECT_NEAR(item(v.mean()), std::sqrt(s.alphas_cumprod[ti]) * 0.6, 0.03) << ti;
    EXPECT_NEAR(item(v.var()), 1.0 - s.alphas_cumprod[ti], 0.05 * (1.0 - s.alphas_cumprod[ti]) + 1e-6) << ti;
  }
  const auto mv = d.q_mean_variance(x0, t);
  EXPECT_NEAR(item(mv.variance[2].squeeze()), 1.0 - s.alphas_cumprod[900], 1e-7);
}

TEST(Diffusion, PosteriorIsTheProductOfTheTwoGaussians) {
  const auto d = learned();
  const auto& s = d.schedule();
  auto x0 = torch::tensor({-0.8, 0.1, 0.9}, f64).reshape({3, 1, 1, 1});
  auto xt = torch::tensor({1.3, -0.4, 0.2}, f64).reshape({3, 1, 1, 1});
  auto t = torch::tensor({1, 250, 999}, torch::kLong);
  const auto post = d.q_posterior(x0, xt, t);
  for (int b = 0; b < 3; ++b) {
    const int ti = t[b].item<int>();
    // q(x_{t-1}|x_t,x0) ∝ N(x_t; sqrt(alpha_t) x_{t-1}, beta_t) N(x_{t-1}; sqrt(abar_{t-1}) x0, 1 - abar_{t-1})
    const double beta = s.betas[ti], alpha = 1 - beta, abp = s.alphas_cumprod[ti - 1];
    const double precision = alpha / beta + 1.0 / (1.0 - abp);
    const double mean =
        (std::sqrt(alpha) / beta * item(xt[b].squeeze()) + std::sqrt(abp) / (1.0 - abp) * item(x0[b].squeeze())) /
        precision;
    EXPECT_NEAR(item(post.mean[b].squeeze()), mean, 1e-10) << ti;
    EXPECT_NEAR(item(post.variance[b].squeeze()), 1.0 / precision, 1e-12) << ti;
    EXPECT_NEAR(item(post.log_variance[b].squeeze()), std::log(1.0 / precision), 1e-9) << ti;
  }
}

TEST(Diffusion, EpsAndX0PredictionsInvertEachOther) {
  const auto d = learned();
  auto x0 = torch::rand({2, 1, 4, 4}, f64) * 2 - 1;
  auto eps = torch::randn({2, 1, 4, 4}, f64);
  auto t = torch::tensor({5, 600}, torch::kLong);
  auto xt = d.q_sample(x0, t, eps);
  EXPECT_LT(item((d.predict_x0_from_eps(xt, t, eps) - x0).abs().max()), 1e-10);
  EXPECT_LT(item((d.predict_eps_from_x0(xt, t, x0) - eps).abs().max()), 1e-10);
}

TEST(Diffusion, LearnedRangeInterpolatesBetweenPosteriorAndBetaLogVariance) {
  const auto d = learned();
  const auto& s = d.schedule();
  auto x0 = torch::rand({3, 1, 2, 2}, f64) * 2 - 1;
  auto eps = torch::randn({3, 1, 2, 2}, f64);
  auto t = torch::tensor({0, 40, 700}, torch::kLong);
  auto xt = d.q_sample(x0, t, eps);
  auto v = torch::tensor({-1.0, 0.0, 1.0}, f64).reshape({3, 1, 1, 1}).expand({3, 1, 2, 2});
  const auto p = d.p_mean_variance(torch::cat({eps, v}, 1), xt, t, false);
  // Nichol & Dhariwal eq. 15
  EXPECT_NEAR(item(p.log_variance[0][0][0][0]), s.posterior_log_variance_clipped[0], 1e-12);
  EXPECT_NEAR(item(p.log_variance[1][0][0][0]), 0.5 * (std::log(s.betas[40]) + std::log(s.posterior_variance[40])),
              1e-12);
  EXPECT_NEAR(item(p.log_variance[2][0][0][0]), std::log(s.betas[700]), 1e-12);
  // with the true eps the mean is the true posterior mean
  EXPECT_LT(item((p.pred_x0 - x0).abs().max()), 1e-9);
  EXPECT_LT(item((p.mean - d.q_posterior(x0, xt, t).mean).abs().max()), 1e-9);
  // wrong channel count
  EXPECT_THROW(d.p_mean_variance(eps, xt, t, false), Error);
  EXPECT_THROW(fixed(ModelVariance::FixedLarge).p_mean_variance(torch::cat({eps, v}, 1), xt, t, false), Error);
}

TEST(Diffusion, FixedVariancesAndClipping) {
  const auto base = learned();
  const auto& s = base.schedule();
  auto xt = torch::zeros({2, 1, 1, 1}, f64);
  auto t = torch::tensor({0, 10}, torch::kLong);
  auto eps = torch::full({2, 1, 1, 1}, -1000.0, f64);  // x0 prediction far outside [-1, 1]
  const auto large = fixed(ModelVariance::FixedLarge).p_mean_variance(eps, xt, t, true);
  EXPECT_NEAR(item(large.variance[0].squeeze()), s.posterior_variance[1], 1e-15);
  EXPECT_NEAR(item(large.variance[1].squeeze()), s.betas[10], 1e-15);
  const auto small = fixed(ModelVariance::FixedSmall).p_mean_variance(eps, xt, t, true);
  EXPECT_NEAR(item(small.variance[1].squeeze()), s.posterior_variance[10], 1e-15);
  EXPECT_DOUBLE_EQ(item(small.pred_x0.max()), 1.0);
  EXPECT_NEAR(item(small.mean[0].squeeze()), 1.0, 1e-9);  // posterior mean at t = 0 is x0
}

TEST(Diffusion, NormalKlMatchesTheClosedForm) {
  auto m1 = torch::tensor({0.3}, f64), m2 = torch::tensor({-0.2}, f64);
  auto lv1 = torch::tensor({std::log(0.5)}, f64), lv2 = torch::tensor({std::log(2.0)}, f64);
  const double expect = 0.5 * std::log(2.0 / 0.5) + (0.5 + 0.25) / (2 * 2.0) - 0.5;
  EXPECT_NEAR(item(normal_kl(m1, lv1, m2, lv2)), expect, 1e-12);
  EXPECT_NEAR(item(normal_kl(m1, lv1, m1, lv1)), 0.0, 1e-15);
}

TEST(Diffusion, DiscretizedLikelihoodIsANormalisedBinProbability) {
  // the 256 bin probabilities of data in [-1, 1] sum to one for any mean and scale
  auto bins = torch::linspace(-1.0, 1.0, 256, f64);
  for (double mean : {-0.95, 0.0, 0.4}) {
    for (double scale : {0.01, 0.3}) {
      auto lp = discretized_gaussian_log_likelihood(bins, torch::full_like(bins, mean),
                                                    torch::full_like(bins, std::log(scale)));
      EXPECT_NEAR(item(lp.exp().sum()), 1.0, 1e-6) << mean << " " << scale;
    }
  }
  // an interior bin: Phi((x + 1/255 - m)/s) - Phi((x - 1/255 - m)/s), tanh approximation within 1e-3
  const double x = 0.2, m = 0.25, sc = 0.05;
  auto phi = [](double z) { return 0.5 * (1 + std::erf(z / std::sqrt(2.0))); };
  const double exact = std::log(phi((x + 1 / 255.0 - m) / sc) - phi((x - 1 / 255.0 - m) / sc));
  auto lp = discretized_gaussian_log_likelihood(torch::tensor({x}, f64), torch::tensor({m}, f64),
                                                torch::tensor({std::log(sc)}, f64));
  EXPECT_NEAR(item(lp), exact, 1e-2 * std::abs(exact));
  // the edge bin x = -1 collects everything below
  auto edge = discretized_gaussian_log_likelihood(torch::tensor({-1.0}, f64), torch::tensor({-1.5}, f64),
                                                  torch::tensor({std::log(0.1)}, f64));
  EXPECT_NEAR(item(edge), 0.0, 1e-6);
}

TEST(Diffusion, HybridLossUsesDecoderNllAtZeroAndStopsTheMeanGradient) {
  torch::manual_seed(2);
  const auto d = learned();
  auto x0 = torch::rand({3, 1, 8, 8}) * 2 - 1;
  auto noise = torch::randn_like(x0);
  auto t = torch::tensor({0, 1, 500}, torch::kLong);
  auto xt = d.q_sample(x0, t, noise);
  auto out = torch::cat({noise + 0.1 * torch::randn_like(noise), torch::rand_like(noise) * 2 - 1}, 1);
  out.requires_grad_(true);
  const auto terms = d.training_losses(out, x0, xt, t, noise);
  ASSERT_EQ(terms.loss.sizes(), (std::vector<int64_t>{3}));
  EXPECT_TRUE(torch::isfinite(terms.loss).all().item<bool>());
  EXPECT_GT(terms.vb.min().item<float>(), 0.0f);
  // t = 0: -log p(x0|x1) in bits per dim; t > 0: KL in bits per dim
  const auto p = d.p_mean_variance(out.detach(), xt, t, false);
  const double ln2 = std::log(2.0);
  const double nll0 =
      -discretized_gaussian_log_likelihood(x0[0], p.mean[0], 0.5 * p.log_variance[0]).mean().item<double>() / ln2;
  EXPECT_NEAR(terms.vb[0].item<double>(), nll0, 1e-4 * std::abs(nll0));
  const auto q = d.q_posterior(x0, xt, t);
  const double kl2 = normal_kl(q.mean[2], q.log_variance[2], p.mean[2], p.log_variance[2]).mean().item<double>() / ln2;
  EXPECT_NEAR(terms.vb[2].item<double>(), kl2, 1e-4 * std::abs(kl2) + 1e-7);
  EXPECT_NEAR(terms.mse[1].item<double>(), (noise[1] - out[1][0]).pow(2).mean().item<double>(), 1e-6);
  // the vb term trains only the variance channel
  terms.vb.sum().backward();
  EXPECT_EQ(out.grad().narrow(1, 0, 1).abs().max().item<float>(), 0.0f);
  EXPECT_GT(out.grad().narrow(1, 1, 1).abs().max().item<float>(), 0.0f);
}

TEST(Diffusion, MseLossAndRespacedScaling) {
  const auto d = fixed(ModelVariance::FixedLarge);
  auto x0 = torch::zeros({2, 1, 4, 4});
  auto noise = torch::ones_like(x0);
  auto t = torch::tensor({3, 9}, torch::kLong);
  const auto terms = d.training_losses(torch::zeros_like(x0), x0, d.q_sample(x0, t, noise), t, noise);
  EXPECT_FLOAT_EQ(terms.loss[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(terms.vb[1].item<float>(), 0.0f);
  // hybrid on a 100-step process: lambda L_vlb = (T / 1000) L_t
  GaussianDiffusion d100(linear_betas(100), ModelVariance::LearnedRange, LossKind::Hybrid, Parameterization::Eps);
  auto xt = d100.q_sample(x0, t, noise);
  auto out = torch::cat({noise * 0.5, torch::zeros_like(x0)}, 1);
  const auto h = d100.training_losses(out, x0, xt, t, noise);
  const double vb = d100.vb_terms_bpd(out, x0, xt, t, false)[1].item<double>();
  EXPECT_NEAR(h.vb[1].item<double>(), 0.1 * vb, 1e-5 * std::abs(vb));
}

TEST(Diffusion, L1NormTakesTheMeanAbsoluteDifferenceOfTheTarget) {
  // x0 prediction, output 0 against x0 = [-0.5 x 8, +1 x 8]: l2 gives mean x0^2 = 0.625, l1 mean |x0| = 0.75.
  DiffusionConfig c;
  c.prediction = "x0";
  const GaussianDiffusion l2(c);
  c.loss_norm = "l1";
  const GaussianDiffusion l1(c);
  auto x0 = torch::cat({torch::full({1, 1, 2, 4}, -0.5), torch::ones({1, 1, 2, 4})}, 2);
  auto noise = torch::randn_like(x0);
  auto t = torch::tensor({17}, torch::kLong);
  const auto out = torch::zeros({1, 2, 4, 4});  // [x0, variance] of a learned-range model
  const auto xt = l2.q_sample(x0, t, noise);
  EXPECT_NEAR(l2.training_losses(out, x0, xt, t, noise).mse[0].item<double>(), 0.625, 1e-6);
  EXPECT_NEAR(l1.training_losses(out, x0, xt, t, noise).mse[0].item<double>(), 0.75, 1e-6);
  // the variance term does not depend on the norm
  EXPECT_NEAR(l1.training_losses(out, x0, xt, t, noise).vb[0].item<double>(),
              l2.training_losses(out, x0, xt, t, noise).vb[0].item<double>(), 1e-9);
  // a respaced process keeps the norm
  EXPECT_NEAR(
      l1.respaced("ddim10").training_losses(out, x0, xt, torch::tensor({3}, torch::kLong), noise).mse[0].item<double>(),
      0.75, 1e-6);
}

TEST(Diffusion, SortedIntensityDistanceIsTheWassersteinDistanceOfEachSample) {
  torch::manual_seed(3);
  const auto a = torch::randn({2, 1, 8, 8}, f64);
  // blind to where the values lie: a permutation within a sample costs nothing
  const auto shuffled = a.flatten(1).index_select(1, torch::randperm(64)).reshape_as(a);
  EXPECT_NEAR(item(sorted_intensity_distance(a, shuffled).abs().max()), 0.0, 1e-12);
  // a shift by c moves every sorted value by c; each sample is scored alone
  auto b = a.clone();
  b[1] += 0.25;
  const auto d = sorted_intensity_distance(a, b);
  EXPECT_NEAR(item(d[0]), 0.0, 1e-12);
  EXPECT_NEAR(item(d[1]), 0.25, 1e-12);
  // two-point distributions: {0 x 48, 1 x 16} against {0 x 32, 1 x 32}: a quarter of the values move by 1
  const auto p = torch::cat({torch::zeros({1, 1, 6, 8}, f64), torch::ones({1, 1, 2, 8}, f64)}, 2);
  const auto q = torch::cat({torch::ones({1, 1, 4, 8}, f64), torch::zeros({1, 1, 4, 8}, f64)}, 2);
  EXPECT_NEAR(item(sorted_intensity_distance(p, q)[0]), 0.25, 1e-12);
}

TEST(Diffusion, HistogramLossAddsTheEstimatesDistributionDistanceWithItsWeight) {
  // x0 prediction, L1: an output that is x0 with its values shuffled has a
  // voxel-wise loss but no histogram term; a constant output has both.
  DiffusionConfig c;
  c.prediction = "x0";
  c.loss_norm = "l1";
  const GaussianDiffusion plain(c);
  c.histogram_weight = 2.0;
  const GaussianDiffusion d(c);
  torch::manual_seed(4);
  const auto x0 = torch::rand({1, 1, 8, 8}) * 2 - 1;
  const auto noise = torch::randn_like(x0);
  const auto t = torch::tensor({500}, torch::kLong);
  const auto xt = d.q_sample(x0, t, noise);
  auto shuffled = torch::zeros({1, 2, 8, 8});
  shuffled.narrow(1, 0, 1).copy_(x0.flatten(1).index_select(1, torch::randperm(64)).reshape_as(x0));
  const auto s = d.training_losses(shuffled, x0, xt, t, noise);
  EXPECT_GT(item(s.mse[0]), 0.1);
  EXPECT_NEAR(item(s.histogram[0]), 0.0, 1e-6);
  EXPECT_NEAR(item(s.loss[0]), item(plain.training_losses(shuffled, x0, xt, t, noise).loss[0]), 1e-6);
  const auto flat = torch::zeros({1, 2, 8, 8});
  const auto f = d.training_losses(flat, x0, xt, t, noise);
  EXPECT_NEAR(item(f.histogram[0]), item(x0.abs().mean()), 1e-6);  // sorted 0s against sorted x0
  EXPECT_NEAR(item(f.loss[0]), item(f.mse[0] + f.vb[0]) + 2.0 * item(f.histogram[0]), 1e-5);
  EXPECT_EQ(item(plain.training_losses(flat, x0, xt, t, noise).histogram[0]), 0.0);
  // respacing keeps the weight
  const auto r = d.respaced("ddim10");
  EXPECT_GT(item(r.training_losses(flat, x0, xt, torch::tensor({3}, torch::kLong), noise).histogram[0]), 0.1);
  // v prediction: the term is on the x0 the output implies; the exact v gives 0
  c.prediction = "v";
  const GaussianDiffusion dv(c);
  const double sa = std::sqrt(dv.schedule().alphas_cumprod[500]), sb = std::sqrt(1.0 - sa * sa);
  auto exact = torch::zeros({1, 2, 8, 8});
  exact.narrow(1, 0, 1).copy_(sa * noise - sb * x0);
  EXPECT_NEAR(item(dv.training_losses(exact, x0, xt, t, noise).histogram[0]), 0.0, 1e-5);
  // its gradient reaches the estimate
  auto leaf = flat.clone().requires_grad_(true);
  d.training_losses(leaf, x0, xt, t, noise).histogram.sum().backward();
  EXPECT_GT(item(leaf.grad().narrow(1, 0, 1).abs().sum()), 0.0);
  EXPECT_EQ(item(leaf.grad().narrow(1, 1, 1).abs().sum()), 0.0);
}

TEST(Diffusion, SpreadIsTheGaussianLikelihoodOfTheResidualAndTrainsOnlyItsChannel) {
  // x0 prediction with a spread: output [x0, v, s]. x0 estimate 0 against
  // x0 = [-0.5 x 8, +1 x 8]: mean r^2 = 0.625; the loss term is
  // mean 0.5 (r^2 exp(-s) + s), smallest at s = log r^2 per voxel.
  DiffusionConfig c;
  c.prediction = "x0";
  const GaussianDiffusion plain(c);
  c.spread = "gaussian";
  const GaussianDiffusion d(c);
  ASSERT_TRUE(d.has_spread());
  EXPECT_FALSE(plain.has_spread());
  EXPECT_EQ(d.model_output_channels(1), 3);
  auto x0 = torch::cat({torch::full({1, 1, 2, 4}, -0.5), torch::ones({1, 1, 2, 4})}, 2);
  auto noise = torch::randn_like(x0);
  auto t = torch::tensor({17}, torch::kLong);
  const auto xt = d.q_sample(x0, t, noise);
  auto out = torch::zeros({1, 3, 4, 4});
  const auto at_zero = d.training_losses(out, x0, xt, t, noise);
  EXPECT_NEAR(at_zero.spread[0].item<double>(), 0.5 * 0.625, 1e-6);
  // the other terms are those of the model without a spread; loss is their sum
  const auto without = plain.training_losses(out.narrow(1, 0, 2), x0, xt, t, noise);
  EXPECT_NEAR(at_zero.mse[0].item<double>(), without.mse[0].item<double>(), 1e-7);
  EXPECT_NEAR(at_zero.vb[0].item<double>(), without.vb[0].item<double>(), 1e-6);
  EXPECT_NEAR(at_zero.loss[0].item<double>(),
              without.loss[0].item<double>() + kSpreadLossWeight * at_zero.spread[0].item<double>(), 1e-6);
  // at its optimum, s = log r^2 (0.25 and 1): 0.5 (1 + mean log r^2)
  auto best = out.clone();
  best.narrow(1, 2, 1).copy_((x0 * x0).log());
  const double at_best = d.training_losses(best, x0, xt, t, noise).spread[0].item<double>();
  EXPECT_NEAR(at_best, 0.5 * (1.0 + 0.5 * std::log(0.25)), 1e-6);
  EXPECT_LT(at_best, at_zero.spread[0].item<double>());
  // its sd: exp(s / 2), 0.5 and 1 here
  const auto sd = d.spread_sd(best, 1);
  EXPECT_NEAR(sd[0][0][0][0].item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(sd[0][0][3][3].item<double>(), 1.0, 1e-6);
  EXPECT_THROW(plain.spread_sd(out.narrow(1, 0, 2), 1), Error);
  // the likelihood's gradient reaches the spread channel only, not the estimate
  auto leaf = out.clone().requires_grad_(true);
  d.training_losses(leaf, x0, xt, t, noise).spread.sum().backward();
  EXPECT_EQ(leaf.grad().narrow(1, 0, 2).abs().max().item<double>(), 0.0);
  // d/ds of 0.5 (r^2 exp(-s) + s) over 16 voxels at s = 0: (1 - r^2) / 32, 0.75 / 32 where r^2 = 0.25
  EXPECT_NEAR(leaf.grad().narrow(1, 2, 1).abs().max().item<double>(), 0.75 / 32, 1e-7);
  // respacing keeps it; a model output without the channel is refused
  EXPECT_TRUE(d.respaced("ddim10").has_spread());
  EXPECT_THROW(d.training_losses(out.narrow(1, 0, 2), x0, xt, t, noise), Error);
  // far below the floor, the loss is the floor's (flat: no gradient to follow)
  auto low = out.clone();
  low.narrow(1, 2, 1).fill_(kSpreadMinLogVariance - 5.0);
  EXPECT_NEAR(d.training_losses(low, x0, xt, t, noise).spread[0].item<double>(),
              0.5 * (0.625 * std::exp(-kSpreadMinLogVariance) + kSpreadMinLogVariance), 1e-6 * std::exp(12.0));
  // and sampling reads the same floor
  EXPECT_NEAR(d.spread_sd(low, 1).min().item<double>(), std::exp(0.5 * kSpreadMinLogVariance), 1e-9);
}

// A white spread learns from the residual's high-pass part: a smooth residual
// (an offset, a ramp's interior) costs nothing beyond s; white noise of
// variance v keeps v (the 9/8 scaling of the 3x3 mean's removal).
TEST(Diffusion, AWhiteSpreadSeesOnlyTheResidualsHighPassPart) {
  DiffusionConfig c;
  c.prediction = "x0";
  c.spread = "white";
  const GaussianDiffusion d(c);
  ASSERT_TRUE(d.has_spread());
  EXPECT_EQ(d.model_output_channels(1), 3);
  const auto t = torch::tensor({17}, torch::kLong);
  auto loss_at = [&](const torch::Tensor& x0, double s) {
    auto out = torch::zeros({1, 3, x0.size(2), x0.size(3)});
    out.narrow(1, 2, 1).fill_(s);
    const auto noise = torch::zeros_like(x0);
    return d.training_losses(out, x0, d.q_sample(x0, t, noise), t, noise).spread[0].item<double>();
  };
  // an offset of 0.4 from the estimate 0: the gaussian spread would see r^2 = 0.16
  EXPECT_NEAR(loss_at(torch::full({1, 1, 8, 8}, 0.4), 0.0), 0.0, 1e-6);
  EXPECT_NEAR(loss_at(torch::full({1, 1, 8, 8}, 0.4), -1.0), -0.5, 1e-6);
  c.spread = "gaussian";
  EXPECT_NEAR(GaussianDiffusion(c)
                  .training_losses(torch::zeros({1, 3, 8, 8}), torch::full({1, 1, 8, 8}, 0.4),
                                   torch::zeros({1, 1, 8, 8}), t, torch::zeros({1, 1, 8, 8}))
                  .spread[0]
                  .item<double>(),
              0.5 * 0.16, 1e-6);
  // white noise, sd 0.1: at s = 0, 0.5 mean r^2 = 0.005 within 3 %
  torch::manual_seed(5);
  const auto white = 0.1 * torch::randn({1, 1, 128, 128});
  EXPECT_NEAR(loss_at(white, 0.0), 0.5 * 0.01, 0.03 * 0.005);
}

TEST(Diffusion, RespacedProcessMapsIndicesToOriginalTimesteps) {
  const auto base = learned();
  const auto r = base.respaced("ddim10");
  ASSERT_EQ(r.num_timesteps(), 10);
  auto mt = r.model_timesteps(torch::tensor({0, 1, 9}, torch::kLong));
  EXPECT_EQ(mt[0].item<int64_t>(), 0);
  EXPECT_EQ(mt[1].item<int64_t>(), 100);
  EXPECT_EQ(mt[2].item<int64_t>(), 900);
  EXPECT_NEAR(r.schedule().alphas_cumprod[9], base.schedule().alphas_cumprod[900], 1e-15);
  // respacing a respaced process composes the maps
  const auto rr = r.respaced("5");
  EXPECT_EQ(rr.timestep_map().back(), 900);
  EXPECT_THROW(r.extract(r.schedule().betas, torch::tensor({10}, torch::kLong), torch::zeros({1, 1})), Error);
  EXPECT_THROW(GaussianDiffusion(linear_betas(10), ModelVariance::FixedLarge, LossKind::Hybrid, Parameterization::Eps),
               UsageError);
}
