#include "model/unet.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace harmonize {

namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

nn::GroupNorm group_norm(int64_t groups, int64_t channels) {
  return nn::GroupNorm(nn::GroupNormOptions(groups, channels));  // eps 1e-5, affine
}

// guided-diffusion zero_module: the block starts as the identity (its residual
// branch outputs 0), which stabilises early training.
template <typename Conv>
Conv zeroed(Conv c) {
  torch::NoGradGuard no_grad;
  c->weight.zero_();
  if (c->bias.defined()) c->bias.zero_();
  return c;
}

bool has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

torch::Tensor timestep_embedding(const torch::Tensor& t, int64_t dim, double max_period) {
  const int64_t half = dim / 2;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(t.device());
  auto freqs = torch::exp(-std::log(max_period) * torch::arange(0, half, opts) / static_cast<double>(half));
  auto args = t.to(torch::kFloat32).unsqueeze(1) * freqs.unsqueeze(0);
  auto emb = torch::cat({torch::cos(args), torch::sin(args)}, -1);
  if (dim % 2) emb = torch::cat({emb, torch::zeros({emb.size(0), 1}, opts)}, -1);
  return emb;
}

ResBlockImpl::ResBlockImpl(int64_t channels, int64_t emb_channels, int64_t out_channels, double dropout,
                           bool use_scale_shift_norm, int64_t groups)
    : use_scale_shift_norm_(use_scale_shift_norm) {
  in_layers = register_module(
      "in_layers", nn::Sequential(group_norm(groups, channels), nn::SiLU(), conv3x3(channels, out_channels)));
  emb_layers = register_module(
      "emb_layers",
      nn::Sequential(nn::SiLU(), nn::Linear(emb_channels, use_scale_shift_norm ? 2 * out_channels : out_channels)));
  out_layers = register_module("out_layers", nn::Sequential(group_norm(groups, out_channels), nn::SiLU(),
                                                            nn::Dropout(nn::DropoutOptions(dropout)),
                                                            zeroed(conv3x3(out_channels, out_channels))));
  if (out_channels != channels)
    skip_connection = register_module("skip_connection", nn::Conv2d(nn::Conv2dOptions(channels, out_channels, 1)));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& emb) {
  auto h = in_layers->forward(x);
  auto e = emb_layers->forward(emb).unsqueeze(-1).unsqueeze(-1);  // [B, C, 1, 1]
  if (use_scale_shift_norm_) {
    auto ss = e.chunk(2, 1);
    h = out_layers[0]->as<nn::GroupNorm>()->forward(h) * (1 + ss[0]) + ss[1];  // out_norm(h)(1+scale)+shift
    h = out_layers[1]->as<nn::SiLU>()->forward(h);
    h = out_layers[2]->as<nn::Dropout>()->forward(h);
    h = out_layers[3]->as<nn::Conv2d>()->forward(h);
  } else {
    h = out_layers->forward(h + e);
  }
  return (skip_connection ? skip_connection->forward(x) : x) + h;
}

AttentionBlockImpl::AttentionBlockImpl(int64_t channels, int64_t num_heads, int64_t groups) : num_heads_(num_heads) {
  norm = register_module("norm", group_norm(groups, channels));
  qkv = register_module("qkv", nn::Conv1d(nn::Conv1dOptions(channels, 3 * channels, 1)));
  proj_out = register_module("proj_out", zeroed(nn::Conv1d(nn::Conv1dOptions(channels, channels, 1))));
}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& x) {
  const auto b = x.size(0), c = x.size(1);
  auto flat = x.reshape({b, c, -1});  // [B, C, L], L = H W tokens
  auto qkv_ = qkv->forward(norm->forward(flat));
  // QKVAttentionLegacy: heads split first, then q, k, v within each head.
  const int64_t len = flat.size(2), ch = c / num_heads_;
  auto r = qkv_.reshape({b * num_heads_, 3 * ch, len});
  const double scale = 1.0 / std::sqrt(std::sqrt(static_cast<double>(ch)));  // (1/sqrt(d)) split over q and k
  auto q = r.narrow(1, 0, ch) * scale, k = r.narrow(1, ch, ch) * scale, v = r.narrow(1, 2 * ch, ch);
  auto w = torch::bmm(q.transpose(1, 2), k);                          // [b*h, t, s] = sum_c q_ct k_cs
  w = torch::softmax(w.to(torch::kFloat32), -1).to(w.scalar_type());  // Vaswani 2017 eq. 1
  auto a = torch::bmm(v, w.transpose(1, 2)).reshape({b, c, len});     // [b*h, c, t] = sum_s w_ts v_cs
  return (flat + proj_out->forward(a)).reshape(x.sizes());
}

DownsampleImpl::DownsampleImpl(int64_t channels) { op = register_module("op", conv3x3(channels, channels, 2)); }

torch::Tensor DownsampleImpl::forward(const torch::Tensor& x) { return op->forward(x); }

UpsampleImpl::UpsampleImpl(int64_t channels) { conv = register_module("conv", conv3x3(channels, channels)); }

torch::Tensor UpsampleImpl::forward(const torch::Tensor& x) {
  return conv->forward(torch::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)}));
}

