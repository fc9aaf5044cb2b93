#pragma once
// Internal to segment/ (not part of the library's interface): the working
// region of the segmentation, fixed-chunk parallel loops over it, and the
// smooth multiplicative bias field estimate of the EM (segment.cpp uses them;
// the model is in docs/SEGMENT.md).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/parallel.hpp"
#include "core/volume.hpp"

namespace harmonize::segment_detail {

inline constexpr std::size_t kChunk = 1 << 15;  // voxels per work item and per partial sum

// The working region: the mask's bounding box with a one-voxel border, so that
// every brain voxel has all six neighbours inside the box.
struct Region {
  std::array<std::size_t, 3> lo{}, n{};  // offset in the image, size
  std::vector<std::uint32_t> voxels;     // brain voxels (box indices), ascending
  std::vector<std::uint8_t> inside;      // per box voxel
  std::array<std::ptrdiff_t, 6> offset{};
  std::array<float, 6> weight{};  // neighbour weights: smallest spacing / spacing along the axis

  std::size_t box_index(std::size_t i, std::size_t j, std::size_t k) const { return i + n[0] * (j + n[1] * k); }
};

inline std::size_t chunks(std::size_t n) { return (n + kChunk - 1) / kChunk; }

// Calls fn(begin, end, chunk) over fixed chunks of [0, n) in parallel.
template <class F>
void for_chunks(std::size_t n, F&& fn) {
  parallel_for(0, chunks(n), [&](std::size_t c) { fn(c * kChunk, std::min(n, (c + 1) * kChunk), c); });
}

// Bias field update: g = G * N / G * D with N = sum_k q_k y mu_k / sd_k^2 and
// D = sum_k q_k mu_k^2 / sd_k^2 (the weighted least-squares gain between the
// corrected image y and the class means, locally), G a Gaussian of the given
// FWHM; the field is multiplied by g. With `local_linear`, the gain near each
// block is a0 + a . d fitted by G-weighted least squares (normalised
// differential convolution) and g = a0: at the brain's edge, where the window
// is one-sided, a locally constant fit is pulled towards the interior.
// Evaluated on blocks of about 4 mm and interpolated trilinearly back onto the
// voxels.
class BiasSmoother {
 public:
  // `r` must outlive the smoother.
  BiasSmoother(const Region& r, const Vec3& spacing, double fwhm_mm, bool local_linear = false);

  // num/den per box voxel (brain voxels only are read) -> bias per brain voxel (box-indexed output).
  void estimate(const std::vector<float>& num, const std::vector<float>& den, std::vector<float>& bias) const;

 private:
  // Separable convolution with the Gaussian times t^power[d] along axis d (t in blocks, source - target).
  void smooth(std::vector<double>& a, const std::array<int, 3>& power = {0, 0, 0}) const;
  // The block gains from the block sums bn, bd (see above).
  std::vector<float> constant_gain(std::vector<double> bn, std::vector<double> bd) const;
  std::vector<float> linear_gain(const std::vector<double>& bn, const std::vector<double>& bd) const;

  const Region& r_;
  std::array<std::size_t, 3> step_{}, m_{};
  std::array<std::array<std::vector<double>, 3>, 3> kernel_;  // per axis: the Gaussian times t^0, t^1, t^2
  bool local_linear_ = false;
};

}  // namespace harmonize::segment_detail
