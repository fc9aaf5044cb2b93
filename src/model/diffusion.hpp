#pragma once
// Gaussian diffusion (Ho 2020) with the learned-range variance and hybrid loss
// of Nichol & Dhariwal 2021, after guided-diffusion's gaussian_diffusion.py and
// respace.py. Pure functions of tensors: the model is called by the caller (or
// by samplers.hpp through a callback), never here.
//
// Data range. The model works on x in [-1, 1] (the range the decoder
// likelihood, Ho 2020 eq. 13, is defined on, with bins of width 2/255). Our
// slices are on [0, 1]; they are mapped with to_model_range (2x - 1) where they
// enter the model, both the conditioning source and the target, and samples are
// mapped back with from_model_range. Predicted x0 is clamped to [-1, 1].
#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/schedule.hpp"

namespace harmonize {

torch::Tensor to_model_range(const torch::Tensor& x01);  // 2 x - 1
torch::Tensor from_model_range(const torch::Tensor& x);  // (x + 1) / 2

// KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) elementwise, in nats
// (closed form for two Gaussians; Nichol & Dhariwal eq. 5 terms L_t).
torch::Tensor normal_kl(const torch::Tensor& mean1, const torch::Tensor& logvar1, const torch::Tensor& mean2,
                        const torch::Tensor& logvar2);
// Log-likelihood (nats, elementwise) of data x in [-1, 1] discretised to 256
// bins under N(means, exp(2 log_scales)): Ho 2020 eq. 13, with the edge bins
// extended to -inf / +inf and guided-diffusion's tanh approximation of the
// normal CDF.
torch::Tensor discretized_gaussian_log_likelihood(const torch::Tensor& x, const torch::Tensor& means,
                                                  const torch::Tensor& log_scales);

// A Gaussian given by its mean and (log) variance, broadcastable to x.
struct Gaussian {
  torch::Tensor mean, variance, log_variance;
};

// p(x_{t-1} | x_t) from one model output, and the model's x0 and eps.
struct Prediction {
  torch::Tensor mean, variance, log_variance, pred_x0, eps;
};

// Per-sample loss terms, each [B]: loss = mse + vb.
struct LossTerms {
  torch::Tensor loss, mse, vb;
  torch::Tensor spread;     // the spread's Gaussian negative log likelihood (0 without a spread)
  torch::Tensor histogram;  // sorted_intensity_distance of the x0 estimate to x0 (0 without its weight)
};

// [B]: the mean absolute difference between the sorted values of each of a's
// and b's B samples ([B, ...], the same size): the 1-D Wasserstein distance
// between the two samples' intensity distributions, blind to where each
// intensity lies. Differentiable (through the sort's permutation).
torch::Tensor sorted_intensity_distance(const torch::Tensor& a, const torch::Tensor& b);

// What the network's first output channels are (DiffusionConfig::prediction).
// v = sqrt(abar) eps - sqrt(1 - abar) x0 (Salimans & Ho 2022, sec. 4): like eps
// at low noise, like -x0 at high noise.
enum class Parameterization { Eps, X0, V };
Parameterization parameterization_from_string(const std::string& s);  // "eps" | "x0" | "v"

// The spread's likelihood enters the loss with this weight. Adam scales each
// parameter's step by its own gradient, so the weights that feed only the
// spread channel learn at full speed whatever the weight; the layers shared
// with the x0 estimate are then trained by the estimate's loss (at weight 1
// the likelihood's gradient, sharp where the residual is small, doubled the
// estimate's L1 loss after 1500 steps and made it spike).
constexpr double kSpreadLossWeight = 0.01;
// The spread channel is the log variance in the model range; its zero (a
// fresh network's output) is variance 1, wider than any residual on [-1, 1],
// so the likelihood's gradient starts bounded and pulls the spread down to the
// residuals. Below this log variance (sd 0.0025 on [-1, 1]) the likelihood is
// flat in training (at low noise the residual is tiny and exp(-s) would blow
// up), and sampling reads the same floor; above the ceiling (sd 7.4) it is
// capped in sampling only.
constexpr double kSpreadMinLogVariance = -12.0;
constexpr double kSpreadMaxLogVariance = 4.0;

class GaussianDiffusion {
 public:
  explicit GaussianDiffusion(const DiffusionConfig& config);
  // A process from explicit betas. timestep_map[i] is the original timestep the
  // model is told at index i (identity when empty). Throws UsageError.
  GaussianDiffusion(std::vector<double> betas, ModelVariance variance, LossKind loss, Parameterization target,
                    std::vector<int> timestep_map = {});

  // guided-diffusion SpacedDiffusion: the process restricted to the timesteps
  // space_timesteps(num_timesteps(), spec) keeps (e.g. "ddim50", "100"); its
  // abar at index i equals this process's abar at the kept timestep, and the
  // model keeps being told the original timesteps (timestep_map).
  GaussianDiffusion respaced(const std::string& spec) const;
  // The same for a list of kept timesteps (ascending, as space_timesteps gives).
  GaussianDiffusion respaced(const std::vector<int>& kept) const;