void EmbedSequentialImpl::append(std::shared_ptr<nn::Module> m) {
  register_module(std::to_string(layers_.size()), m);
  layers_.push_back(std::move(m));
}

torch::Tensor EmbedSequentialImpl::forward(torch::Tensor x, const torch::Tensor& emb) {
  for (const auto& m : layers_) {
    if (auto* r = m->as<ResBlockImpl>())
      x = r->forward(x, emb);
    else if (auto* a = m->as<AttentionBlockImpl>())
      x = a->forward(x);
    else if (auto* d = m->as<DownsampleImpl>())
      x = d->forward(x);
    else if (auto* u = m->as<UpsampleImpl>())
      x = u->forward(x);
    else if (auto* c = m->as<nn::Conv2dImpl>())
      x = c->forward(x);
    else
      throw Error("EmbedSequential: unsupported layer " + m->name());
  }
  return x;
}

UNetImpl::UNetImpl(const UNetConfig& config) : config_(config) {
  config_.validate();
  const auto& c = config_;
  const int64_t mc = c.model_channels, emb_dim = 4 * mc, groups = c.norm_groups;
  time_embed =
      register_module("time_embed", nn::Sequential(nn::Linear(mc, emb_dim), nn::SiLU(), nn::Linear(emb_dim, emb_dim)));
  auto res = [&](int64_t in, int64_t out) {
    return ResBlock(in, emb_dim, out, c.dropout, c.use_scale_shift_norm, groups).ptr();
  };
  auto attn = [&](int64_t ch) { return AttentionBlock(ch, c.num_heads, groups).ptr(); };

  input_blocks = nn::ModuleList();
  auto first = EmbedSequential();
  first->append(conv3x3(c.in_channels, mc).ptr());
  inputs_.push_back(first);
  std::vector<int64_t> skip_channels{mc};
  int64_t ch = mc;
  int ds = 1;
  for (int level = 0; level < c.levels(); ++level) {
    for (int i = 0; i < c.num_res_blocks; ++i) {
      auto block = EmbedSequential();
      block->append(res(ch, c.channel_mult[level] * mc));
      ch = c.channel_mult[level] * mc;
      if (has(c.attention_resolutions, ds)) block->append(attn(ch));
      inputs_.push_back(block);
      skip_channels.push_back(ch);
    }
    if (level != c.levels() - 1) {
      auto block = EmbedSequential();
      block->append(Downsample(ch).ptr());
      inputs_.push_back(block);
      skip_channels.push_back(ch);
      ds *= 2;
    }
  }
  for (auto& b : inputs_) input_blocks->push_back(b);
  register_module("input_blocks", input_blocks);

  middle_block = EmbedSequential();
  middle_block->append(res(ch, ch));
  middle_block->append(attn(ch));
  middle_block->append(res(ch, ch));
  register_module("middle_block", middle_block);

  output_blocks = nn::ModuleList();
  for (int level = c.levels() - 1; level >= 0; --level) {
    for (int i = 0; i <= c.num_res_blocks; ++i) {
      const int64_t skip = skip_channels.back();
      skip_channels.pop_back();
      auto block = EmbedSequential();
      block->append(res(ch + skip, c.channel_mult[level] * mc));
      ch = c.channel_mult[level] * mc;
      if (has(c.attention_resolutions, ds)) block->append(attn(ch));
      if (level > 0 && i == c.num_res_blocks) {
        block->append(Upsample(ch).ptr());
        ds /= 2;
      }
      outputs_.push_back(block);
    }
  }
  for (auto& b : outputs_) output_blocks->push_back(b);
  register_module("output_blocks", output_blocks);

  out = register_module("out", nn::Sequential(group_norm(groups, ch), nn::SiLU(), zeroed(conv3x3(ch, c.out_channels))));
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& t) {
  const int m = config_.size_multiple();
  if (x.dim() != 4 || x.size(1) != config_.in_channels || x.size(2) % m != 0 || x.size(3) % m != 0 || x.size(2) == 0 ||
      x.size(3) == 0) {
    std::ostringstream msg;
    msg << "UNet: input of shape " << x.sizes() << " does not fit: expected [B, " << config_.in_channels
        << ", H, W] with H and W positive multiples of " << m;
    throw Error(msg.str());
  }
  if (t.dim() != 1 || t.size(0) != x.size(0)) {
    std::ostringstream msg;
    msg << "UNet: timesteps of shape " << t.sizes() << " do not match a batch of " << x.size(0);
    throw Error(msg.str());
  }
  auto emb = time_embed->forward(timestep_embedding(t.to(x.device()), config_.model_channels));
  std::vector<torch::Tensor> hs;
  auto h = x;
  for (auto& b : inputs_) {
    h = b->forward(h, emb);
    hs.push_back(h);
  }
  h = middle_block->forward(h, emb);
  for (auto& b : outputs_) {
    h = b->forward(torch::cat({h, hs.back()}, 1), emb);
    hs.pop_back();
  }
  return out->forward(h);
}

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters(true)) n += p.numel();
  return n;
}

}  // namespace harmonize
