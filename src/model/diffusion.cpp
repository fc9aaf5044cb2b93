#include "model/diffusion.hpp"

#include <cmath>
#include <numbers>
#include <sstream>

#include "core/error.hpp"

namespace harmonize {

namespace {

// Mean over all dimensions but the batch dimension.
torch::Tensor mean_flat(const torch::Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < x.dim(); ++d) dims.push_back(d);
  return dims.empty() ? x : x.mean(dims);
}

// guided-diffusion approx_standard_normal_cdf: 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
torch::Tensor approx_standard_normal_cdf(const torch::Tensor& x) {
  return 0.5 * (1.0 + torch::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * torch::pow(x, 3))));
}

}  // namespace

torch::Tensor to_model_range(const torch::Tensor& x01) { return x01 * 2.0 - 1.0; }
torch::Tensor from_model_range(const torch::Tensor& x) { return (x + 1.0) * 0.5; }

torch::Tensor normal_kl(const torch::Tensor& mean1, const torch::Tensor& logvar1, const torch::Tensor& mean2,
                        const torch::Tensor& logvar2) {
  return 0.5 *
         (-1.0 + logvar2 - logvar1 + torch::exp(logvar1 - logvar2) + (mean1 - mean2).pow(2) * torch::exp(-logvar2));
}

torch::Tensor discretized_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& means,
                                                  const torch::Tensor& log_scales) {
  auto centered = x - means;
  auto inv_stdv = torch::exp(-log_scales);
  auto cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered + 1.0 / 255.0));
  auto cdf_min = approx_standard_normal_cdf(inv_stdv * (centered - 1.0 / 255.0));
  auto log_cdf_plus = torch::log(cdf_plus.clamp_min(1e-12));
  auto log_one_minus_cdf_min = torch::log((1.0 - cdf_min).clamp_min(1e-12));
  auto log_cdf_delta = torch::log((cdf_plus - cdf_min).clamp_min(1e-12));
  return torch::where(x < -0.999, log_cdf_plus, torch::where(x > 0.999, log_one_minus_cdf_min, log_cdf_delta));
}

Parameterization parameterization_from_string(const std::string& s) {
  if (s == "eps") return Parameterization::Eps;
  if (s == "x0") return Parameterization::X0;
  if (s == "v") return Parameterization::V;
  throw UsageError("prediction must be eps, x0 or v, not '" + s + "'");
}

GaussianDiffusion::GaussianDiffusion(const DiffusionConfig& config)
    : GaussianDiffusion((config.validate(), linear_betas(config.steps)), config.variance, config.loss,
                        parameterization_from_string(config.prediction)) {
  l1_ = config.loss_norm == "l1";
  histogram_weight_ = config.histogram_weight;
  spread_ = config.spread == "white" ? Spread::White : config.spread == "gaussian" ? Spread::Gaussian : Spread::None;
}

GaussianDiffusion::GaussianDiffusion(std::vector<double> betas, ModelVariance variance, LossKind loss,
                                     Parameterization target, std::vector<int> timestep_map)
    : schedule_(Schedule::from_betas(std::move(betas))),
      variance_(variance),
      loss_(loss),
      target_(target),
      timestep_map_(std::move(timestep_map)) {
  const int n = schedule_.steps();
  if (timestep_map_.empty())
    for (int i = 0; i < n; ++i) timestep_map_.push_back(i);
  if (static_cast<int>(timestep_map_.size()) != n) throw UsageError("timestep map does not match the schedule");
  if ((loss_ == LossKind::Hybrid) != (variance_ == ModelVariance::LearnedRange))
    throw UsageError("the hybrid loss goes with the learned_range variance, the mse loss with a fixed one");
  // Ho 2020 sigma_t^2 = beta_t, with beta~_1 at t = 0 (guided-diffusion FIXED_LARGE)
  fixed_large_variance_ = schedule_.betas;
  fixed_large_variance_[0] = schedule_.posterior_variance[1];
  for (double v : fixed_large_variance_) fixed_large_log_variance_.push_back(std::log(v));
}

