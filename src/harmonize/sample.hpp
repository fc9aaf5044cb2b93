#pragma once
// Sampling slice stacks with a trained model: every slice with brain is
// sampled from the model conditioned on it; slices are batched across stacks
// (and so across scans). No per-slice rescaling: outputs stay on the target
// contrast's [0, 1] scale, so the stacked volume is consistent in 3D. What
// happens to a sampled volume afterwards is harmonize/correction.hpp's.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/volume.hpp"
#include "harmonize/options.hpp"
#include "model/checkpoint.hpp"

namespace harmonize {

struct HarmonizeOptions {
  SamplingOptions sampling;
  int slice_stride = 1;  // harmonize every k-th brain slice only (the rest stay 0)
  std::uint64_t seed = 1;  // of the sampler's generator, one per call (slices drawn in order)
  torch::Device device = torch::kCPU;
  std::function<void(std::size_t done, std::size_t total)> progress;  // slices
};

// stacks[s]: [N, H, W] float in [0, 1]; has_brain[s][k]: harmonize slice k?
// Returns stacks of the same shapes, clamped to [0, 1]; slices without brain are 0.
std::vector<torch::Tensor> harmonize_stacks(const LoadedModel& model, const std::vector<torch::Tensor>& stacks,
                                            const std::vector<std::vector<std::uint8_t>>& has_brain,
                                            const HarmonizeOptions& o);

}  // namespace harmonize
