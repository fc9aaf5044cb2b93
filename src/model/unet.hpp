#pragma once
// The denoising network: OpenAI guided-diffusion's UNetModel (Dhariwal & Nichol
// 2021, from Ho 2020's PixelCNN++-style UNet), 2-D, as in the paper's reference
// code. Module and parameter names follow guided-diffusion (input_blocks.1.0.
// in_layers.2.weight, ...), so the state dict of a reference checkpoint maps
// one to one onto this model.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "model/config.hpp"

namespace harmonize {

// guided-diffusion timestep_embedding: [cos(t f_k), sin(t f_k)], f_k =
// max_period^(-k/half), k < half = dim/2 (the Transformer's sinusoidal position
// encoding, Vaswani 2017 sec. 3.5, cos half first); zero-padded for odd dim.
// t: [B] (any numeric dtype) -> [B, dim] float32.
torch::Tensor timestep_embedding(const torch::Tensor& t, int64_t dim, double max_period = 10000.0);

// GroupNorm, SiLU, conv3x3; + Linear(SiLU(emb)); GroupNorm, SiLU, Dropout,
// zero-initialised conv3x3; plus the input (1x1 conv when the width changes).
// With use_scale_shift_norm the embedding gives (scale, shift) applied after
// the second GroupNorm instead of being added (FiLM, Dhariwal & Nichol sec. 3).
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int64_t channels, int64_t emb_channels, int64_t out_channels, double dropout, bool use_scale_shift_norm,
               int64_t groups);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb);

 private:
  torch::nn::Sequential in_layers, emb_layers, out_layers;
  torch::nn::Conv2d skip_connection{nullptr};  // absent: identity
  bool use_scale_shift_norm_;
};
TORCH_MODULE(ResBlock);

// Self-attention over all pixels: GroupNorm, 1x1 conv1d to q,k,v, multi-head
// scaled dot-product attention (Vaswani 2017 eq. 1) in guided-diffusion's
// legacy head order, zero-initialised 1x1 conv1d projection, residual.
class AttentionBlockImpl : public torch::nn::Module {
 public:
  AttentionBlockImpl(int64_t channels, int64_t num_heads, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::GroupNorm norm{nullptr};
  torch::nn::Conv1d qkv{nullptr}, proj_out{nullptr};
  int64_t num_heads_;
};
TORCH_MODULE(AttentionBlock);

// 3x3 convolution with stride 2 (halves H and W).
class DownsampleImpl : public torch::nn::Module {
 public:
  explicit DownsampleImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d op{nullptr};
};
TORCH_MODULE(Downsample);

// Nearest-neighbour x2, then 3x3 convolution.
class UpsampleImpl : public torch::nn::Module {
 public:
  explicit UpsampleImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample);

// guided-diffusion TimestepEmbedSequential: children "0", "1", ... applied in
// order; residual blocks also receive the timestep embedding.
class EmbedSequentialImpl : public torch::nn::Module {
 public:
  EmbedSequentialImpl() = default;
  void append(std::shared_ptr<torch::nn::Module> m);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& emb);

 private:
  std::vector<std::shared_ptr<torch::nn::Module>> layers_;
};
TORCH_MODULE(EmbedSequential);

class UNetImpl : public torch::nn::Module {
 public:
  // Throws UsageError for an invalid configuration.
  explicit UNetImpl(const UNetConfig& config);
  // x: [B, in_channels, H, W] float, t: [B] integer timesteps of the original
  // (unrespaced) process -> [B, out_channels, H, W]. Throws harmonize::Error
  // for a wrong shape, or H, W not multiples of config().size_multiple().
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t);
  const UNetConfig& config() const { return config_; }

 private:
  UNetConfig config_;
  torch::nn::Sequential time_embed{nullptr};
  torch::nn::ModuleList input_blocks{nullptr}, output_blocks{nullptr};
  EmbedSequential middle_block{nullptr};
  torch::nn::Sequential out{nullptr};
  std::vector<EmbedSequential> inputs_, outputs_;  // typed views of the lists
};
TORCH_MODULE(UNet);

// Number of scalar parameters (trainable or not) of a module and its children.
int64_t parameter_count(const torch::nn::Module& m);

}  // namespace harmonize