GaussianDiffusion GaussianDiffusion::respaced(const std::string& spec) const {
  return respaced(space_timesteps(num_timesteps(), spec));
}

GaussianDiffusion GaussianDiffusion::respaced(const std::vector<int>& kept) const {
  std::vector<int> map;
  for (int t : kept) map.push_back(timestep_map_[t]);
  GaussianDiffusion d(respaced_betas(schedule_, kept), variance_, loss_, target_, std::move(map));
  d.l1_ = l1_;
  d.histogram_weight_ = histogram_weight_;
  d.spread_ = spread_;
  return d;
}

int64_t GaussianDiffusion::model_output_channels(int64_t channels) const {
  return network_output_channels(variance_, has_spread(), channels);
}

torch::Tensor GaussianDiffusion::spread_sd(const torch::Tensor& model_output, int64_t channels) const {
  if (!has_spread()) throw Error("diffusion: this model predicts no spread");
  if (model_output.dim() < 2 || model_output.size(1) != model_output_channels(channels))
    throw Error("diffusion: model output channels do not fit the spread");
  const auto s = model_output.narrow(1, model_output.size(1) - channels, channels);
  return torch::exp(0.5 * s.clamp(kSpreadMinLogVariance, kSpreadMaxLogVariance));
}

torch::Tensor GaussianDiffusion::model_timesteps(const torch::Tensor& t) const {
  auto map = torch::tensor(std::vector<int64_t>(timestep_map_.begin(), timestep_map_.end()), torch::kLong);
  return map.index_select(0, t.to(torch::kCPU, torch::kLong).reshape({-1})).to(t.device());
}

torch::Tensor GaussianDiffusion::sample_timesteps(int64_t batch, torch::Generator& gen, int64_t from) const {
  if (from < 0 || from >= num_timesteps())
    throw Error("diffusion: training timesteps from " + std::to_string(from) + " outside 0.." +
                std::to_string(num_timesteps() - 1));
  return torch::randint(from, num_timesteps(), {batch}, gen, torch::TensorOptions().dtype(torch::kLong));
}

torch::Tensor GaussianDiffusion::extract(const std::vector<double>& v, const torch::Tensor& t,
                                         const torch::Tensor& like) const {
  auto tc = t.to(torch::kCPU, torch::kLong).contiguous().reshape({-1});
  const int64_t b = tc.size(0);
  if (like.dim() < 1 || like.size(0) != b) {
    std::ostringstream msg;
    msg << "diffusion: " << b << " timesteps for a tensor of shape " << like.sizes();
    throw Error(msg.str());
  }
  auto out = torch::empty({b}, torch::kFloat64);
  auto* o = out.data_ptr<double>();
  const auto* ti = tc.data_ptr<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    if (ti[i] < 0 || ti[i] >= static_cast<int64_t>(v.size()))
      throw Error("diffusion: timestep index " + std::to_string(ti[i]) + " outside 0.." + std::to_string(v.size() - 1));
    o[i] = v[static_cast<std::size_t>(ti[i])];
  }
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = b;
  return out.to(like.scalar_type()).to(like.device()).reshape(shape);
}

torch::Tensor GaussianDiffusion::q_sample(const torch::Tensor& x0, const torch::Tensor& t,
                                          const torch::Tensor& noise) const {
  return extract(schedule_.sqrt_alphas_cumprod, t, x0) * x0 +
         extract(schedule_.sqrt_one_minus_alphas_cumprod, t, x0) * noise;
}

Gaussian GaussianDiffusion::q_mean_variance(const torch::Tensor& x0, const torch::Tensor& t) const {
  std::vector<double> one_minus(schedule_.steps());
  for (int i = 0; i < schedule_.steps(); ++i) one_minus[i] = 1.0 - schedule_.alphas_cumprod[i];
  auto var = extract(one_minus, t, x0);
  return {extract(schedule_.sqrt_alphas_cumprod, t, x0) * x0, var,
          extract(schedule_.log_one_minus_alphas_cumprod, t, x0)};
}

