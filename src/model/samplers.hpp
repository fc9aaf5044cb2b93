#pragma once
// Samplers: plain functions over a denoiser callback (the stable-diffusion.cpp
// pattern). The callback returns the raw model output for x_t; conditioning
// (concatenating the clean source slice, see conditional.hpp) is the caller's.
// All tensors stay in the model range [-1, 1] (diffusion.hpp).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>

#include "model/diffusion.hpp"

namespace harmonize {

// x_t [B, C, H, W] and the model timesteps t [B] int64 (original process
// timesteps: the sampler maps respaced indices through timestep_map) -> raw
// model output [B, C, H, W] (eps) or [B, 2C, H, W] (eps, v).
using Denoiser = std::function<torch::Tensor(const torch::Tensor& x_t, const torch::Tensor& t)>;
// Called after each step with (steps done, total steps).
using StepProgress = std::function<void(int step, int total)>;

struct SamplerOptions {
  // Noise source: `generator` if set (a CPU generator), otherwise a fresh CPU
  // generator seeded with `seed`. Noise is drawn on the CPU in float32 and then
  // moved to `device`, so a seed gives the same noise on every device.
  uint64_t seed = 0;
  std::optional<torch::Generator> generator;
  torch::Device device = torch::kCPU;
  bool clip_x0 = true;    // clamp the predicted x0 to the data range [-1, 1]
  torch::Tensor x_T;      // start from this instead of drawing x_T ~ N(0, I)
  StepProgress progress;  // optional
};

// One ancestral step (Ho 2020 Algorithm 2 line 4, in x0 form: mean of
// q(x_{t-1} | x_t, x0_pred), eq. 7, plus sigma_t z; no noise at t = 0).
torch::Tensor ddpm_step(const GaussianDiffusion& d, const torch::Tensor& model_output, const torch::Tensor& x_t,
                        const torch::Tensor& t, const torch::Tensor& noise, bool clip_x0);
// One DDIM step (Song 2020 eq. 12, with sigma_t(eta) of eq. 16):
// x_{t-1} = sqrt(abar_{t-1}) x0_pred + sqrt(1 - abar_{t-1} - sigma^2) eps + sigma z.
torch::Tensor ddim_step(const GaussianDiffusion& d, const torch::Tensor& model_output, const torch::Tensor& x_t,
                        const torch::Tensor& t, double eta, const torch::Tensor& noise, bool clip_x0);

// Ancestral sampling over all steps of `d` (T = 1000 for the paper; a respaced
// process for fewer steps), from x_T to x_0. shape = [B, C, H, W].
torch::Tensor sample_ddpm(const GaussianDiffusion& d, const Denoiser& model, at::IntArrayRef shape,
                          const SamplerOptions& options = {});
// DDIM sampling over all steps of `d` (normally d = base.respaced("ddimN")):
// eta = 0 deterministic, eta = 1 the DDPM posterior variance.
torch::Tensor sample_ddim(const GaussianDiffusion& d, const Denoiser& model, at::IntArrayRef shape, double eta,
                          const SamplerOptions& options = {});

}  // namespace harmonize
