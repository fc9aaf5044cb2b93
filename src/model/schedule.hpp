#pragma once
// The noise schedule of a Gaussian diffusion in float64 arithmetic (as numpy does
// in guided-diffusion): every per-timestep coefficient the forward process, the
// posterior and the samplers use. No LibTorch here; diffusion.hpp turns entries
// into tensors when they are used. Index t runs 0..T-1 (paper's t = index + 1).
#include <string>
#include <vector>

namespace harmonize {

// guided-diffusion get_named_beta_schedule("linear", T): betas evenly spaced
// from 1e-4 * 1000/T to 0.02 * 1000/T (Ho 2020 sec. 4, scaled so that any T
// gives about the same total noise).
std::vector<double> linear_betas(int steps);

// guided-diffusion space_timesteps: which of the `steps` original timesteps a
// shortened process keeps, sorted ascending. `spec` is "ddimN" (stride s with
// exactly N steps in range(0, steps, s)) or comma-separated counts ("250",
// "10,15,20"): the process is cut into that many equal sections and each
// section's count is spread evenly over it, ends included (Python round,
// half to even). "quadN" (not in guided-diffusion): N timesteps on a quadratic
// grid, t_i = round((i / (N-1))^2 (steps-1)) made strictly increasing, so the
// few steps are dense at low noise (the DDIM paper's "quadratic" selection,
// Song et al. 2021 appendix D.2, here spanning the whole process).
// Throws UsageError when the spec cannot be met.
std::vector<int> space_timesteps(int steps, const std::string& spec);
// The same selections, typed: "quadN", "ddimN" and "N" (one section).
std::vector<int> quadratic_timesteps(int steps, int n);
std::vector<int> ddim_timesteps(int steps, int n);
std::vector<int> even_timesteps(int steps, int n);
// "Trailing" spacing (Lin et al. 2024, "Common diffusion noise schedules and
// sample steps are flawed"): t_k = round(steps - k steps / n) - 1, k = 0..n-1,
// so the first step always starts at the last timestep (pure noise) and one
// step is t = steps - 1 (a one-pass x0 estimate), which the stride rules
// above cannot give (their single step is t = 0). Ascending; n in 1..steps.
std::vector<int> trailing_timesteps(int steps, int n);

struct Schedule {
  std::vector<double> betas;                           // beta_t
  std::vector<double> alphas_cumprod;                  // abar_t = prod_{s<=t} (1 - beta_s)  (Ho eq. 4)
  std::vector<double> alphas_cumprod_prev;             // abar_{t-1}, 1 at t = 0
  std::vector<double> alphas_cumprod_next;             // abar_{t+1}, 0 at t = T-1
  std::vector<double> sqrt_alphas_cumprod;             // sqrt(abar_t)
  std::vector<double> sqrt_one_minus_alphas_cumprod;   // sqrt(1 - abar_t)
  std::vector<double> log_one_minus_alphas_cumprod;    // log(1 - abar_t)
  std::vector<double> sqrt_recip_alphas_cumprod;       // 1/sqrt(abar_t)
  std::vector<double> sqrt_recipm1_alphas_cumprod;     // sqrt(1/abar_t - 1)
  std::vector<double> posterior_variance;              // beta~_t = (1-abar_{t-1})/(1-abar_t) beta_t (Ho eq. 7)
  std::vector<double> posterior_log_variance_clipped;  // log beta~_t, with beta~_0 := beta~_1 (beta~_0 = 0)
  std::vector<double> posterior_mean_coef1;            // sqrt(abar_{t-1}) beta_t / (1-abar_t)       (Ho eq. 7)
  std::vector<double> posterior_mean_coef2;            // sqrt(alpha_t)(1-abar_{t-1}) / (1-abar_t)   (Ho eq. 7)
  std::vector<double> log_betas;                       // log beta_t (upper end of the learned range)

  // All coefficients from the betas; throws UsageError unless 0 < beta <= 1
  // and there are at least 2 steps.
  static Schedule from_betas(std::vector<double> betas);
  int steps() const { return static_cast<int>(betas.size()); }
};

// Betas of the shortened process that keeps `kept` (sorted) timesteps of
// `base`: beta'_i = 1 - abar_{kept[i]} / abar_{kept[i-1]}, so the kept
// timesteps have exactly the original abar (guided-diffusion SpacedDiffusion).
std::vector<double> respaced_betas(const Schedule& base, const std::vector<int>& kept);

}  // namespace harmonize
