#pragma once
// The harmonize stage for scans as a user has them: each scan is preprocessed
// as the model's training data was (brain mask, N4, isotropic grid, [0, 1]
// window; preprocess/pipeline.hpp), its brain slices are sampled
// (harmonize/sample.hpp), one scan at a time, the volume is finished
// (harmonize/correction.hpp) and put back on the scan's own grid and geometry,
// 0 outside the brain. `apply`, crossval (on its preprocessed images) and the
// BIDS app call this.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harmonize/correction.hpp"
#include "harmonize/sample.hpp"
#include "preprocess/pipeline.hpp"

namespace harmonize {

struct ScanInput {
  std::string name;           // for messages: the file
  Volume image;               // a raw scan, or a preprocessed image (ScanOptions::preprocessed)
  std::optional<Mask> brain;  // on image's grid; none: by template registration
};

struct ScanOptions {
  PreprocessOptions prep;  // as the model's training data (preprocessing_of)
  // The inputs are already preprocessed (images of `harmonize preprocess`, on
  // [0, 1] and on the grid to sample, each with its brain mask): no mask, N4,
  // resampling or scaling, the slices are cut from them as they are.
  bool preprocessed = false;
  HarmonizeOptions harmonize;
  Correction correction;
};

// The preprocessing the model's training data had (its header's record) over
// `defaults`; InputError naming model_path when the record is malformed, a
// warning when there is none.
PreprocessOptions preprocessing_of(const ModelHeader& header, PreprocessOptions defaults,
                                   const std::string& model_path);

// A scan's key: a hash of its image (grid and voxels). Its sampler and its
// end noise are seeded by the call's seed and this key, so that a scan's
// output depends on the scan, the model and the seed only: not on its name,
// its place in the call or the other scans beside it.
std::uint64_t scan_key(const Volume& image);
// The seed of the sampler of the scan with `key` in a call with `seed` (HarmonizeOptions::seed).
std::uint64_t scan_sampling_seed(std::uint64_t seed, std::uint64_t key);
// The seed of the end noise of the scan with `key`.
std::uint64_t output_noise_seed(std::uint64_t seed, std::uint64_t key);

// A scan sampled but not yet finished: the sampled volume on the grid the
// slices were cut from (0 where no slice with brain was sampled) and the
// preprocessing that led there.
struct SampledScan {
  Volume volume;
  PreparedScan prepared;
  std::uint64_t key = 0;  // scan_key of the input image
};

// Steps 1 and 2 of harmonizing a scan: preprocessing (unless o.preprocessed) and
// sampling, one scan at a time, so that memory holds one scan's slices
// whatever the count. input(i) gives scan i when its turn comes (a caller may
// read it then); each(i, sampled) takes the result before the next scan
// starts. o.harmonize.progress, if set, sees the whole call: 1000 units per
// scan. `tmpl` is needed only for inputs without a brain mask; o.correction is
// not used.
using ScanSink = std::function<void(std::size_t i, SampledScan&& sampled)>;
void sample_scans(const LoadedModel& model, std::size_t count, const std::function<ScanInput(std::size_t)>& input,
                  const BrainTemplate* tmpl, const ScanOptions& o, const ScanSink& each);
// The same for scans in memory, the results collected.
std::vector<SampledScan> sample_scans(const LoadedModel& model, const std::vector<ScanInput>& inputs,
                                      const BrainTemplate* tmpl, const ScanOptions& o);

// Step 3: the finishing step (correction, end noise drawn from noise_seed),
// then the input's grid, 0 outside the brain preprocessing found there. A
// sampled scan can be finished more than once (crossval's volume-fitted output).
Volume finish_scan(const SampledScan& s, const Correction& correction, std::uint64_t noise_seed);

}  // namespace harmonize
