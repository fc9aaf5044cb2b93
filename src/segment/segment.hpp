#pragma once
// Three-class tissue segmentation (CSF, GM, WM) of a brain-extracted
// T1-weighted volume, by the method FSL FAST implements (Zhang, Brady, Smith
// 2001, IEEE TMI 20(1)): Gaussian class intensities, a hidden Markov random
// field prior over the labels, expectation-maximisation, a smooth bias field
// estimated with the classes, and partial-volume fractions per voxel.
#include <array>
#include <cstdint>
#include <string>

#include "core/volume.hpp"

namespace harmonize {

// Labels of the hard segmentation (BIDS dseg): 0 outside the brain. Scoped:
// simulate/tissue.hpp's unscoped Tissue enum already uses kCSF and kWM.
enum class TissueLabel : std::uint8_t { Background = 0, CSF = 1, GM = 2, WM = 3 };
inline constexpr std::array<const char*, 3> kTissueNames{"CSF", "GM", "WM"};

struct SegmentOptions {
  double beta = 0.3;           // MRF (Potts) strength per neighbour (6-neighbourhood; not FAST's -H scale)
  int iterations = 15;         // EM iterations (upper bound; mean-field E-step)
  double bias_fwhm_mm = 60.0;  // smoothness of the bias field estimate; <= 0: no bias estimation
  int bias_iterations = 10;    // bias updates (one per EM iteration, multiplied into the field)
  bool partial_volume = true;  // estimate per-voxel fractions (mixel model); otherwise posteriors
  bool pv_labels = true;       // with partial_volume: hard labels = largest fraction (FAST's pveseg), else MRF MAP
  double tolerance = 1e-4;     // relative change of the class means that stops EM
};

struct SegmentResult {
  Mask labels;                         // 0 background, 1 CSF, 2 GM, 3 WM (TissueLabel)
  std::array<Volume, 3> fractions;     // CSF, GM, WM partial-volume fractions in [0,1], sum 1 in the brain
  Volume bias;                         // multiplicative bias field estimate (1 outside the brain)
  std::array<double, 3> mean{}, sd{};  // class intensity means and sds after bias correction
  int iterations = 0;                  // EM iterations run
  std::array<double, 3> volume_mm3{};  // from the hard labels and the voxel size
};

// `image` brain-extracted T1w (any positive scale), `brain` the mask (nonzero =
// brain) on the same grid. Throws Error when the grids differ, the mask is
// empty or the image inside it is constant or not finite.
SegmentResult segment_tissues(const Volume& image, const Mask& brain, const SegmentOptions& o = {});

}  // namespace harmonize
