#pragma once
// The acquisition noise level of a set of images, for ending the reverse
// harmonized output at the target scanner's noise (harmonize/correction.hpp, end noise).
#include <torch/torch.h>

namespace harmonize {

// Standard deviation of the noise in images [N, H, W] or [N, 1, H, W], as the
// mode of the distribution of local variances (Aja-Fernandez et al., Magnetic
// Resonance Imaging 27(1), 2009): the sample variance of every 3x3 window that
// lies wholly inside the object (all pixels > 0: the zero background of a
// brain-extracted image and its border are left out). Windows in homogeneous
// tissue pile up at the noise variance; windows across edges (at 2 mm, most
// of them) spread to higher values and may form a higher peak of their own.
// The estimate is the lowest peak of a smoothed histogram of log variances
// that reaches a fifth of the highest, and divided by the mode the same
// procedure finds on white noise of variance 1 (computed once, fixed seed),
// so the estimate is unbiased for white noise. Correlated noise (an
// interpolated image) comes out somewhat under its marginal sd (white noise
// averaged over 2x2, neighbour correlation 0.5: 14 % under). Returns 0 when
// no window qualifies.
double estimate_noise_sd(const torch::Tensor& images);

}  // namespace harmonize
