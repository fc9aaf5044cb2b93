#pragma once
// The head's (or brain's) box inside a larger field of view: preprocessing
// works on the box and puts its results back on the full grid, so that a
// 512^3 scan of a normal head costs what the head costs.
#include <array>
#include <cstddef>
#include <string>

#include "core/volume.hpp"

namespace harmonize {

// Voxel box [lo, hi) on a grid.
struct Box {
  std::array<std::size_t, 3> lo{0, 0, 0}, hi{0, 0, 0};
  std::size_t voxels() const { return (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]); }
  bool empty() const { return hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]; }
  std::string describe() const;
};

// The box of a mask's nonzero voxels (empty when there are none).
Box bounding_box(const Mask& m);
// The box of the head: voxels brighter than a tenth of the image's 99.9th
// percentile, keeping the planes along each axis that hold at least
// `min_voxels` of them (isolated bright noise voxels do not widen it). Empty
// when nothing is that bright.
Box head_box(const Volume& v, std::size_t min_voxels = 16);
// The box widened by margin_mm on every side, within the grid.
Box grow(const Box& b, const Geometry& g, double margin_mm);

// The grid of the box's voxels (same spacing and direction; the origin moves).
Geometry sub_grid(const Geometry& g, const Box& b);
template <class T>
Image<T> crop(const Image<T>& v, const Box& b);
// A box's image put back on the full grid `g`, `fill` elsewhere.
template <class T>
Image<T> paste(const Image<T>& part, const Geometry& g, const Box& b, T fill = T{});

}  // namespace harmonize
