#pragma once
// Binary morphology on masks (6-connectivity; beyond the grid counts as
// background): plain C++, used by brain extraction and by the evaluation.
#include "core/volume.hpp"

namespace harmonize {

// Largest 6-connected component, holes (background not 6-connected to the
// grid's border) filled, then a morphological closing and opening with a
// 3x3x3 cross of `radius` voxels (0: no closing/opening).
Mask refine_mask(const Mask& m, int radius = 1);

// Building blocks (6-connectivity).
Mask largest_component(const Mask& m);
Mask fill_holes(const Mask& m);
Mask dilate(const Mask& m, int radius);
Mask erode(const Mask& m, int radius);

}  // namespace harmonize
