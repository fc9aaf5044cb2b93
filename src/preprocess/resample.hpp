#pragma once
// Resampling volumes and masks onto other grids (ITK-free).
#include <functional>

#include "core/volume.hpp"

namespace harmonize {

enum class Interp { Linear, Nearest };

// Maps a world point of the target grid to the world point of the source
// image to sample there (ITK's convention: fixed/target -> moving/source).
using PointMap = std::function<Vec3(const Vec3&)>;

// The isotropic grid with `spacing_mm` voxels that keeps g's direction and
// covers the same physical box (voxel edges to voxel edges; the size along
// each axis is rounded to the nearest whole voxel, at least 1).
Geometry isotropic_grid(const Geometry& g, double spacing_mm = 1.0);

// Samples v on `grid` at map(world) (identity when map is empty): trilinear
// or nearest neighbour; `outside` where the point falls off v's grid.
Volume resample(const Volume& v, const Geometry& grid, const PointMap& map = {}, Interp interp = Interp::Linear,
                float outside = 0.0f);
// Masks and label maps: always nearest neighbour, 0 outside.
Mask resample(const Mask& m, const Geometry& grid, const PointMap& map = {});

// To isotropic voxels (linear for volumes, nearest for masks).
Volume resample_isotropic(const Volume& v, double spacing_mm = 1.0);
Mask resample_isotropic(const Mask& m, double spacing_mm = 1.0);

}  // namespace harmonize