  int num_timesteps() const { return schedule_.steps(); }
  const Schedule& schedule() const { return schedule_; }
  const std::vector<int>& timestep_map() const { return timestep_map_; }
  ModelVariance variance() const { return variance_; }
  LossKind loss() const { return loss_; }
  Parameterization parameterization() const { return target_; }
  // Channels the model must output for images of `channels` channels.
  int64_t model_output_channels(int64_t channels) const;
  // Does the model output the spread (DiffusionConfig::spread gaussian or white)?
  bool has_spread() const { return spread_ != Spread::None; }
  // The spread's standard deviation in the model range, from a raw model
  // output of `channels`-channel images (its last channels: the log variance,
  // held inside [kSpreadMinLogVariance, kSpreadMaxLogVariance]). Throws Error
  // without a spread.
  torch::Tensor spread_sd(const torch::Tensor& model_output, int64_t channels) const;
  // Index t (this process) -> timestep the model is conditioned on, same device.
  torch::Tensor model_timesteps(const torch::Tensor& t) const;
  // Uniformly random indices from..T-1 (0: the whole process), [batch] int64
  // on the CPU. Throws Error unless 0 <= from < T.
  torch::Tensor sample_timesteps(int64_t batch, torch::Generator& gen, int64_t from = 0) const;

  // coefficient v[t_b] for each batch element, shaped [B, 1, ..., 1] like `like`
  // (its dtype and device); values are taken in float64 and then cast.
  torch::Tensor extract(const std::vector<double>& v, const torch::Tensor& t, const torch::Tensor& like) const;

  // x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise (Ho 2020 eq. 4).
  torch::Tensor q_sample(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& noise) const;
  // q(x_t | x_0) mean and variance (Ho 2020 eq. 4).
  Gaussian q_mean_variance(const torch::Tensor& x0, const torch::Tensor& t) const;
  // q(x_{t-1} | x_t, x_0) (Ho 2020 eq. 6-7); variance at t = 0 is 0, its log clipped.
  Gaussian q_posterior(const torch::Tensor& x0, const torch::Tensor& x_t, const torch::Tensor& t) const;
  // x0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) (Ho 2020 eq. 15) and its inverse.
  torch::Tensor predict_x0_from_eps(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& eps) const;
  torch::Tensor predict_eps_from_x0(const torch::Tensor& x_t, const torch::Tensor& t, const torch::Tensor& x0) const;

  // p(x_{t-1} | x_t) from the raw model output ([B, C] eps, or [B, 2C] eps and
  // v for LearnedRange): variance per Nichol & Dhariwal eq. 15 or fixed, mean =
  // posterior mean at the predicted x0 (Ho 2020 eq. 11 in x0 form), x0 clamped
  // to [-1, 1] when clip_x0. Throws Error if the output channels do not fit.
  Prediction p_mean_variance(const torch::Tensor& model_output, const torch::Tensor& x_t, const torch::Tensor& t,
                             bool clip_x0) const;

  // Variational bound term L_t in bits per dimension, [B] (Nichol & Dhariwal
  // eq. 4-6): KL(q(x_{t-1}|x_t,x0) || p(x_{t-1}|x_t)) for t > 0 and the decoder
  // NLL -log p(x0 | x_1) (Ho 2020 eq. 13) at t = 0.
  torch::Tensor vb_terms_bpd(const torch::Tensor& model_output, const torch::Tensor& x0, const torch::Tensor& x_t,
                             const torch::Tensor& t, bool clip_x0) const;

  // Training loss for a model output at x_t = q_sample(x0, t, noise):
  // mse = mean ||noise - eps||^2 (Ho 2020 eq. 14; with loss_norm l1 the mean
  // absolute difference instead, under the same name); for Hybrid also vb =
  // L_t with the mean stopped (gradient only to v) times T/1000, i.e.
  // lambda L_vlb with lambda = 0.001 and L_vlb = T E_t[L_t] (Nichol & Dhariwal
  // eq. 16); for Mse vb is 0. With a spread (last channels: log variance
  // s, clamped below at kSpreadMinLogVariance to s'), also spread = mean
  // 0.5 (r^2 exp(-s') + s'),
  // r = x0 - the x0 estimate with the estimate held fixed (the gradient
  // trains the spread only; for a white spread r's high-pass part, see
  // DiffusionConfig::spread), added to loss times kSpreadLossWeight. With a
  // histogram weight w, also histogram = sorted_intensity_distance of the
  // x0 estimate (from the first channels, whatever the parameterization) to
  // x0, added times w.
  LossTerms training_losses(const torch::Tensor& model_output, const torch::Tensor& x0, const torch::Tensor& x_t,
                            const torch::Tensor& t, const torch::Tensor& noise) const;

 private:
  // x0 from the network's first channels (x0, v or eps per target_).
  torch::Tensor x0_estimate(const torch::Tensor& first, const torch::Tensor& x_t, const torch::Tensor& t) const;
  Schedule schedule_;
  ModelVariance variance_;
  LossKind loss_;
  Parameterization target_ = Parameterization::Eps;
  bool l1_ = false;                             // DiffusionConfig::loss_norm == "l1" (training only)
  double histogram_weight_ = 0;                 // DiffusionConfig::histogram_weight (training only)
  enum class Spread { None, Gaussian, White };  // DiffusionConfig::spread
  Spread spread_ = Spread::None;
  std::vector<int> timestep_map_;
  std::vector<double> fixed_large_variance_, fixed_large_log_variance_;
};

}  // namespace harmonize
