#include "model/samplers.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace harmonize {

namespace {

torch::Tensor nonzero_mask(const torch::Tensor& t, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = like.size(0);
  return (t.to(like.device()) != 0).to(like.scalar_type()).reshape(shape);
}

class NoiseSource {
 public:
  explicit NoiseSource(const SamplerOptions& o)
      : gen_(o.generator ? *o.generator : at::make_generator<at::CPUGeneratorImpl>(o.seed)), device_(o.device) {}
  torch::Tensor draw(at::IntArrayRef shape) {
    return torch::randn(shape, gen_, torch::TensorOptions().dtype(torch::kFloat32)).to(device_);
  }

 private:
  torch::Generator gen_;
  torch::Device device_;
};

using Step = std::function<torch::Tensor(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& t,
                                         const torch::Tensor& noise)>;

// The loop both samplers share: x_T, then for i = T-1 .. 0 one step with the
// model output at (x_i, timestep_map[i]).
torch::Tensor run_loop(const GaussianDiffusion& d, const Denoiser& model, at::IntArrayRef shape,
                       const SamplerOptions& o, const Step& step) {
  if (shape.size() < 2) throw Error("sampler: shape must be [B, C, ...]");
  if (!model) throw Error("sampler: no denoiser given");
  NoiseSource noise(o);
  torch::Tensor x;
  if (o.x_T.defined()) {
    if (o.x_T.sizes() != shape) {
      std::ostringstream msg;
      msg << "sampler: x_T of shape " << o.x_T.sizes() << ", expected " << shape;
      throw Error(msg.str());
    }
    x = o.x_T.to(o.device, torch::kFloat32);
  } else {
    x = noise.draw(shape);
  }
  torch::NoGradGuard no_grad;
  const int total = d.num_timesteps();
  for (int i = total - 1; i >= 0; --i) {
    auto t = torch::full({shape[0]}, static_cast<int64_t>(i), torch::TensorOptions().dtype(torch::kLong));
    auto out = model(x, d.model_timesteps(t).to(o.device));
    auto z = i > 0 ? noise.draw(shape) : torch::zeros_like(x);
    x = step(out, x, t, z);
    if (o.progress) o.progress(total - i, total);
  }
  // Both samplers' last step (t = 0) returns the x0 prediction.
  return x;
}

}  // namespace

torch::Tensor ddpm_step(const GaussianDiffusion& d, const torch::Tensor& model_output, const torch::Tensor& x_t,
                        const torch::Tensor& t, const torch::Tensor& noise, bool clip_x0) {
  const auto p = d.p_mean_variance(model_output, x_t, t, clip_x0);
  torch::Tensor log_variance = p.log_variance;
  if (d.variance() == ModelVariance::LearnedRange) {
    // The learned variance interpolates between beta~_t and beta_t (Nichol &
    // Dhariwal eq. 15); a network output outside [-1, 1] extrapolates, and
    // with few respaced steps (beta_t far above beta~_t) that extrapolation
    // overflowed to Inf and NaN in some voxels. Sampling keeps it in range.
    const auto lo = d.extract(d.schedule().posterior_log_variance_clipped, t, x_t);
    const auto hi = d.extract(d.schedule().log_betas, t, x_t);
    log_variance = torch::max(torch::min(log_variance, torch::max(lo, hi)), torch::min(lo, hi));
  }
  return p.mean + nonzero_mask(t, x_t) * torch::exp(0.5 * log_variance) * noise;
}

torch::Tensor ddim_step(const GaussianDiffusion& d, const torch::Tensor& model_output, const torch::Tensor& x_t,
                        const torch::Tensor& t, double eta, const torch::Tensor& noise, bool clip_x0) {
  const auto p = d.p_mean_variance(model_output, x_t, t, clip_x0);
  // eps consistent with the (possibly clamped) x0 prediction
  const auto eps = d.predict_eps_from_x0(x_t, t, p.pred_x0);
  // Song 2020 eq. 16 in float64: sigma = eta sqrt((1-abar_prev)/(1-abar)) sqrt(1 - abar/abar_prev)
  const auto& s = d.schedule();
  std::vector<double> sigma(s.steps()), dir(s.steps());
  for (int i = 0; i < s.steps(); ++i) {
    const double ab = s.alphas_cumprod[i], abp = s.alphas_cumprod_prev[i];
    sigma[i] = eta * std::sqrt((1.0 - abp) / (1.0 - ab)) * std::sqrt(1.0 - ab / abp);
    dir[i] = std::sqrt(std::max(0.0, 1.0 - abp - sigma[i] * sigma[i]));
  }
  std::vector<double> sqrt_abp(s.steps());
  for (int i = 0; i < s.steps(); ++i) sqrt_abp[i] = std::sqrt(s.alphas_cumprod_prev[i]);
  // Song 2020 eq. 12
  auto mean = d.extract(sqrt_abp, t, x_t) * p.pred_x0 + d.extract(dir, t, x_t) * eps;
  return mean + nonzero_mask(t, x_t) * d.extract(sigma, t, x_t) * noise;
}

torch::Tensor sample_ddpm(const GaussianDiffusion& d, const Denoiser& model, at::IntArrayRef shape,
                          const SamplerOptions& options) {
  return run_loop(d, model, shape, options,
                  [&](const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& t,
                      const torch::Tensor& z) { return ddpm_step(d, out, x, t, z, options.clip_x0); });
}

torch::Tensor sample_ddim(const GaussianDiffusion& d, const Denoiser& model, at::IntArrayRef shape, double eta,
                          const SamplerOptions& options) {
  if (!(eta >= 0.0)) throw UsageError("DDIM eta must be non-negative");
  return run_loop(d, model, shape, options,
                  [&](const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& t,
                      const torch::Tensor& z) { return ddim_step(d, out, x, t, eta, z, options.clip_x0); });
}

}  // namespace harmonize
