#pragma once
// N4 bias-field correction (Tustison et al. 2010, IEEE TMI 29:1310) through
// ITK's N4BiasFieldCorrectionImageFilter.
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

struct N4Options {
  // The field is estimated on the image shrunk by this factor; 0: the factor
  // that gives voxels of about grid_mm (4 for 2 mm scans, 8 for 1 mm ones: the
  // bias field is smooth, and at 1 mm a 4 mm grid made N4 a third of the
  // preprocessing time).
  int shrink = 0;
  double grid_mm = 8;
  std::vector<int> iterations{50, 50, 50, 50};  // per fitting level (one level per entry)
  double convergence = 1e-6;
  int control_points = 4;  // per axis at the first level (spline order 3 => 1 span)
  double fwhm = 0.15;      // bias-field histogram sharpening FWHM
};

// Estimates the bias field inside `mask` (non-zero voxels with positive
// intensity) on the shrunk image, evaluates the fitted log-bias B-spline at
// full resolution, and returns v / exp(logbias) on v's grid (voxels outside the
// mask are divided by the same smooth field). Throws Error if the mask and the
// volume disagree in grid or the mask holds too few positive voxels.
Volume n4_correct(const Volume& v, const Mask& mask, const N4Options& o = {});

// The same, returning the multiplicative bias field exp(logbias) itself.
Volume n4_bias_field(const Volume& v, const Mask& mask, const N4Options& o = {});

}  // namespace harmonize
