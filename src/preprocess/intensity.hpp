#pragma once
// Intensity normalisation of the paper's preprocessing: clip at the lower and
// upper percentiles of the brain voxels, scale to [0, 1], background 0.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

struct IntensityWindow {
  double lo = 0, hi = 1;  // intensities mapped to 0 and 1
};

// Percentile q in [0, 100] of the voxels of v inside mask (linear
// interpolation between order statistics, numpy's default definition).
double masked_percentile(const Volume& v, const Mask& mask, double q);

// Window from the q_lo / q_hi percentiles of brain voxels (paper: 0.1 / 99.9).
IntensityWindow brain_window(const Volume& v, const Mask& mask, double q_lo = 0.1, double q_hi = 99.9);

// (clip(x, lo, hi) - lo) / (hi - lo) inside the mask, 0 outside.
Volume normalise(const Volume& v, const Mask& mask, const IntensityWindow& w);

}  // namespace harmonize

namespace harmonize {}  // namespace harmonize
