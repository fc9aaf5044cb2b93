#include "model/gan.hpp"

#include <sstream>

#include "core/error.hpp"
#include "model/conditional.hpp"
#include "model/diffusion.hpp"

namespace harmonize {

namespace {
torch::nn::Conv2d conv4(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 4).stride(stride).padding(1));
}
torch::nn::LeakyReLU leaky() { return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)); }
torch::nn::InstanceNorm2d norm(int64_t c) {
  return torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(c).affine(true));
}

torch::Tensor pair(const torch::Tensor& source01, const torch::Tensor& image) {
  if (source01.dim() != 4 || source01.sizes() != image.sizes()) {
    std::ostringstream msg;
    msg << "discriminator: source of shape " << source01.sizes() << " does not match the slice of shape "
        << image.sizes();
    throw Error(msg.str());
  }
  return conditional_input(to_model_range(source01), image);
}
}  // namespace

PatchDiscriminatorImpl::PatchDiscriminatorImpl(int64_t c) {
  if (c < 1) throw UsageError("the discriminator needs at least 1 channel");
  net = register_module("net", torch::nn::Sequential(conv4(2, c, 2), leaky(),                       //
                                                     conv4(c, 2 * c, 2), norm(2 * c), leaky(),      //
                                                     conv4(2 * c, 4 * c, 1), norm(4 * c), leaky(),  //
                                                     conv4(4 * c, 1, 1)));
}

torch::Tensor PatchDiscriminatorImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 2 || x.size(2) < 16 || x.size(3) < 16) {
    std::ostringstream msg;
    msg << "discriminator: input of shape " << x.sizes() << ", expected [B, 2, H, W] with H, W >= 16";
    throw Error(msg.str());
  }
  return net->forward(x);
}

torch::Tensor discriminator_loss(PatchDiscriminator& d, const torch::Tensor& source01, const torch::Tensor& target01,
                                 const torch::Tensor& generated) {
  const auto real = d->forward(pair(source01, to_model_range(target01)));
  const auto fake = d->forward(pair(source01, generated));
  namespace F = torch::nn::functional;
  return 0.5 * (F::binary_cross_entropy_with_logits(real, torch::ones_like(real)) +
                F::binary_cross_entropy_with_logits(fake, torch::zeros_like(fake)));
}

torch::Tensor generator_adversarial_loss(PatchDiscriminator& d, const torch::Tensor& source01,
                                         const torch::Tensor& generated) {
  const auto fake = d->forward(pair(source01, generated));
  return torch::nn::functional::binary_cross_entropy_with_logits(fake, torch::ones_like(fake));
}

}  // namespace harmonize
