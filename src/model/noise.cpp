#include "model/noise.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.hpp"

namespace harmonize {

namespace {

constexpr int64_t kWindow = 3;
constexpr double kBinWidth = 0.02;  // of log variance
constexpr int kSmoothBins = 5;      // moving average half-width
constexpr int64_t kPeakBins = 20;   // a peak is the highest bin within this many either side

// Local variances of the windows wholly inside the object, as log values.
torch::Tensor log_local_variances(const torch::Tensor& x) {  // [N, 1, H, W] float32
  const auto mean = torch::avg_pool2d(x, {kWindow, kWindow}, {1, 1});
  const auto mean_sq = torch::avg_pool2d(x * x, {kWindow, kWindow}, {1, 1});
  const double n = double(kWindow * kWindow);
  const auto var = (mean_sq - mean * mean).clamp_min(0) * (n / (n - 1.0));
  const auto inside = (-torch::max_pool2d(-x, {kWindow, kWindow}, {1, 1})) > 0.0f;
  const auto v = var.masked_select(inside & (var > 0)).to(torch::kFloat64);
  return v.log();
}

// Lowest mode of a sample by a smoothed histogram; NaN for an empty sample.
double mode_of(const torch::Tensor& values) {
  if (values.numel() == 0) return std::nan("");
  const double lo = values.min().item<double>(), hi = values.max().item<double>();
  const int64_t bins = std::max<int64_t>(1, int64_t(std::ceil((hi - lo) / kBinWidth)) + 1);
  const auto idx = ((values - lo) / kBinWidth).floor().to(torch::kLong).clamp(0, bins - 1);
  auto counts = torch::zeros({bins}, torch::kFloat64).index_add_(0, idx, torch::ones_like(values));
  const int64_t k = 2 * kSmoothBins + 1;
  auto smooth =
      torch::avg_pool1d(torch::constant_pad_nd(counts.reshape({1, 1, bins}), {kSmoothBins, kSmoothBins}, 0), {k}, {1})
          .reshape({bins});
  // The lowest peak that holds at least a fifth of the highest: windows across
  // edges can outnumber the homogeneous ones and make a higher peak of their
  // own, always at larger variances than the noise.
  const auto h = smooth.contiguous();
  const double* c = h.data_ptr<double>();
  const double floor = 0.2 * h.max().item<double>();
  int64_t best = h.argmax().item<int64_t>();
  for (int64_t b = 0; b < bins; ++b) {
    if (c[b] < floor) continue;
    bool peak = true;  // the highest within +-kPeakBins (flank wiggles are not peaks)
    for (int64_t k = std::max<int64_t>(0, b - kPeakBins); k <= std::min(bins - 1, b + kPeakBins) && peak; ++k)
      peak = c[k] <= c[b];
    if (peak) {
      best = b;
      break;
    }
  }
  return lo + (double(best) + 0.5) * kBinWidth;
}

// The mode for white noise of variance 1 (log scale).
double white_noise_mode() {
  static const double mode = [] {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(20090101);
    torch::NoGradGuard no_grad;
    const auto noise = torch::randn({16, 1, 128, 128}, gen, torch::kFloat32) + 10.0f;  // > 0 everywhere
    return mode_of(log_local_variances(noise));
  }();
  return mode;
}

}  // namespace

double estimate_noise_sd(const torch::Tensor& images) {
  if (images.dim() != 3 && !(images.dim() == 4 && images.size(1) == 1))
    throw Error("estimate_noise_sd: images must be [N, H, W] or [N, 1, H, W]");
  torch::NoGradGuard no_grad;
  const auto x = images.to(torch::kCPU, torch::kFloat32).reshape({images.size(0), 1, images.size(-2), images.size(-1)});
  if (x.size(2) < kWindow || x.size(3) < kWindow) return 0.0;
  const double m = mode_of(log_local_variances(x));
  if (std::isnan(m)) return 0.0;
  return std::sqrt(std::exp(m - white_noise_mode()));
}

}  // namespace harmonize
