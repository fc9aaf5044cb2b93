#pragma once
// The one place that reorients a volume so that its slowest axis runs along the
// subject's left-right axis (so slicing along it gives sagittal slices), and
// restores the original layout. Only voxels are permuted/flipped: every voxel
// keeps its world position, so the geometry describes the same scan.
//
// Sagittal layout (world frame LPS): axis i (fastest, image columns) points
// anterior, axis j (image rows) points inferior (row 0 is the top of the head),
// axis k (slice index) points to the subject's left. For an oblique scan each
// file axis is assigned to the nearest of these directions.
#include <array>

#include "core/volume.hpp"

namespace harmonize {

struct Reorientation {
  std::array<int, 3> perm{0, 1, 2};               // new axis a is old axis perm[a]
  std::array<bool, 3> flip{false, false, false};  // ... traversed backwards
  Geometry original;                              // geometry before reorientation

  bool is_identity() const;
  Geometry reoriented() const;
};

Reorientation sagittal_reorientation(const Geometry& g);

template <class T>
Image<T> reorient(const Image<T>& in, const Reorientation& r);
// Exact inverse of reorient(): returns the voxels in their original layout.
template <class T>
Image<T> restore_orientation(const Image<T>& in, const Reorientation& r);

}  // namespace harmonize
