#pragma once
// Sagittal slices of a volume, cropped or padded to a fixed in-plane size
// around the brain, with the record that puts them back into the exact voxels
// they came from.
#include <nlohmann/json.hpp>
#include <vector>

#include "core/reorient.hpp"
#include "core/volume.hpp"

namespace harmonize {

struct SliceLayout {
  Reorientation orientation;  // file layout -> sagittal layout
  long row0 = 0, col0 = 0;    // top-left of the window in the sagittal layout (may be < 0: padding)
  int height = 224, width = 224;
  std::vector<std::uint8_t> has_brain;  // per sagittal slice
  bool clipped = false;                 // the brain did not fit the window (the window keeps its top)

  // Geometry of the slice stack [slices][height][width] as a volume: the
  // window's voxels in the sagittal layout, extended where padded.
  Geometry stack_geometry() const;
  nlohmann::json to_json() const;
  static SliceLayout from_json(const nlohmann::json& j);
};

// Chooses the window: centred on the brain's bounding box (union over slices).
SliceLayout plan_slices(const Geometry& g, const Mask& brain, int height = 224, int width = 224);

// The stack: slice k is sagittal slice k of v, voxels outside v are 0.
Volume to_slices(const Volume& v, const SliceLayout& layout);
// The inverse: a volume on the original grid; voxels outside the window are 0.
Volume from_slices(const Volume& stack, const SliceLayout& layout);

// The brain voxels of the sagittal slices a model has harmonized when it was
// asked for only some of them (the rest left 0): slices along the subject's
// left-right axis on which any brain voxel of `produced` is nonzero. Throws
// Error when the grids differ.
Mask harmonized_slices(const Volume& produced, const Mask& brain);

}  // namespace harmonize
