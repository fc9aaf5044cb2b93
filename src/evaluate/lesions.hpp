#pragma once
// Is the anatomy kept? T1-hypointense white-matter lesions found by one
// documented contrast rule in any volume, so that each method's output can be
// compared with the target scan and with the simulation's lesion masks
// (docs/METRICS.md, "Lesions").
#include <cstddef>

#include "core/volume.hpp"

namespace harmonize {

// Where lesions are looked for and how a volume's own tissue levels are
// measured, all from the simulated truth on the volumes' grid:
//  - region: the truth's white matter and lesions, eroded by one voxel
//    (6-neighbours; away from the partial volume of the WM border), plus the
//    lesions themselves;
//  - wm_core: the truth's WM eroded by one voxel, minus the lesions dilated by one;
//  - gm_core: the truth's GM eroded by one voxel;
//  - lesions: the truth's lesion mask; near_lesions: it dilated by one voxel.
struct LesionRegions {
  Mask region, wm_core, gm_core, lesions, near_lesions;
};
// truth_dseg: 0 background, 1 CSF, 2 GM, 3 WM; lesions: nonzero = lesion
// (may be empty). Throws Error when they are not on one grid.
LesionRegions lesion_regions(const Mask& truth_dseg, const Mask& lesions);

struct LesionFinding {
  Mask lesion_like;            // voxels of region below the threshold with a 6-neighbour below it too
  double wm_level = 0;         // median intensity over wm_core
  double gm_level = 0;         // median intensity over gm_core
  double threshold = 0;        // (wm_level + gm_level) / 2, where the local WM level is the global one
  double lesion_contrast = 0;  // mean intensity over the truth lesions / wm_level; NaN without lesions
};
// The rule: inside `region`, a voxel is lesion-like when its intensity is
// below the midpoint between the volume's own WM and GM levels and at least
// one of its 6 neighbours in the region is too (a lone noisy voxel is not a
// lesion). The threshold follows a residual smooth bias: it is
// threshold / wm_level times the median of wm_core over the voxel's block of
// kLesionBlock^3 voxels and its 26 neighbour blocks (the global WM level where
// fewer than kLesionBlockMin core voxels lie there). Levels are the volume's
// own, so a change of contrast alone (a monotone map that keeps the ratio of
// levels) moves no voxel across the threshold. Throws Error when v is not on
// the regions' grid or a core is empty.
inline constexpr std::size_t kLesionBlock = 8, kLesionBlockMin = 50;
LesionFinding find_lesions(const Volume& v, const LesionRegions& r);

}  // namespace harmonize
