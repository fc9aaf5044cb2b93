#include "model/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/error.hpp"

namespace harmonize {

std::vector<double> linear_betas(int steps) {
  if (steps < 2) throw UsageError("the linear schedule needs at least 2 steps");
  // np.linspace(scale * 1e-4, scale * 0.02, T, dtype=float64), scale = 1000 / T
  const double scale = 1000.0 / steps, start = scale * 0.0001, end = scale * 0.02;
  std::vector<double> b(steps);
  const double step = (end - start) / (steps - 1);
  for (int i = 0; i < steps; ++i) b[i] = start + i * step;
  b[steps - 1] = end;  // numpy's linspace sets the endpoint exactly
  return b;
}

namespace {
// N of "<prefix>N" (the whole rest must be the number).
int count_after_prefix(const std::string& spec, const std::string& prefix) {
  const std::string rest = spec.substr(prefix.size());
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(rest, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != rest.size()) throw UsageError("timestep respacing '" + spec + "': expected " + prefix + "N");
  return n;
}
}  // namespace

std::vector<int> quadratic_timesteps(int steps, int n) {
  if (n < 2 || n > steps)
    throw UsageError("quadratic step spacing: the number of steps must be in 2.." + std::to_string(steps) + ", not " +
                     std::to_string(n));
  // The square grid's gaps only widen, so the +1 steps taken near t = 0 never
  // overtake it and the grid still ends at steps - 1.
  std::vector<int> kept;
  for (int i = 0; i < n; ++i) {
    const double u = double(i) / double(n - 1);
    int t = static_cast<int>(std::nearbyint(u * u * double(steps - 1)));
    if (!kept.empty()) t = std::max(t, kept.back() + 1);  // strictly increasing near t = 0
    kept.push_back(t);
  }
  return kept;
}

std::vector<int> ddim_timesteps(int steps, int n) {
  for (int stride = 1; stride < steps; ++stride) {
    if ((steps + stride - 1) / stride == n) {  // len(range(0, steps, stride))
      std::vector<int> kept;
      for (int t = 0; t < steps; t += stride) kept.push_back(t);
      return kept;
    }
  }
  throw UsageError("DDIM step spacing: cannot take exactly " + std::to_string(n) +
                   " steps with an integer stride from " + std::to_string(steps));
}

std::vector<int> trailing_timesteps(int steps, int n) {
  if (n < 1 || n > steps)
    throw UsageError("trailing step spacing: the number of steps must be in 1.." + std::to_string(steps) + ", not " +
                     std::to_string(n));
  std::vector<int> kept;
  for (int k = n - 1; k >= 0; --k)
    kept.push_back(static_cast<int>(std::nearbyint(double(steps) - double(k) * double(steps) / double(n))) - 1);
  return kept;
}

std::vector<int> even_timesteps(int steps, int n) { return space_timesteps(steps, std::to_string(n)); }

std::vector<int> space_timesteps(int steps, const std::string& spec) {
  if (spec.rfind("quad", 0) == 0) return quadratic_timesteps(steps, count_after_prefix(spec, "quad"));
  if (spec.rfind("ddim", 0) == 0) return ddim_timesteps(steps, count_after_prefix(spec, "ddim"));
  if (spec.empty() || spec.back() == ',') throw UsageError("timestep respacing '" + spec + "': empty count");
  std::vector<int> counts;
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) {
    std::size_t used = 0;
    int n = 0;
    try {
      n = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || n < 1)
      throw UsageError("timestep respacing '" + spec + "': expected ddimN or positive counts separated by commas");
    counts.push_back(n);
  }
  if (counts.empty()) throw UsageError("timestep respacing is empty");
  const int sections = static_cast<int>(counts.size());
  const int size_per = steps / sections, extra = steps % sections;
  std::set<int> all;
  int start = 0;
  for (int i = 0; i < sections; ++i) {
    const int size = size_per + (i < extra ? 1 : 0);
    if (size < counts[i])
      throw UsageError("timestep respacing '" + spec + "': cannot divide a section of " + std::to_string(size) +
                       " steps into " + std::to_string(counts[i]));
    const double stride = counts[i] <= 1 ? 1.0 : static_cast<double>(size - 1) / (counts[i] - 1);
    double cur = 0.0;
    for (int k = 0; k < counts[i]; ++k) {
      all.insert(start + static_cast<int>(std::nearbyint(cur)));  // Python round(): half to even
      cur += stride;
    }
    start += size;
  }
  return {all.begin(), all.end()};
}

