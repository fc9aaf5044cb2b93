#pragma once
// Sampling slice stacks with a trained model: every slice with brain is
// sampled from the model conditioned on it; slices are batched across stacks
// (a scan's orientations: harmonize/scan.hpp gives one scan per call). No
// per-slice rescaling: outputs stay on the target contrast's [0, 1] scale, so
// the stacked volume is consistent in 3D. What happens to a sampled volume
// afterwards is harmonize/correction.hpp's.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/views.hpp"
#include "core/volume.hpp"
#include "harmonize/options.hpp"
#include "model/checkpoint.hpp"

namespace harmonize {

struct HarmonizeOptions {
  SamplingOptions sampling;
  int slice_stride = 1;    // harmonize every k-th brain slice only (the rest stay 0)
  std::uint64_t seed = 1;  // of the sampler's generator, one per call (slices drawn in order)
  // The slice orientations sampled and fused (harmonize_blocks); the paper's
  // sagittal slices alone by default.
  std::vector<View> views{View::Sagittal};
  Fusion fusion = Fusion::Median;
  // A model with a spread (DiffusionConfig::spread): draw each output voxel
  // from the predicted Gaussian around the x0 estimate (true) or return the
  // estimate itself (false). Several orientations: their estimates and their
  // sds are fused alike, then one draw. Models without a spread ignore it.
  bool draw_spread = true;
  torch::Device device = torch::kCPU;
  std::function<void(std::size_t done, std::size_t total)> progress;  // slices
};

// The orientations the model was trained on (its header's training record;
// sagittal for models from before orientations were recorded): what apply
// samples and fuses when neither the recipe nor the command line says otherwise.
std::vector<std::string> trained_orientations(const ModelHeader& header);

// stacks[s]: [N, H, W] float in [0, 1]; has_brain[s][k]: harmonize slice k?
// Returns stacks of the same shapes, clamped to [0, 1]; slices without brain are 0.
// With a spread drawn (o.draw_spread), each stack's draw uses its own
// generator (spread_seed(o.seed, s)).
std::vector<torch::Tensor> harmonize_stacks(const LoadedModel& model, const std::vector<torch::Tensor>& stacks,
                                            const std::vector<std::vector<std::uint8_t>>& has_brain,
                                            const HarmonizeOptions& o);

// Sagittal-layout blocks [N, H, W] harmonized in every orientation of
// o.views (each view's slices with brain sampled by harmonize_stacks in one
// call: all blocks' sagittal slices first, then coronal, then axial) and
// fused by o.fusion (model/view_slices.hpp map_views_and_fuse). `brains`: the
// blocks' brain masks (nonzero = brain). Returns one block per input.
// The seed of the spread's draw for stack (or block) s of a call.
std::uint64_t spread_seed(std::uint64_t seed, std::size_t s);

// o.sampling.start_noise == Volume: the chains start from one N(0, 1) volume per
// block (its own generator from o.seed and the block's index), sliced in every
// orientation of `views` like the blocks (model/view_slices.hpp view_stacks).
std::vector<torch::Tensor> volume_start_noise(const std::vector<torch::Tensor>& blocks, const std::vector<View>& views,
                                              int64_t multiple, std::uint64_t seed);

std::vector<torch::Tensor> harmonize_blocks(const LoadedModel& model, const std::vector<torch::Tensor>& blocks,
                                            const std::vector<torch::Tensor>& brains, const HarmonizeOptions& o);

}  // namespace harmonize
