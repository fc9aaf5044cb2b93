// The pGAN-like baseline's two losses (model/gan.hpp) move as a GAN's should
// on a toy mapping (target = 1 - source): the discriminator, trained alone,
// tells real pairs from generated ones (its loss falls, the generator's
// adversarial loss rises); the generator, trained alone against it, fools it
// (its adversarial loss falls).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/conditional.hpp"
#include "model/diffusion.hpp"
#include "model/gan.hpp"

using namespace harmonize;

namespace {
torch::Tensor toy_sources(int64_t batch, torch::Generator& gen) {
  auto coarse = torch::rand({batch, 1, 4, 4}, gen);
  return coarse.repeat_interleave(4, 2).repeat_interleave(4, 3);
}
}  // namespace

TEST(Gan, DiscriminatorShapesAndChecks) {
  PatchDiscriminator d(8);
  EXPECT_EQ(d->forward(torch::zeros({3, 2, 32, 24})).sizes(), (std::vector<int64_t>{3, 1, 6, 4}));
  EXPECT_THROW(d->forward(torch::zeros({3, 1, 32, 32})), Error);  // one channel: no source beside the slice
  EXPECT_THROW(d->forward(torch::zeros({3, 2, 8, 8})), Error);    // smaller than one patch
  EXPECT_THROW(
      discriminator_loss(d, torch::zeros({2, 1, 16, 16}), torch::zeros({2, 1, 16, 16}), torch::zeros({2, 1, 16, 8})),
      Error);
  EXPECT_THROW(PatchDiscriminator(0), UsageError);
}

TEST(Gan, DiscriminatorAndGeneratorLossesMoveInTheExpectedDirections) {
  torch::manual_seed(3);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  UNet g(unet_preset("tiny"));
  PatchDiscriminator d(8);
  const auto source = toy_sources(8, gen), target = 1.0 - source;
  auto generated = [&] { return regression_output(g, source); };
  auto losses = [&] {
    torch::NoGradGuard no_grad;
    const auto fake = generated();
    return std::pair<double, double>{discriminator_loss(d, source, target, fake).item<double>(),
                                     generator_adversarial_loss(d, source, fake).item<double>()};
  };
  const auto [d0, g0] = losses();
  // An untrained discriminator cannot tell: both losses near log 2.
  EXPECT_NEAR(d0, std::log(2.0), 0.1);
  EXPECT_NEAR(g0, std::log(2.0), 0.2);

  // 1. The discriminator alone, the generator fixed.
  torch::optim::Adam dopt(d->parameters(), torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
  for (int i = 0; i < 40; ++i) {
    const auto fake = generated().detach();
    auto loss = discriminator_loss(d, source, target, fake);
    dopt.zero_grad();
    loss.backward();
    dopt.step();
  }
  const auto [d1, g1] = losses();
  EXPECT_LT(d1, 0.5 * d0) << "discriminator loss " << d0 << " -> " << d1;
  EXPECT_GT(g1, g0 + 0.3) << "generator adversarial loss " << g0 << " -> " << g1;

  // 2. The generator alone, adversarial loss only, the discriminator fixed.
  for (auto& p : d->parameters()) p.requires_grad_(false);
  torch::optim::Adam gopt(g->parameters(), torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
  for (int i = 0; i < 40; ++i) {
    auto loss = generator_adversarial_loss(d, source, generated());
    gopt.zero_grad();
    loss.backward();
    gopt.step();
  }
  const auto [d2, g2] = losses();
  EXPECT_LT(g2, 0.5 * g1) << "generator adversarial loss " << g1 << " -> " << g2;
  EXPECT_GT(d2, d1) << "discriminator loss " << d1 << " -> " << d2;
}
