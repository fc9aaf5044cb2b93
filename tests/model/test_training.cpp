// The conditional model learns a toy contrast mapping (target = 1 - source).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "model/conditional.hpp"

using namespace harmonize;

namespace {

// Piecewise-constant random "anatomy" in [0, 1]: 4x4 blocks of 4x4 pixels.
torch::Tensor toy_sources(int64_t batch, torch::Generator& gen) {
  auto coarse = torch::rand({batch, 1, 4, 4}, gen);
  return coarse.repeat_interleave(4, 2).repeat_interleave(4, 3);
}

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

}  // namespace

TEST(Training, ConditionalInputStacksSourceFirstAndChecksShapes) {
  auto src = torch::zeros({2, 1, 8, 8}), xt = torch::ones({2, 1, 8, 8});
  auto in = conditional_input(src, xt);
  ASSERT_EQ(in.size(1), 2);
  EXPECT_EQ(in.narrow(1, 0, 1).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(in.narrow(1, 1, 1).min().item<float>(), 1.0f);
  EXPECT_THROW(conditional_input(torch::zeros({2, 1, 4, 8}), xt), Error);
  UNet model(unet_preset("tiny"));
  const GaussianDiffusion d{DiffusionConfig{}};
  EXPECT_THROW(training_loss(model, d, src, xt, torch::tensor({1, 2}, torch::kLong), torch::zeros({2, 1, 4, 4})),
               Error);
}

TEST(Training, TinyModelLearnsAToyContrastMapping) {
  torch::manual_seed(0);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const GaussianDiffusion d{DiffusionConfig{}};  // learned range + hybrid loss, T = 1000
  UNet model(unet_preset("tiny"));
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> mse, vb;
  const int steps = 300;
  for (int step = 0; step < steps; ++step) {
    auto source = toy_sources(8, gen);
    auto target = 1.0 - source;
    auto t = d.sample_timesteps(8, gen);
    auto noise = torch::randn({8, 1, 16, 16}, gen);
    const auto terms = training_loss(model, d, source, target, t, noise);
    auto loss = terms.loss.mean();
    ASSERT_TRUE(std::isfinite(loss.item<double>())) << "step " << step;
    opt.zero_grad();
    loss.backward();
    opt.step();
    mse.push_back(terms.mse.mean().item<double>());
    vb.push_back(terms.vb.mean().item<double>());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("train_seconds", std::to_string(seconds));
  const double first = mean_of(mse, 0, 20), last = mean_of(mse, steps - 50, steps);
  RecordProperty("mse_first", std::to_string(first));
  RecordProperty("mse_last", std::to_string(last));
  EXPECT_NEAR(mse[0], 1.0, 0.15);  // zero-initialised output: eps prediction 0 at first
  EXPECT_LT(last, 0.1) << "first " << first << " last " << last;
  EXPECT_LT(last, 0.25 * first) << "first " << first << " last " << last;

  // The trained model, conditioned on new sources, samples 1 - source: 100
  // ancestral steps. (Mean squared error of a constant 0.5 would be 1/12, of the
  // source itself 1/3; about 0.002 after this training.)
  model->eval();
  auto source = toy_sources(4, gen);
  auto target = 1.0 - source;
  SamplerOptions o;
  o.seed = 1;
  auto x = sample_ddpm(d.respaced("100"), conditional_denoiser(model, source), {4, 1, 16, 16}, o);
  auto harmonized = from_model_range(x);
  const double err = (harmonized - target).pow(2).mean().item<double>();
  const double err_source = (source - target).pow(2).mean().item<double>();
  RecordProperty("sample_mse", std::to_string(err));
  EXPECT_LT(err, 0.03 * err_source) << "sample mse " << err << " vs source " << err_source;
}
