// The guided-diffusion UNet: structure, parameter count, shapes, blocks.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "model/unet.hpp"

using namespace harmonize;

namespace {

bool has_parameter(const torch::nn::Module& m, const std::string& name) {
  const auto params = m.named_parameters(true);
  return params.find(name) != nullptr;
}

}  // namespace

TEST(UNet, PaperPresetHasTheReferenceParameterCount) {
  UNet model(unet_preset("paper"));
  EXPECT_EQ(parameter_count(*model), 11402370);  // PAPER.md, verified on the reference code
}

TEST(UNet, ParameterNamesFollowGuidedDiffusion) {
  UNet model(unet_preset("paper"));
  for (const char* name :
       {"time_embed.0.weight", "time_embed.2.bias", "input_blocks.0.0.weight", "input_blocks.1.0.in_layers.0.weight",
        "input_blocks.1.0.in_layers.2.weight", "input_blocks.1.0.emb_layers.1.weight",
        "input_blocks.1.0.out_layers.3.weight", "input_blocks.3.0.op.weight", "middle_block.1.qkv.weight",
        "middle_block.1.proj_out.bias", "middle_block.2.out_layers.3.bias", "output_blocks.0.0.skip_connection.weight",
        "output_blocks.2.1.conv.weight", "output_blocks.11.0.in_layers.2.weight", "out.0.weight", "out.2.weight"})
    EXPECT_TRUE(has_parameter(*model, name)) << name;
  // attention only in the middle block
  EXPECT_FALSE(has_parameter(*model, "input_blocks.1.1.qkv.weight"));
  EXPECT_FALSE(has_parameter(*model, "output_blocks.0.1.qkv.weight"));
  // 1 input conv + 4 levels x 2 res blocks + 3 downsamples; 4 x 3 output blocks
  EXPECT_TRUE(has_parameter(*model, "input_blocks.11.0.in_layers.2.weight"));
  EXPECT_FALSE(has_parameter(*model, "input_blocks.12.0.in_layers.2.weight"));
  EXPECT_FALSE(has_parameter(*model, "output_blocks.12.0.in_layers.2.weight"));
}

TEST(UNet, ZeroInitialisedOutputAndAttentionOnlyWhereAsked) {
  torch::manual_seed(0);
  auto cfg = unet_preset("tiny");
  cfg.attention_resolutions = {2};
  UNet model(cfg);
  EXPECT_TRUE(has_parameter(*model, "input_blocks.3.1.qkv.weight"));  // level 1 (ds 2) res block + attention
  EXPECT_TRUE(has_parameter(*model, "output_blocks.0.1.qkv.weight"));
  EXPECT_FALSE(has_parameter(*model, "input_blocks.1.1.qkv.weight"));
  // a freshly built network outputs exactly zero (zero-initialised out conv)
  auto y = model->forward(torch::randn({2, 2, 16, 16}), torch::tensor({0, 999}, torch::kLong));
  EXPECT_EQ(y.abs().max().item<float>(), 0.0f);
  for (const auto& p : model->named_parameters(true)) {
    if (p.key().find("out_layers.3") != std::string::npos || p.key().find("proj_out") != std::string::npos) {
      EXPECT_EQ(p.value().abs().max().item<float>(), 0.0f) << p.key();
    }
  }
}

TEST(UNet, CpuPresetForwardShapeAndInputChecks) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  UNet model(unet_preset("cpu"));
  model->eval();
  // make the output depend on everything: randomise the zero-initialised convs
  // (at initialisation every residual branch is 0, so t has no effect yet)
  for (auto& p : model->named_parameters(true)) {
    const auto& k = p.key();
    if (k.rfind("out.2", 0) == 0 || k.find("out_layers.3") != std::string::npos ||
        k.find("proj_out") != std::string::npos)
      p.value().normal_(0.0, 0.01);
  }
  auto x = torch::randn({1, 2, 224, 224});
  auto y = model->forward(x, torch::tensor({500}, torch::kLong));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 224, 224}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  EXPECT_GT(y.abs().max().item<float>(), 0.0f);
  // the timestep changes the output
  auto y2 = model->forward(x, torch::tensor({10}, torch::kLong));
  EXPECT_GT((y - y2).abs().max().item<float>(), 0.0f);
  EXPECT_THROW(model->forward(torch::randn({1, 2, 220, 224}), torch::tensor({1}, torch::kLong)), Error);
  EXPECT_THROW(model->forward(torch::randn({1, 3, 224, 224}), torch::tensor({1}, torch::kLong)), Error);
  EXPECT_THROW(model->forward(x, torch::tensor({1, 2}, torch::kLong)), Error);
  auto bad = unet_preset("cpu");
  bad.model_channels = 24;
  EXPECT_THROW(UNet{bad}, UsageError);
}

TEST(UNet, TimestepEmbeddingIsCosThenSin) {
  auto t = torch::tensor({0, 7, 999}, torch::kLong);
  auto e = timestep_embedding(t, 8);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{3, 8}));
  for (int b = 0; b < 3; ++b) {
    const double tv = t[b].item<int64_t>();
    for (int k = 0; k < 4; ++k) {
      const double f = std::exp(-std::log(10000.0) * k / 4.0);
      EXPECT_NEAR(e[b][k].item<float>(), std::cos(tv * f), 1e-4);
      EXPECT_NEAR(e[b][4 + k].item<float>(), std::sin(tv * f), 1e-4);
    }
  }
  EXPECT_EQ(timestep_embedding(t, 9).size(1), 9);
  EXPECT_EQ(timestep_embedding(t, 9)[1][8].item<float>(), 0.0f);
}

TEST(UNet, AttentionMatchesDirectMultiHeadComputation) {
  torch::manual_seed(3);
  torch::NoGradGuard no_grad;
  const int64_t c = 8, heads = 2, ch = c / heads;
  AttentionBlock attn(c, heads, 4);
  for (auto& p : attn->parameters()) p.normal_(0.0, 0.5);  // also the zero-initialised proj_out
  auto x = torch::randn({1, c, 3, 2});
  auto y = attn->forward(x);
  // direct: qkv = W norm(x) + b; legacy head order: channels [h*3ch, (h+1)*3ch) are (q, k, v) of head h
  auto params = attn->named_parameters();
  auto gn = torch::group_norm(x, 4, params["norm.weight"], params["norm.bias"]).reshape({c, 6});
  auto qkv = torch::matmul(params["qkv.weight"].squeeze(-1), gn) + params["qkv.bias"].unsqueeze(1);  // [3c, 6]
  auto a = torch::zeros({c, 6});
  for (int64_t h = 0; h < heads; ++h) {
    auto q = qkv.narrow(0, h * 3 * ch, ch), k = qkv.narrow(0, h * 3 * ch + ch, ch),
         v = qkv.narrow(0, h * 3 * ch + 2 * ch, ch);
    auto w = torch::softmax(torch::matmul(q.t(), k) / std::sqrt(static_cast<double>(ch)), -1);  // [t, s]
    a.narrow(0, h * ch, ch).copy_(torch::matmul(v, w.t()));
  }
  auto expect = x.reshape({c, 6}) + torch::matmul(params["proj_out.weight"].squeeze(-1), a) +
                params["proj_out.bias"].unsqueeze(1);
  EXPECT_LT((y.reshape({c, 6}) - expect).abs().max().item<float>(), 1e-5);
}
