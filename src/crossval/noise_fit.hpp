#pragma once
// The end noise of a harmonized scan, fitted to tissue volumes. A briefly
// trained model returns the mean of what the target scan could look like:
// smoother than a real scan, which carries fine detail and acquisition noise.
// Tissue segmentation reacts to that (a smooth image keeps thin grey-matter
// ribbons that noise breaks up), so volumes measured on the model's outputs
// drift from those measured on real target scans. This chooses the white
// noise that brings them back, on subjects whose target scans are known (a
// fold's training subjects).
#include <cstdint>
#include <utility>
#include <vector>

#include "core/volume.hpp"
#include "harmonize/correction.hpp"
#include "segment/segment.hpp"

namespace harmonize {

// Model outputs without end noise (`produced`), the same subjects' target
// scans and the voxels to use (`region`: brain voxels, of the harmonized
// slices when not every slice was harmonized); one grid per subject.
struct NoiseFitData {
  std::vector<Volume> produced, target;
  std::vector<Mask> region;
};

struct EndNoiseFit {
  double sd = 0;    // the chosen noise sd (on [0, 1])
  QuantileMap map;  // the quantile map to the targets fitted on the outputs with that noise
  // Every sd tried, ascending, with its mean |volume - target's volume| (mm^3,
  // over subjects and the classes CSF, GM, WM).
  std::vector<std::pair<double, double>> tried;
};

// The quantile map from `d`'s outputs with white noise of `sd` added to their
// regions (add_end_noise; subject s uses derive_seed(seed, s)) to their
// targets, over all subjects' region voxels.
QuantileMap fit_noisy_map(const NoiseFitData& d, double sd, std::uint64_t seed);

// For each candidate sd: seeded white noise is added to the region of every
// output (add_end_noise; `map_data` subject s uses derive_seed(seed, s),
// `score_data` subject s derive_seed(seed, 1000 + s), the same field for every
// sd); one quantile map is fitted from all `map_data` regions to their
// targets'; it is applied to the `score_data` outputs (whole brains), which
// are segmented (segment_tissues with `seg`) and scored by the mean absolute
// tissue-volume difference to their targets' segmentations. The candidates
// `coarse` are tried first, then the midpoints next to the best one; the best
// (the smallest sd among equals) wins. Throws Error when a list is empty, the
// lists of one data set differ in length, or a subject's volumes are not on
// one grid.
EndNoiseFit fit_end_noise_to_volumes(const NoiseFitData& map_data, const NoiseFitData& score_data, std::uint64_t seed,
                                     const std::vector<double>& coarse = {0.0, 0.02, 0.04, 0.06, 0.08, 0.10},
                                     const SegmentOptions& seg = {});

}  // namespace harmonize
