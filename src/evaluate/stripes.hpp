#pragma once
// Slice-to-slice inconsistency of a volume made of stacked 2D slices (the
// "stripes" a slice-wise model leaves; docs/METRICS.md, "Stripe index").
#include "core/volume.hpp"

namespace harmonize {

// The mean squared second difference of intensity along `axis` (the axis the
// slices were stacked along: v(x+e) - 2 v(x) + v(x-e)), divided by the mean of
// the same along the two other axes; over the voxels x of `brain` whose two
// neighbours along the axis in question are in `brain` too. An isotropic
// image (anatomy and noise alike in every direction) gives about 1;
// independent per-slice errors raise it. Compare a volume's index with the
// target scan's (the ratio cancels the anatomy's own anisotropy). NaN when
// no voxel counts or the in-plane term is 0. Throws Error when v and brain are
// not on one grid or axis is not 0, 1 or 2.
double stripe_index(const Volume& v, const Mask& brain, int axis);

// The voxel axis of g nearest the subject's left-right direction: the one a
// sagittal slice model stacks its slices along (core/reorient.hpp).
int left_right_axis(const Geometry& g);

}  // namespace harmonize