Gaussian GaussianDiffusion::q_posterior(const torch::Tensor& x0, const torch::Tensor& x_t,
                                        const torch::Tensor& t) const {
  auto mean =
      extract(schedule_.posterior_mean_coef1, t, x_t) * x0 + extract(schedule_.posterior_mean_coef2, t, x_t) * x_t;
  return {mean, extract(schedule_.posterior_variance, t, x_t),
          extract(schedule_.posterior_log_variance_clipped, t, x_t)};
}

torch::Tensor GaussianDiffusion::predict_x0_from_eps(const torch::Tensor& x_t, const torch::Tensor& t,
                                                     const torch::Tensor& eps) const {
  return extract(schedule_.sqrt_recip_alphas_cumprod, t, x_t) * x_t -
         extract(schedule_.sqrt_recipm1_alphas_cumprod, t, x_t) * eps;
}

torch::Tensor GaussianDiffusion::predict_eps_from_x0(const torch::Tensor& x_t, const torch::Tensor& t,
                                                     const torch::Tensor& x0) const {
  return (extract(schedule_.sqrt_recip_alphas_cumprod, t, x_t) * x_t - x0) /
         extract(schedule_.sqrt_recipm1_alphas_cumprod, t, x_t);
}

Prediction GaussianDiffusion::p_mean_variance(const torch::Tensor& model_output, const torch::Tensor& x_t,
                                              const torch::Tensor& t, bool clip_x0) const {
  const int64_t c = x_t.size(1);
  if (model_output.dim() != x_t.dim() || model_output.size(0) != x_t.size(0) ||
      model_output.size(1) != model_output_channels(c)) {
    std::ostringstream msg;
    msg << "diffusion: model output of shape " << model_output.sizes() << " for x_t of shape " << x_t.sizes()
        << " (variance " << to_string(variance_) << " needs " << model_output_channels(c) << " channels)";
    throw Error(msg.str());
  }
  Prediction p;
  if (variance_ == ModelVariance::LearnedRange) {
    p.eps = model_output.narrow(1, 0, c);
    auto v = model_output.narrow(1, c, c);
    // Nichol & Dhariwal eq. 15: Sigma = exp(v' log beta_t + (1 - v') log beta~_t), v' = (v + 1) / 2
    auto min_log = extract(schedule_.posterior_log_variance_clipped, t, x_t);
    auto max_log = extract(schedule_.log_betas, t, x_t);
    auto frac = (v + 1.0) / 2.0;
    p.log_variance = frac * max_log + (1.0 - frac) * min_log;
    p.variance = torch::exp(p.log_variance);
  } else {
    p.eps = model_output;
    const bool large = variance_ == ModelVariance::FixedLarge;
    p.variance = extract(large ? fixed_large_variance_ : schedule_.posterior_variance, t, x_t).expand_as(x_t);
    p.log_variance =
        extract(large ? fixed_large_log_variance_ : schedule_.posterior_log_variance_clipped, t, x_t).expand_as(x_t);
  }
  const auto first = p.eps;  // x0, v or eps (target_)
  p.pred_x0 = x0_estimate(first, x_t, t);
  if (target_ == Parameterization::X0)
    p.eps = predict_eps_from_x0(x_t, t, p.pred_x0);
  else if (target_ == Parameterization::V)
    p.eps = extract(schedule_.sqrt_one_minus_alphas_cumprod, t, x_t) * x_t +
            extract(schedule_.sqrt_alphas_cumprod, t, x_t) * first;
  if (clip_x0) p.pred_x0 = p.pred_x0.clamp(-1.0, 1.0);
  p.mean = q_posterior(p.pred_x0, x_t, t).mean;
  return p;
}

torch::Tensor GaussianDiffusion::vb_terms_bpd(const torch::Tensor& model_output, const torch::Tensor& x0,
                                              const torch::Tensor& x_t, const torch::Tensor& t, bool clip_x0) const {
  const auto truth = q_posterior(x0, x_t, t);
  const auto p = p_mean_variance(model_output, x_t, t, clip_x0);
  const double ln2 = std::log(2.0);
  auto kl = mean_flat(normal_kl(truth.mean, truth.log_variance, p.mean, p.log_variance)) / ln2;
  auto nll = -mean_flat(discretized_gaussian_log_likelihood(x0, p.mean, 0.5 * p.log_variance)) / ln2;
  return torch::where(t.to(x0.device()).reshape({-1}) == 0, nll, kl);
}

