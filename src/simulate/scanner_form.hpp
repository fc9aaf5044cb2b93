#pragma once
// A scan as a scanner's DICOM converter writes it, made from a simulated
// one: the voxels stored in another axis order, the grid tilted in the world
// (an oblique acquisition), extra slices of neck below the head, and
// intensities in integer scanner units. The world positions of the anatomy
// move only by the tilt; the brain mask follows the image exactly, so it is
// the truth on the new grid. For tests and benchmarks of real-scan input.
#include <array>
#include <cstddef>

#include "core/volume.hpp"

namespace harmonize {

struct ScannerForm {
  std::array<int, 3> perm{2, 0, 1};             // new axis a is old axis perm[a]
  std::array<bool, 3> flip{true, false, true};  // ... traversed backwards
  double tilt_x_deg = 15, tilt_z_deg = 7;       // rotation of the grid about its centre
  std::size_t neck_slices = 10;                 // added below the head along the axis nearest inferior
  float neck_scale = 0.7f;                      // the neck continues the lowest slice at this fraction
  float full_scale = 4095.0f;                   // the brightest voxel, in scanner units (rounded)
};

struct ScannerFormScan {
  Volume image;  // on the new grid, integers in 0..full_scale
  Mask brain;    // the input's brain mask on the same grid
  Mask neck;     // the added slices
};

ScannerFormScan scanner_form(const Volume& scan, const Mask& brain, const ScannerForm& f = {});

}  // namespace harmonize
