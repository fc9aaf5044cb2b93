// Samplers driven by exact (oracle) denoisers, where the right answer is known.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/samplers.hpp"

using namespace harmonize;

namespace {

GaussianDiffusion fixed_small() {
  DiffusionConfig c;
  c.variance = ModelVariance::FixedSmall;
  c.loss = LossKind::Mse;
  return GaussianDiffusion(c);
}

// Knows x0: returns the exact eps of x_t (the model is told original timesteps,
// so the base process's abar applies). For learned variance it adds v.
Denoiser oracle(const GaussianDiffusion& base, const torch::Tensor& x0, bool learned, double v = 0.0) {
  return [&base, x0, learned, v](const torch::Tensor& xt, const torch::Tensor& t) {
    auto eps = base.predict_eps_from_x0(xt, t, x0);
    return learned ? torch::cat({eps, torch::full_like(eps, v)}, 1) : eps;
  };
}

// The exact denoiser for data x0 ~ N(0, s^2) per pixel: E[eps | x_t] =
// sqrt(1 - abar) x_t / (abar s^2 + 1 - abar).
Denoiser gaussian_data_oracle(const GaussianDiffusion& base, double s) {
  return [&base, s](const torch::Tensor& xt, const torch::Tensor& t) {
    const auto& ab = base.schedule().alphas_cumprod;
    std::vector<double> gain(ab.size());
    for (std::size_t i = 0; i < ab.size(); ++i) gain[i] = std::sqrt(1 - ab[i]) / (ab[i] * s * s + 1 - ab[i]);
    return base.extract(gain, t, xt) * xt;
  };
}

// A network with prediction "x0" (and a learned-variance channel) that knows x0 exactly.
Denoiser x0_oracle(const torch::Tensor& x0) {
  return [x0](const torch::Tensor& xt, const torch::Tensor&) {
    return torch::cat({x0.expand_as(xt), torch::zeros_like(xt)}, 1);
  };
}

double variance_of(const torch::Tensor& x) { return x.to(torch::kFloat64).var().item<double>(); }

}  // namespace

TEST(Samplers, DdpmWithOracleRecoversX0) {
  torch::manual_seed(0);
  const GaussianDiffusion base{DiffusionConfig{}};
  auto x0 = torch::rand({2, 1, 8, 8}) * 1.8 - 0.9;
  int calls = 0, last = 0;
  SamplerOptions o;
  o.seed = 7;
  o.progress = [&](int step, int total) {
    ++calls;
    last = step;
    EXPECT_EQ(total, 1000);
  };
  auto x = sample_ddpm(base, oracle(base, x0, true, 0.3), {2, 1, 8, 8}, o);
  EXPECT_LT((x - x0).abs().max().item<float>(), 1e-3);
  EXPECT_EQ(calls, 1000);
  EXPECT_EQ(last, 1000);
}

TEST(Samplers, DdimWithOracleRecoversX0OnARespacedProcess) {
  torch::manual_seed(1);
  const GaussianDiffusion base{DiffusionConfig{}};
  const auto d = base.respaced("ddim50");
  auto x0 = torch::rand({3, 1, 8, 8}) * 1.8 - 0.9;
  for (double eta : {0.0, 1.0}) {
    SamplerOptions o;
    o.seed = 3;
    auto x = sample_ddim(d, oracle(base, x0, true), {3, 1, 8, 8}, eta, o);
    EXPECT_LT((x - x0).abs().max().item<float>(), 1e-3) << "eta " << eta;
  }
  // fewer-step DDPM on the same respaced process
  auto x = sample_ddpm(d, oracle(base, x0, true, -1.0), {3, 1, 8, 8});
  EXPECT_LT((x - x0).abs().max().item<float>(), 1e-3);
}

TEST(Samplers, OneStepWithOracleKeepsTheForwardMarginal) {
  // x_t ~ q(x_t | x0) and an exact posterior step give x_{t-1} ~ q(x_{t-1} | x0)
  torch::manual_seed(2);
  const auto base = fixed_small();
  const auto d = base.respaced("ddim20");  // steps of 50
  const auto& ab = d.schedule().alphas_cumprod;
  auto x0 = torch::full({4, 1, 100, 100}, 0.5);
  const int i = 12;
  auto t = torch::full({4}, static_cast<int64_t>(i), torch::kLong);
  auto xt = d.q_sample(x0, t, torch::randn_like(x0));
  auto out = oracle(base, x0, false)(xt, d.model_timesteps(t));
  auto check = [&](const torch::Tensor& prev, const std::string& what) {
    EXPECT_NEAR(prev.mean().item<double>(), std::sqrt(ab[i - 1]) * 0.5, 0.02) << what;
    EXPECT_NEAR(variance_of(prev), 1 - ab[i - 1], 0.03 * (1 - ab[i - 1])) << what;
  };
  check(ddpm_step(d, out, xt, t, torch::randn_like(x0), false), "ddpm");
  check(ddim_step(d, out, xt, t, 0.0, torch::randn_like(x0), false), "ddim eta 0");
  check(ddim_step(d, out, xt, t, 1.0, torch::randn_like(x0), false), "ddim eta 1");
  // DDIM eta 0 is deterministic: the noise does not enter
  EXPECT_TRUE(torch::equal(ddim_step(d, out, xt, t, 0.0, torch::randn_like(x0), false),
                           ddim_step(d, out, xt, t, 0.0, torch::randn_like(x0), false)));
}

