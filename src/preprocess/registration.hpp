#pragma once
// Registration of the two scans of a pair (ITK registration v4): Mattes mutual
// information, multi-resolution; rigid (Euler) -> affine -> cubic B-spline.
#include <vector>

#include "core/volume.hpp"
#include "preprocess/transform.hpp"

namespace harmonize {

struct RegistrationOptions {
  // Start: centres of mass aligned (moments) or the scanner coordinates as they are.
  bool align_centres = true;
  bool affine = true;      // affine stage after the rigid one
  bool deformable = true;  // B-spline stage after the affine one

  int bins = 32;           // Mattes histogram bins
  double sampling = 0.10;  // fraction of fixed-grid voxels sampled at random (0 or >= 1: all)
  int seed = 1234;         // of that sampling: same inputs + options => same transform
  // At most this many samples per level (the percentage is lowered on large
  // grids): a 1 mm scan then costs about what a 2 mm one does, whose finest
  // linear level (2x shrunk) holds ~11,000 samples at 10 %.
  double max_samples = 20000;

  // Per level: shrink factor of both images (smoothing sigma = factor / 2
  // voxels, none at 1) and maximum iterations.
  std::vector<int> rigid_shrink{4, 2}, rigid_iterations{100, 50};
  std::vector<int> affine_shrink{4, 2}, affine_iterations{60, 30};
  std::vector<int> deformable_shrink{4}, deformable_iterations{15};
  // Sampling of the B-spline stage (one coarse level): all voxels. Its sparser
  // 3 % was never in effect until the per-level sampling was set after the
  // level count (ITK resets it there); applied, it lowered the template brain
  // mask's Dice on Colin27 from >= 0.93 to 0.926.
  double deformable_sampling = 1.0;
  double step_mm = 2.0;           // first step of the linear stages (about mm of shift)
  double mesh_spacing_mm = 50;    // B-spline control-point spacing (regularises the warp)
  double max_coefficient_mm = 3;  // bound on each B-spline coefficient (regularises it further)

  // Optional metric masks (non-zero voxels count), on the grids of the images.
  const Mask* fixed_mask = nullptr;
  const Mask* moving_mask = nullptr;
};

// Finds t with fixed(x) ~ moving(t.map(x)). Throws Error when the images
// cannot be registered: empty or constant images, masks on other grids, or no
// overlap left after the initial alignment.
PairTransform register_images(const Volume& fixed, const Volume& moving, const RegistrationOptions& o = {});

}  // namespace harmonize