torch::Tensor GaussianDiffusion::x0_estimate(const torch::Tensor& first, const torch::Tensor& x_t,
                                             const torch::Tensor& t) const {
  if (target_ == Parameterization::X0) return first;
  if (target_ == Parameterization::V)  // x0 = sqrt(abar) x_t - sqrt(1 - abar) v
    return extract(schedule_.sqrt_alphas_cumprod, t, x_t) * x_t -
           extract(schedule_.sqrt_one_minus_alphas_cumprod, t, x_t) * first;
  return predict_x0_from_eps(x_t, t, first);
}

torch::Tensor sorted_intensity_distance(const torch::Tensor& a, const torch::Tensor& b) {
  const auto sa = std::get<0>(a.flatten(1).sort(1)), sb = std::get<0>(b.flatten(1).sort(1));
  return (sa - sb).abs().mean(1);
}

LossTerms GaussianDiffusion::training_losses(const torch::Tensor& model_output, const torch::Tensor& x0,
                                             const torch::Tensor& x_t, const torch::Tensor& t,
                                             const torch::Tensor& noise) const {
  const int64_t c = x0.size(1);
  if (model_output.dim() != x0.dim() || model_output.size(1) != model_output_channels(c))
    throw Error("diffusion: model output channels do not fit the " + to_string(variance_) + " variance");
  LossTerms terms;
  const auto eps = model_output.narrow(1, 0, c);  // or x0 or v (target_)
  torch::Tensor wanted = noise;
  if (target_ == Parameterization::X0) wanted = x0;
  if (target_ == Parameterization::V)
    wanted = extract(schedule_.sqrt_alphas_cumprod, t, x0) * noise -
             extract(schedule_.sqrt_one_minus_alphas_cumprod, t, x0) * x0;
  terms.mse = l1_ ? mean_flat((wanted - eps).abs()) : mean_flat((wanted - eps).pow(2));
  if (loss_ == LossKind::Hybrid) {
    // Stop the gradient of L_vlb into the mean: it trains the variance only.
    auto frozen = torch::cat({eps.detach(), model_output.narrow(1, c, model_output.size(1) - c)}, 1);
    terms.vb = vb_terms_bpd(frozen, x0, x_t, t, false) * (num_timesteps() / 1000.0);
  } else {
    terms.vb = torch::zeros_like(terms.mse);
  }
  terms.loss = terms.mse + terms.vb;
  if (histogram_weight_ > 0) {
    terms.histogram = sorted_intensity_distance(x0_estimate(eps, x_t, t), x0);
    terms.loss = terms.loss + histogram_weight_ * terms.histogram;
  } else {
    terms.histogram = torch::zeros_like(terms.mse);
  }
  if (has_spread()) {
    if (target_ != Parameterization::X0) throw Error("diffusion: a spread needs x0 prediction");
    const auto s = model_output.narrow(1, model_output.size(1) - c, c).clamp_min(kSpreadMinLogVariance);
    auto r = x0 - eps.detach();
    // white: the residual less its 3x3 mean; for white noise of variance v
    // that leaves 8/9 v (1 - 2/9 + 1/9), hence 9/8.
    if (spread_ == Spread::White)
      r = (r - torch::nn::functional::avg_pool2d(
                   r, torch::nn::functional::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false))) *
          std::sqrt(9.0 / 8.0);
    const auto r2 = r.pow(2);
    terms.spread = mean_flat(0.5 * (r2 * torch::exp(-s) + s));
    terms.loss = terms.loss + kSpreadLossWeight * terms.spread;
  } else {
    terms.spread = torch::zeros_like(terms.mse);
  }
  return terms;
}

}  // namespace harmonize