TEST(Samplers, GaussianDataVarianceFollowsTheExactLinearRecursion) {
  // For x0 ~ N(0, s^2) each step is x_{t-1} = a_t x_t + sigma_t z with known a_t,
  // so the sample variance after the full chain is known in closed form.
  torch::manual_seed(4);
  const double s = 0.5;
  const auto base = fixed_small();
  const auto& sc = base.schedule();
  SamplerOptions o;
  o.clip_x0 = false;
  o.seed = 11;
  auto x = sample_ddpm(base, gaussian_data_oracle(base, s), {2, 1, 64, 64}, o);
  double var = 1.0;
  for (int t = sc.steps() - 1; t >= 0; --t) {
    const double ab = sc.alphas_cumprod[t];
    const double c0 = std::sqrt(ab) * s * s / (ab * s * s + 1 - ab);  // pred_x0 = c0 x_t
    const double a = sc.posterior_mean_coef1[t] * c0 + sc.posterior_mean_coef2[t];
    var = a * a * var + (t > 0 ? sc.posterior_variance[t] : 0.0);
  }
  EXPECT_NEAR(var, s * s, 0.05 * s * s);  // the chain nearly reproduces the data distribution
  EXPECT_NEAR(variance_of(x), var, 0.06 * var);
  EXPECT_NEAR(x.mean().item<double>(), 0.0, 0.03);

  const auto d = base.respaced("ddim50");
  auto y = sample_ddim(d, gaussian_data_oracle(base, s), {2, 1, 64, 64}, 0.0, o);
  double gain = 1.0;
  for (int i = d.num_timesteps() - 1; i >= 0; --i) {
    const double ab = d.schedule().alphas_cumprod[i], abp = d.schedule().alphas_cumprod_prev[i];
    const double c0 = std::sqrt(ab) * s * s / (ab * s * s + 1 - ab);
    const double ce = std::sqrt(1 - ab) / (ab * s * s + 1 - ab);
    gain *= std::sqrt(abp) * c0 + std::sqrt(1 - abp) * ce;  // Song 2020 eq. 12, eta = 0
  }
  // 50 DDIM steps discretise the probability-flow ODE coarsely: ~11 % low here
  EXPECT_NEAR(gain * gain, s * s, 0.15 * s * s);
  EXPECT_NEAR(variance_of(y), gain * gain, 0.06 * gain * gain);
}

TEST(Samplers, SeedsGeneratorsAndStartNoise) {
  const auto base = fixed_small();
  const auto d = base.respaced("10");
  auto x0 = torch::zeros({1, 1, 8, 8});
  auto model = gaussian_data_oracle(base, 0.5);
  SamplerOptions a;
  a.seed = 5;
  auto s1 = sample_ddpm(d, model, {1, 1, 8, 8}, a);
  auto s2 = sample_ddpm(d, model, {1, 1, 8, 8}, a);
  EXPECT_TRUE(torch::equal(s1, s2));
  SamplerOptions b;
  b.seed = 6;
  EXPECT_FALSE(torch::equal(s1, sample_ddpm(d, model, {1, 1, 8, 8}, b)));
  SamplerOptions g;
  g.generator = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_TRUE(torch::equal(s1, sample_ddpm(d, model, {1, 1, 8, 8}, g)));
  // a given x_T makes DDIM eta 0 independent of the seed
  SamplerOptions c;
  c.x_T = torch::randn({1, 1, 8, 8});
  auto y1 = sample_ddim(d, model, {1, 1, 8, 8}, 0.0, c);
  c.seed = 99;
  EXPECT_TRUE(torch::equal(y1, sample_ddim(d, model, {1, 1, 8, 8}, 0.0, c)));
  c.x_T = torch::randn({1, 1, 4, 4});
  EXPECT_THROW(sample_ddim(d, model, {1, 1, 8, 8}, 0.0, c), Error);
  EXPECT_THROW(sample_ddim(d, model, {1, 1, 8, 8}, -1.0), UsageError);
  // a denoiser with the wrong output channels is reported, not broadcast
  EXPECT_THROW(sample_ddpm(d, oracle(base, x0, true), {1, 1, 8, 8}), Error);
}

