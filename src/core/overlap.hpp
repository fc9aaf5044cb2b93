#pragma once
// Overlap of label maps (Dice 1945): 2 |A and B| / (|A| + |B|) for one label.
#include <cstdint>

#include "core/volume.hpp"

namespace harmonize {

// Dice of the voxels equal to `label` in a and b (same grid); 1 if neither has any.
double dice(const Mask& a, const Mask& b, std::uint8_t label);
// Mean Dice over CSF, GM and WM (dseg labels 1, 2, 3).
double mean_tissue_dice(const Mask& a, const Mask& b);

}  // namespace harmonize
