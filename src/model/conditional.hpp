#pragma once
// Conditioning by concatenation (Wolleb 2022; the paper's sec. "Model"): the
// network sees the clean source slice stacked before the noisy target slice,
// X_t = b (+) x_t, at every step. This file is the one place that builds that
// input, for training and for sampling. Source and target slices are given in
// the data range [0, 1] and mapped to the model range here (diffusion.hpp).
#include <torch/torch.h>

#include "model/diffusion.hpp"
#include "model/samplers.hpp"
#include "model/unet.hpp"

namespace harmonize {

// [B, Cs, H, W] source (model range) and [B, C, H, W] x_t -> [B, Cs + C, H, W].
torch::Tensor conditional_input(const torch::Tensor& source_model_range, const torch::Tensor& x_t);

// A denoiser for the samplers that conditions `model` on `source01` ([B, 1, H,
// W] in [0, 1], moved to the model's device once).
Denoiser conditional_denoiser(UNet model, const torch::Tensor& source01);

// The training loss of one batch (guided-diffusion training_losses with the
// concatenated condition): x0 = 2 target01 - 1, x_t = q_sample(x0, t, noise),
// output = model(source (+) x_t, timestep_map[t]), terms per
// GaussianDiffusion::training_losses. source01, target01, noise: [B, 1, H, W];
// t: [B] indices of `d`. Throws Error on shape mismatch.
LossTerms training_loss(UNet& model, const GaussianDiffusion& d, const torch::Tensor& source01,
                        const torch::Tensor& target01, const torch::Tensor& t, const torch::Tensor& noise);

// The regression baseline (objective "regression"; DeepHarmony-like): the same
// network, given zeros where the noisy target slice would be and told
// timestep 0, maps the source slice to the target slice in one pass. Returns
// that slice in the model range, [B, 1, H, W] (the first output channel).
torch::Tensor regression_output(UNet& model, const torch::Tensor& source01);
// Its loss per sample, [B]: the mean absolute difference (L1) to 2 target01 - 1;
// mse holds the same, vb zeros.
LossTerms regression_loss(UNet& model, const torch::Tensor& source01, const torch::Tensor& target01);

}  // namespace harmonize