TEST(Samplers, X0PredictionOracleRecoversX0WithDdpmAndDdim) {
  // A network that predicts x0 (prediction "x0") and knows it exactly.
  torch::manual_seed(2);
  DiffusionConfig c;
  c.prediction = "x0";
  const GaussianDiffusion base{c};
  const auto x0 = torch::rand({2, 1, 8, 8}) * 1.8 - 0.9;
  const Denoiser knows_x0 = x0_oracle(x0);
  SamplerOptions o;
  o.seed = 5;
  EXPECT_LT((sample_ddpm(base.respaced("20"), knows_x0, {2, 1, 8, 8}, o) - x0).abs().max().item<float>(), 1e-3);
  EXPECT_LT((sample_ddim(base.respaced("ddim10"), knows_x0, {2, 1, 8, 8}, 0.0, o) - x0).abs().max().item<float>(),
            1e-4);
  // One trailing step (t = 999 only) and two: the network's x0 comes out as it is, for DDIM and DDPM.
  for (int n : {1, 2}) {
    const GaussianDiffusion few = base.respaced(trailing_timesteps(1000, n));
    EXPECT_EQ(few.num_timesteps(), n);
    EXPECT_LT((sample_ddim(few, knows_x0, {2, 1, 8, 8}, 0.0, o) - x0).abs().max().item<float>(), 1e-4) << n;
    EXPECT_LT((sample_ddpm(few, knows_x0, {2, 1, 8, 8}, o) - x0).abs().max().item<float>(), 1e-2) << n;
  }
  // The prediction's eps is the exact noise of x_t, so the loss of the oracle is 0.
  const auto t = torch::tensor({10L, 700L});
  const auto noise = torch::randn({2, 1, 8, 8});
  const auto xt = base.q_sample(x0, t, noise);
  const auto terms = base.training_losses(knows_x0(xt, t), x0, xt, t, noise);
  EXPECT_LT(terms.mse.abs().max().item<float>(), 1e-10);
  const auto p = base.p_mean_variance(knows_x0(xt, t), xt, t, false);
  EXPECT_LT((p.eps - noise).abs().max().item<float>(), 2e-3);
}

TEST(Samplers, VPredictionOracleRecoversX0WithDdpmAndDdim) {
  // A network that predicts v = (sqrt(abar) x_t - x0) / sqrt(1 - abar) exactly.
  torch::manual_seed(3);
  DiffusionConfig c;
  c.prediction = "v";
  const GaussianDiffusion base{c};
  const auto x0 = torch::rand({2, 1, 8, 8}) * 1.8 - 0.9;
  const Denoiser knows_v = [x0, &base](const torch::Tensor& xt, const torch::Tensor& t) {
    const auto& s = base.schedule();  // t: the original timesteps (the respaced process maps them)
    const auto a = base.extract(s.sqrt_alphas_cumprod, t, xt), b = base.extract(s.sqrt_one_minus_alphas_cumprod, t, xt);
    return torch::cat({(a * xt - x0) / b, torch::zeros_like(xt)}, 1);
  };
  SamplerOptions o;
  o.seed = 6;
  EXPECT_LT((sample_ddpm(base.respaced("20"), knows_v, {2, 1, 8, 8}, o) - x0).abs().max().item<float>(), 1e-3);
  EXPECT_LT((sample_ddim(base.respaced("quad10"), knows_v, {2, 1, 8, 8}, 0.0, o) - x0).abs().max().item<float>(), 1e-4);
  // Its x0 and eps are exact, and its loss is 0.
  const auto t = torch::tensor({3L, 990L});
  const auto noise = torch::randn({2, 1, 8, 8});
  const auto xt = base.q_sample(x0, t, noise);
  const auto terms = base.training_losses(knows_v(xt, t), x0, xt, t, noise);
  EXPECT_LT(terms.mse.abs().max().item<float>(), 1e-10);
  const auto p = base.p_mean_variance(knows_v(xt, t), xt, t, false);
  EXPECT_LT((p.pred_x0 - x0).abs().max().item<float>(), 1e-4);
  EXPECT_LT((p.eps - noise).abs().max().item<float>(), 1e-4);
  // The definition: at t = 990 (abar ~ 4e-5) v is almost -x0, at t = 3 almost eps.
  const auto v = knows_v(xt, t).narrow(1, 0, 1);
  EXPECT_LT((v[1] + x0[1]).abs().max().item<float>(), 0.05);
  EXPECT_LT((v[0] - noise[0]).abs().max().item<float>(), 0.1);
}

TEST(Samplers, ALearnedVarianceOutOfRangeStaysFiniteWithFewRespacedSteps) {
  // A network whose variance channel is far outside [-1, 1] (as a trained
  // one's can be on data unlike its training slices): with 10 respaced DDPM
  // steps, beta_t is far above beta~_t and eq. 15 extrapolated to Inf and NaN.
  torch::manual_seed(4);
  DiffusionConfig c;
  c.prediction = "x0";
  const GaussianDiffusion base{c};
  ASSERT_EQ(base.variance(), ModelVariance::LearnedRange);
  const auto x0 = torch::rand({2, 1, 8, 8}) * 1.8 - 0.9;
  const Denoiser wild = [x0](const torch::Tensor& xt, const torch::Tensor&) {
    return torch::cat({x0.expand_as(xt), torch::full_like(xt, 400.0)}, 1);
  };
  SamplerOptions o;
  o.seed = 9;
  const auto x = sample_ddpm(base.respaced("10"), wild, {2, 1, 8, 8}, o);
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
  // The last step returns the x0 prediction, which this network knows.
  EXPECT_LT((x - x0).abs().max().item<float>(), 1e-4);
}
