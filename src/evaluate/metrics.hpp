#pragma once
// The paper's image and segmentation metrics (Durrer et al. 2023, Evaluation;
// exact definitions in docs/METRICS.md). All functions take volumes on one grid
// (same size; throw Error otherwise) and an optional mask: nonzero voxels are
// counted, nullptr means the whole volume.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/volume.hpp"

namespace harmonize {

// Sum over the counted voxels of (a - b)^2, accumulated in double (the paper's
// "MSE" is this sum).
double mse_sum(const Volume& a, const Volume& b, const Mask* mask = nullptr);
// mse_sum divided by the number of counted voxels; NaN when none is counted.
double mse_mean(const Volume& a, const Volume& b, const Mask* mask = nullptr);

// Intensity histogram of the counted voxels: kAhdBins bins of width 1/255 on
// [0, 1]. A value x goes to bin k = floor(255 x) (in double precision), so bin
// k holds [k/255, (k+1)/255) and the last bin [254/255, 1]; x < 0 is counted in
// bin 0 and x >= 1 in bin 254. Counts, not frequencies. Throws Error on NaN.
inline constexpr int kAhdBins = 255;
std::vector<double> intensity_histogram(const Volume& v, const Mask* mask = nullptr);
// The bin of one value (the rule above).
int histogram_bin(double x);
// Absolute histogram difference: sum over the 255 bins of |h_a(k) - h_b(k)|,
// with h the voxel counts above over the same counted voxels. Over the whole
// volume (mask nullptr) the background zeros of both volumes are included (bin 0).
double ahd(const Volume& a, const Volume& b, const Mask* mask = nullptr);

// Voxel volume in mm^3 (product of the spacing).
double voxel_volume_mm3(const Geometry& g);
// Number of voxels equal to `label`.
std::size_t label_count(const Mask& labels, std::uint8_t label);
// label_count * voxel_volume_mm3.
double label_volume_mm3(const Mask& labels, std::uint8_t label);

// Symmetric surface distances, in mm, between the voxels labelled `label` in a
// and in b (same grid; spacing honoured, anisotropic included; the direction
// matrix does not change distances).
//  - surface of a set S: the voxels of S with at least one of their 6 face
//    neighbours outside S (a neighbour beyond the grid counts as outside);
//  - d(x, T) = min over surface voxels y of T of the Euclidean distance (mm)
//    between the voxel centres of x and y (0 when x is itself a surface voxel of T);
//  - directed distances D(A->B) = { d(x, B) : x surface voxel of A }, likewise D(B->A);
//  - hd = max(max D(A->B), max D(B->A));
//  - hd95 = max(P95 D(A->B), P95 D(B->A)) with P95 the nearest-rank 95th
//    percentile: the ceil(0.95 n)-th smallest of the n values;
//  - both sets empty: hd = hd95 = 0; exactly one empty: hd = hd95 = NaN.
// The Euclidean distance transform is ITK's SignedMaurerDistanceMapImageFilter
// (exact, Maurer et al. 2003) on the bounding box of both sets.
struct SurfaceDistances {
  double hd = 0, hd95 = 0;
  std::size_t surface_a = 0, surface_b = 0;  // surface voxel counts
};
SurfaceDistances surface_distances(const Mask& a, const Mask& b, std::uint8_t label);

// The nearest-rank p-th percentile (0 < p <= 100) of `values` (reordered); NaN if empty.
double nearest_rank_percentile(std::vector<double>& values, double p);

}  // namespace harmonize
