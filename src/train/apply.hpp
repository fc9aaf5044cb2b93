#pragma once
// Harmonizing slice stacks with a trained model: every slice with brain is
// sampled from the model conditioned on it; slices are batched across stacks
// (and so across scans). No per-slice rescaling: outputs stay on the target
// contrast's [0, 1] scale, so the stacked volume is consistent in 3D.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/volume.hpp"
#include "train/checkpoint.hpp"

namespace harmonize {

struct HarmonizeOptions {
  std::string sampler = "ddpm";  // ddpm (ancestral, the paper's) or ddim
  int steps = 100;               // respaced steps; 1000 = the paper's full chain
  double eta = 0.0;              // DDIM only
  // Which timesteps the respaced process keeps: "uniform" (an even stride, the
  // reference code's) or "quadratic" (dense at low noise, schedule.hpp "quadN").
  std::string spacing = "uniform";
  // Noise sd on the target's [0, 1] scale at which the reverse process ends
  // (SamplerOptions::end_sigma): 0 ends at x0 (the paper's); the model file's
  // target_noise_sd gives the target scanner's own level.
  double end_noise = 0.0;
  int batch = 8;         // slices per network call
  int slice_stride = 1;  // harmonize every k-th brain slice only (the rest stay 0)
  std::uint64_t seed = 1;
  torch::Device device = torch::kCPU;
  std::function<void(std::size_t done, std::size_t total)> progress;  // slices
};

// --end-noise: "none" -> 0, "auto" -> the model's target_noise_sd (InputError
// naming model_path when the file does not record it), else the number.
double resolve_end_noise(const std::string& spec, const ModelHeader& header, const std::string& model_path);

// stacks[s]: [N, H, W] float in [0, 1]; has_brain[s][k]: harmonize slice k?
// Returns stacks of the same shapes; slices without brain are 0.
std::vector<torch::Tensor> harmonize_stacks(const LoadedModel& model, const std::vector<torch::Tensor>& stacks,
                                            const std::vector<std::vector<std::uint8_t>>& has_brain,
                                            const HarmonizeOptions& o);

}  // namespace harmonize

namespace harmonize {

// Harmonizes the condition slices of subjects of a preprocessed dataset
// (harmonize preprocess) in the model's direction and puts them back on the
// grid the slices were cut from (the pair's target session grid), 0 where no
// slice with brain was sampled. One volume per subject, in order.
std::vector<Volume> harmonize_prepared(const LoadedModel& model, const std::string& data_dir,
                                       const std::vector<std::string>& subjects, const HarmonizeOptions& o);

}  // namespace harmonize
