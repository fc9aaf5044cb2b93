#pragma once
// The paired slices of a preprocessed dataset (`harmonize preprocess`), for one
// translation direction: the condition (input) stack and the target stack of
// every subject, split into training and validation sets by subject (never by
// slice: neighbouring slices of one brain are nearly the same image), slices
// without brain dropped. Slices are kept on the CPU as [N, 1, H, W] float32 in
// [0, 1]; batches are drawn uniformly with the caller's generator.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/views.hpp"

namespace harmonize {

// "1p5T-to-3T" or "3T-to-1p5T" (any "A-to-B" whose sessions ses-A and ses-B
// the dataset holds): the model is conditioned on ses-A and produces ses-B.
struct Direction {
  std::string name, condition_session, target_session;  // e.g. "1p5T-to-3T", "ses-1p5T", "ses-3T"
};
// Throws UsageError for a name that is not "A-to-B".
Direction parse_direction(const std::string& name);

struct SliceDatasetOptions {
  std::string direction = "1p5T-to-3T";
  double validation_fraction = 0.1;  // of the subjects, rounded, at least one when > 0 and >= 2 subjects
  std::uint64_t seed = 1;            // of the split
  // Explicit split (override the fraction): subject ids as in dataset.json.
  // Training subjects alone: validation = the rest; validation alone: training = the rest.
  std::vector<std::string> training_subjects, validation_subjects;
  // What a training example is: a whole slice of one of these orientations
  // (model/view_slices.hpp), or with patch > 0 a patch x patch square of it
  // centred on a brain voxel drawn uniformly (clamped inside the slice, zero-padded
  // where the slice is smaller). Sagittal whole slices (the paper's) by default.
  std::vector<View> views{View::Sagittal};
  int patch = 0;
  // 2.5D: the source of an example is its slice with this many neighbours of
  // the same orientation on each side (channels in order, 0 beyond the
  // block); the target stays one slice.
  int context = 0;
};

// Subjects -> (training, validation): a seeded shuffle of the sorted ids, the
// first round(fraction n) for validation (at least 1 if fraction > 0, at most
// n - 1). Deterministic given ids (any order), fraction and seed.
std::pair<std::vector<std::string>, std::vector<std::string>> split_subjects(std::vector<std::string> ids,
                                                                             double validation_fraction,
                                                                             std::uint64_t seed);

struct SliceBatch {
  torch::Tensor source, target;  // [B, 1, H, W] float32 in [0, 1] (source = the condition;
                                 // [B, 2 context + 1, H, W] with context slices)
};

// The brain slices of a set of subjects.
class SliceSet {
 public:
  SliceSet() = default;
  SliceSet(std::vector<std::string> subjects, torch::Tensor source, torch::Tensor target);
  // Examples of other orientations or patches (SliceDatasetOptions::views,
  // patch) are cut from each subject's blocks [L, H, W] (sagittal layout).
  void set_blocks(std::vector<torch::Tensor> source_blocks, std::vector<torch::Tensor> target_blocks,
                  std::vector<View> views, int patch, int context = 0);
  const std::vector<std::string>& subjects() const { return subjects_; }
  int64_t size() const { return source_.defined() ? source_.size(0) : 0; }
  bool empty() const { return size() == 0; }
  // `batch` examples drawn uniformly with replacement; with flip, each one is
  // mirrored along its columns (both images) with probability 1/2. Whole
  // sagittal slices by default; with blocks set, one orientation per batch
  // (drawn uniformly from the views), then (subject, slice with brain) pairs
  // uniformly, then the patch. Throws Error if empty.
  SliceBatch sample(int64_t batch, torch::Generator& gen, bool flip = false) const;
  // The sagittal brain slices [n, 1, H, W] (whatever the examples are).
  const torch::Tensor& source() const { return source_; }
  const torch::Tensor& target() const { return target_; }
  // Per view of the blocks: the (block, slice) pairs with brain.
  const std::vector<std::vector<std::pair<int64_t, int64_t>>>& brain_slices() const { return brain_slices_; }

 private:
  std::vector<std::string> subjects_;
  torch::Tensor source_, target_;
  std::vector<torch::Tensor> source_blocks_, target_blocks_;
  std::vector<View> views_;
  int patch_ = 0, context_ = 0;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> brain_slices_;
};

// The patch x patch square of a 2D slice [H, W] (or of each channel of [C, H,
// W]) whose top-left corner is (top, left), 0 where it lies outside the slice.
torch::Tensor crop_patch(const torch::Tensor& slice, int64_t top, int64_t left, int64_t patch);
// The top (or left) of a patch centred on c along a side of n voxels: inside
// [0, n - patch] when n >= patch, centred on the side otherwise.
int64_t patch_start(int64_t c, int64_t n, int64_t patch);

struct PairedSlices {
  Direction direction;
  SliceSet training, validation;
  int64_t height = 0, width = 0;
  int64_t skipped_slices = 0;    // without brain
  nlohmann::json preprocessing;  // dataset.json "parameters": how the slices were made
};

// Reads DATA/dataset.json and the slice stacks it names. Throws InputError
// naming the file when dataset.json is missing or invalid, a stack is missing
// or unreadable, the two stacks of a subject differ in shape, or their brain
// flags do not match the stack; UsageError for a direction or subject the
// dataset does not have.
PairedSlices load_paired_slices(const std::string& data_dir, const SliceDatasetOptions& o);

// Where one subject's condition and target slice stacks lie for a direction.
struct SubjectSlicePaths {
  std::string condition, target;
};
SubjectSlicePaths subject_slice_paths(const std::string& data_dir, const std::string& direction,
                                      const std::string& subject);

}  // namespace harmonize
