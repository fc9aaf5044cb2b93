#pragma once
// One subject's evaluation in the paper's terms (Durrer et al. 2023,
// Evaluation): every method's volume against the target scan, intensity
// metrics, tissue segmentation of each (segment/segment.hpp) and the
// segmentation metrics; rows for the long-format table (metrics_table.hpp).
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/volume.hpp"
#include "evaluate/metrics_table.hpp"
#include "segment/segment.hpp"

namespace harmonize {

struct EvaluateInput {
  std::string subject, direction;
  Volume source, target;  // all volumes on the target's grid
  Mask brain;             // the target's brain mask (nonzero = brain)
  // Methods evaluated after "Original" (= source), e.g. {"Histogram matching", v}, {"harmonize cpu", v}.
  std::vector<std::pair<std::string, Volume>> methods;
  std::optional<Mask> truth_dseg;  // 0 background, 1 CSF, 2 GM, 3 WM on the same grid
  // The simulation's lesion mask (nonzero = lesion; all zero for a healthy
  // subject) on the same grid; used with truth_dseg (evaluate/lesions.hpp).
  std::optional<Mask> truth_lesions;
  int stripe_axis = -1;  // the axis slices were stacked along; -1: the target's left-right axis
};

// Segmentations of the Target and Original volumes, by image and brain mask,
// each kept until it is used once: a cross-validation evaluates each
// subject's two scans in both directions (one as Target, the other as
// Original, then the other way round), so each is segmented once and at most
// one direction's scans are held. One cache per set of segmentation options.
// Thread-safe.
class SegmentationCache {
 public:
  struct Entry {
    Mask labels;
    int sweeps = 0;  // as the segment_sweeps row
  };
  // The key of `image` segmented inside `brain`: a hash of both grids' sizes and spacings and their voxels.
  static std::uint64_t key(const Volume& image, const Mask& brain);
  // The entry of `key`, removed from the cache; none if there is none.
  std::optional<Entry> take(std::uint64_t key);
  void put(std::uint64_t key, Entry entry);
  std::size_t hits() const;  // takes that found an entry
  std::size_t size() const;  // entries held

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Entry> entries_;
  std::size_t hits_ = 0;
};

struct EvaluateOptions {
  SegmentOptions segment;
  bool segmentation = true;  // false: intensity metrics only (no segmentation rows)
  // Target's and Original's segmentations to reuse and keep (made with `segment`).
  SegmentationCache* cache = nullptr;
};

// Rows, in this order: per method (Original first, then `methods` in order)
// mse_sum, mse_mean, ahd, mse_sum_volume, mse_mean_volume, ahd_volume
// (reference "target", class ""); stripe_index (reference "") of "Target" and
// of every method (evaluate/stripes.hpp); with truth_dseg and truth_lesions,
// per volume ("Target" and every method) lesion_false_mm3 (lesion-like voxels
// farther than one voxel from a truth lesion; reference "truth") and, when
// the truth has lesions, lesion_volume_mm3 and lesion_contrast (reference
// ""), lesion_dice (reference "truth"), and per method
// lesion_volume_abs_diff_mm3 and lesion_dice against the target's
// lesion-like voxels (reference "target"); then, with segmentation, volume_mm3 per class
// and segment_sweeps (the sweeps EM took; negative if it hit its cap without
// converging) of "Target" and of every method (reference ""), per method
// volume_abs_diff_mm3, dice, hd, hd95 per class with reference "target", and
// with truth_dseg the same with reference "truth" for "Target" and every
// method. Each volume is segmented inside `brain`. Throws Error when a volume
// or mask is not on the target's grid (names it), the brain mask is empty, a
// method name is empty, repeated or reserved ("Original", "Target"), or the
// truth holds labels above 3.
std::vector<MetricRow> evaluate_subject(const EvaluateInput& in, const EvaluateOptions& options = {});

// A readable table of the rows of one subject and direction: one line per
// method, the intensity metrics and, per class, the segmentation metrics
// against the target's segmentation.
std::string format_metrics_summary(const std::vector<MetricRow>& rows);

}  // namespace harmonize
