#pragma once
// The pGAN-like baseline (objective "gan"; Dar et al. 2019, after pix2pix,
// Isola et al. 2017): the generator is the regression baseline's network
// (model/conditional.hpp regression_output), a PatchGAN discriminator judges
// (source, target) pairs of slices patch by patch, and the generator is
// trained with the adversarial loss plus a weighted L1 loss to the target.
// pGAN's perceptual term needs a network pretrained on natural images, which
// cannot be fetched here: it is left out.
#include <torch/torch.h>

#include <cstdint>

#include "model/unet.hpp"

namespace harmonize {

// pix2pix's PatchGAN: conv 4x4 stride 2 (no norm), LeakyReLU 0.2; conv 4x4
// stride 2, InstanceNorm, LeakyReLU; conv 4x4 stride 1, InstanceNorm,
// LeakyReLU; conv 4x4 stride 1 to one logit per patch. Widths c, 2c, 4c.
// Input: [B, 2, H, W] (source and a target or generated slice, model range)
// -> [B, 1, H/4 - 2, W/4 - 2] logits; H and W at least 16.
class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit PatchDiscriminatorImpl(int64_t channels = 32);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential net{nullptr};
};
TORCH_MODULE(PatchDiscriminator);

// The discriminator's loss on one batch: binary cross-entropy of its logits,
// "real" on (source, target) and "fake" on (source, generated), averaged
// over patches and the two halves (pix2pix's 0.5 factor). source01, target01
// in [0, 1]; generated in the model range (regression_output), detached by the caller.
torch::Tensor discriminator_loss(PatchDiscriminator& d, const torch::Tensor& source01, const torch::Tensor& target01,
                                 const torch::Tensor& generated);
// The generator's adversarial loss: cross-entropy of "real" on (source, generated).
torch::Tensor generator_adversarial_loss(PatchDiscriminator& d, const torch::Tensor& source01,
                                         const torch::Tensor& generated);

}  // namespace harmonize