Schedule Schedule::from_betas(std::vector<double> betas) {
  // One step is a respaced chain's shortest (trailing spacing: t = T-1 only).
  if (betas.empty()) throw UsageError("a diffusion needs at least 1 step");
  for (double b : betas)
    if (!(b > 0.0 && b <= 1.0)) throw UsageError("diffusion betas must lie in (0, 1]");
  Schedule s;
  const std::size_t n = betas.size();
  s.betas = std::move(betas);
  auto resize = [n](std::vector<double>& v) { v.assign(n, 0.0); };
  for (auto* v : {&s.alphas_cumprod, &s.alphas_cumprod_prev, &s.alphas_cumprod_next, &s.sqrt_alphas_cumprod,
                  &s.sqrt_one_minus_alphas_cumprod, &s.log_one_minus_alphas_cumprod, &s.sqrt_recip_alphas_cumprod,
                  &s.sqrt_recipm1_alphas_cumprod, &s.posterior_variance, &s.posterior_log_variance_clipped,
                  &s.posterior_mean_coef1, &s.posterior_mean_coef2, &s.log_betas})
    resize(*v);
  double prod = 1.0;
  for (std::size_t t = 0; t < n; ++t) {
    prod *= 1.0 - s.betas[t];  // Ho 2020 eq. 4: abar_t = prod (1 - beta_s)
    s.alphas_cumprod[t] = prod;
  }
  for (std::size_t t = 0; t < n; ++t) {
    const double ab = s.alphas_cumprod[t], beta = s.betas[t], alpha = 1.0 - beta;
    const double ab_prev = t == 0 ? 1.0 : s.alphas_cumprod[t - 1];
    s.alphas_cumprod_prev[t] = ab_prev;
    s.alphas_cumprod_next[t] = t + 1 < n ? s.alphas_cumprod[t + 1] : 0.0;
    s.sqrt_alphas_cumprod[t] = std::sqrt(ab);
    s.sqrt_one_minus_alphas_cumprod[t] = std::sqrt(1.0 - ab);
    s.log_one_minus_alphas_cumprod[t] = std::log(1.0 - ab);
    s.sqrt_recip_alphas_cumprod[t] = std::sqrt(1.0 / ab);
    s.sqrt_recipm1_alphas_cumprod[t] = std::sqrt(1.0 / ab - 1.0);
    // Ho 2020 eq. 7: posterior q(x_{t-1} | x_t, x_0) variance and mean coefficients
    s.posterior_variance[t] = beta * (1.0 - ab_prev) / (1.0 - ab);
    s.posterior_mean_coef1[t] = beta * std::sqrt(ab_prev) / (1.0 - ab);
    s.posterior_mean_coef2[t] = (1.0 - ab_prev) * std::sqrt(alpha) / (1.0 - ab);
    s.log_betas[t] = std::log(beta);
  }
  // The posterior variance is 0 at t = 0; its log is clipped to the t = 1 value.
  for (std::size_t t = 0; t < n; ++t)
    s.posterior_log_variance_clipped[t] = std::log(t > 0           ? s.posterior_variance[t]
                                                   : s.steps() > 1 ? s.posterior_variance[1]
                                                                   : s.betas[0]);
  return s;
}

std::vector<double> respaced_betas(const Schedule& base, const std::vector<int>& kept) {
  if (kept.empty()) throw UsageError("timestep respacing keeps no steps");
  std::vector<double> betas;
  double last = 1.0;
  int prev = -1;
  for (int t : kept) {
    if (t <= prev || t >= base.steps()) throw UsageError("respaced timesteps must be increasing and within range");
    betas.push_back(1.0 - base.alphas_cumprod[t] / last);
    last = base.alphas_cumprod[t];
    prev = t;
  }
  return betas;
}

}  // namespace harmonize
