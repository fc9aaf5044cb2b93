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
// FWHM; the field is multiplied by g. Evaluated on blocks of about 4 mm and
// interpolated trilinearly back onto the voxels.
class BiasSmoother {
 public:
  // `r` must outlive the smoother.
  BiasSmoother(const Region& r, const Vec3& spacing, double fwhm_mm);

  // num/den per box voxel (brain voxels only are read) -> bias per brain voxel (box-indexed output).
  void estimate(const std::vector<float>& num, const std::vector<float>& den, std::vector<float>& bias) const;

 private:
  void smooth(std::vector<double>& a) const;

  const Region& r_;
  std::array<std::size_t, 3> step_{}, m_{};
  std::array<std::vector<double>, 3> kernel_;
};

}  // namespace harmonize::segment_detail
