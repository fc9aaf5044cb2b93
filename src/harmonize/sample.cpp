#include "harmonize/sample.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/conditional.hpp"
#include "model/diffusion.hpp"
#include "model/samplers.hpp"
#include "model/schedule.hpp"
#include "model/tensor.hpp"
#include "model/view_slices.hpp"

namespace harmonize {

std::vector<std::string> trained_orientations(const ModelHeader& header) {
  const auto it = header.training.find("orientations");
  if (it == header.training.end() || !it->is_array()) return {"sagittal"};
  return it->get<std::vector<std::string>>();
}

std::uint64_t spread_seed(std::uint64_t seed, std::size_t s) {
  return derive_seed(derive_seed(seed, 0x737072656164ULL), std::uint64_t(s));  // "spread"
}

namespace {

// x + sd z per stack, clamped to [0, 1]; z ~ N(0, 1) from spread_seed(seed, s).
std::vector<torch::Tensor> draw(std::vector<torch::Tensor> x, const std::vector<torch::Tensor>& sd,
                                std::uint64_t seed) {
  for (std::size_t s = 0; s < x.size(); ++s) {
    torch::Generator gen = at::detail::createCPUGenerator(spread_seed(seed, s));
    const auto z = torch::randn(x[s].sizes(), gen, torch::kFloat32);
    x[s] = (x[s] + sd[s].to(torch::kFloat32) * z).clamp(0.0, 1.0);
  }
  return x;
}

// harmonize_stacks without the draw: the x0 estimates and, for a model with a
// spread (when `sd` is given), the spread's sd per voxel on the [0, 1] scale.
// `start`: when given, each slice's chain starts from its slice of these
// stacks (x_T, the shapes of `stacks`) instead of noise drawn per slice.
std::vector<torch::Tensor> sample_stacks(const LoadedModel& m, const std::vector<torch::Tensor>& stacks,
                                         const std::vector<std::vector<std::uint8_t>>& has_brain,
                                         const HarmonizeOptions& o, std::vector<torch::Tensor>* sd,
                                         const std::vector<torch::Tensor>* start = nullptr) {
  if (stacks.size() != has_brain.size()) throw Error("harmonize_stacks: one has_brain list per stack");
  if (start && start->size() != stacks.size()) throw Error("harmonize_stacks: one start-noise stack per stack");
  const SamplingOptions& sampling = o.sampling;
  sampling.validate(m.header.diffusion.steps);
  if (o.slice_stride < 1) throw UsageError("the slice stride must be positive");
  // The process the sampler runs: the model's own chain, or the kept timesteps.
  const GaussianDiffusion base(m.header.diffusion);
  const int T = m.header.diffusion.steps;
  const GaussianDiffusion d =
      !sampling.timesteps.empty()                                ? base.respaced(sampling.timesteps)
      : sampling.steps == T && sampling.sampler == Sampler::Ddpm ? base
      : sampling.spacing == StepSpacing::Quadratic               ? base.respaced(quadratic_timesteps(T, sampling.steps))
      : sampling.spacing == StepSpacing::Trailing                ? base.respaced(trailing_timesteps(T, sampling.steps))
      : sampling.sampler == Sampler::Ddim                        ? base.respaced(ddim_timesteps(T, sampling.steps))
                                                                 : base.respaced(even_timesteps(T, sampling.steps));
  const int multiple = m.header.unet.size_multiple();
  // 2.5D models see each slice with its neighbours in the stack.
  const int context = context_slices(m.header.unet);
  // A baseline (regression or GAN) maps each slice in one pass: no sampler,
  // no generator; the sampling options do not apply.
  const bool one_pass = one_pass_objective(m.header.objective);

  // Every (stack, slice) to harmonize, in order.
  std::vector<std::pair<std::size_t, int64_t>> work;
  std::vector<torch::Tensor> out;
  for (std::size_t s = 0; s < stacks.size(); ++s) {
    const auto& st = stacks[s];
    if (st.dim() != 3 || std::size_t(st.size(0)) != has_brain[s].size())
      throw Error("harmonize_stacks: stack " + std::to_string(s) + " does not match its slice list");
    if (st.size(1) % multiple || st.size(2) % multiple)
      throw UsageError("slices of " + std::to_string(st.size(1)) + "x" + std::to_string(st.size(2)) +
                       " are not a multiple of " + std::to_string(multiple) + " (the model's levels)");
    out.push_back(torch::zeros_like(st, torch::kFloat32));
    if (sd) sd->push_back(torch::zeros_like(st, torch::kFloat32));
    int64_t brain_slices = 0;
    for (int64_t k = 0; k < st.size(0); ++k)
      if (has_brain[s][std::size_t(k)] && brain_slices++ % o.slice_stride == 0) work.emplace_back(s, k);
  }
  torch::NoGradGuard no_grad;
  torch::Generator gen = at::detail::createCPUGenerator(o.seed);
  std::size_t done = 0;
  std::size_t b = 0;
  while (b < work.size()) {
    const std::size_t e = std::min(work.size(), b + std::size_t(sampling.batch));
    // A batch holds one slice size; it ends where the size changes.
    std::size_t end = b + 1;
    while (end < e && stacks[work[end].first].sizes() == stacks[work[b].first].sizes()) ++end;
    std::vector<torch::Tensor> src;
    for (std::size_t w = b; w < end; ++w) src.push_back(slab(stacks[work[w].first], work[w].second, context));
    const torch::Tensor source = torch::stack(src).to(torch::kFloat32);  // [B, 2 context + 1, H, W]
    torch::Tensor x, spread;
    if (one_pass) {
      UNet net = m.model;
      x = regression_output(net, source.to(o.device));
    } else {
      SamplerOptions so;
      so.generator = gen;
      so.device = o.device;
      if (start) {
        std::vector<torch::Tensor> x_T;
        for (std::size_t w = b; w < end; ++w) x_T.push_back((*start)[work[w].first][work[w].second].unsqueeze(0));
        so.x_T = torch::stack(x_T);  // [B, 1, H, W] float32; the sampler moves it to the device
      }
      const auto net = conditional_denoiser(m.model, source);
      // The spread of the chain's last network pass (the one that gives x0).
      torch::Tensor last;
      const Denoiser denoiser = [&](const torch::Tensor& x_t, const torch::Tensor& t) {
        auto output = net(x_t, t);
        if (sd) last = output;
        return output;
      };
      const std::vector<int64_t> shape{source.size(0), 1, source.size(2), source.size(3)};
      x = sampling.sampler == Sampler::Ddim ? sample_ddim(d, denoiser, shape, sampling.eta, so)
                                            : sample_ddpm(d, denoiser, shape, so);
      if (sd) spread = (0.5 * d.spread_sd(last, 1)).to(torch::kCPU);  // model range -> [0, 1]
    }
    x = from_model_range(x).clamp(0.0, 1.0).to(torch::kCPU);
    for (std::size_t w = b; w < end; ++w) {
      out[work[w].first][work[w].second].copy_(x[int64_t(w - b)][0]);
      if (spread.defined()) (*sd)[work[w].first][work[w].second].copy_(spread[int64_t(w - b)][0]);
    }
    done += end - b;
    if (o.progress) o.progress(done, work.size());
    b = end;
  }
  return out;
}

bool drawing(const LoadedModel& m, const HarmonizeOptions& o) {
  return o.draw_spread && m.header.diffusion.spread != "none" && !one_pass_objective(m.header.objective);
}

}  // namespace

std::vector<torch::Tensor> harmonize_stacks(const LoadedModel& m, const std::vector<torch::Tensor>& stacks,
                                            const std::vector<std::vector<std::uint8_t>>& has_brain,
                                            const HarmonizeOptions& o) {
  if (!drawing(m, o)) return sample_stacks(m, stacks, has_brain, o, nullptr);
  std::vector<torch::Tensor> sd;
  auto x = sample_stacks(m, stacks, has_brain, o, &sd);
  return draw(std::move(x), sd, o.seed);
}

std::vector<torch::Tensor> volume_start_noise(const std::vector<torch::Tensor>& blocks, const std::vector<View>& views,
                                              int64_t multiple, std::uint64_t seed) {
  std::vector<torch::Tensor> noise;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    torch::Generator gen =
        at::detail::createCPUGenerator(derive_seed(derive_seed(seed, 0x7374617274ULL), std::uint64_t(b)));  // "start"
    noise.push_back(torch::randn(blocks[b].sizes(), gen, torch::kFloat32));
  }
  return view_stacks(noise, views, multiple);
}

std::vector<torch::Tensor> harmonize_blocks(const LoadedModel& m, const std::vector<torch::Tensor>& blocks,
                                            const std::vector<torch::Tensor>& brains, const HarmonizeOptions& o) {
  const int64_t multiple = m.header.unet.size_multiple();
  // One noise volume per block, sliced as the blocks are (same order as the mapper's stacks).
  std::vector<torch::Tensor> start;
  if (o.sampling.start_noise == StartNoise::Volume && !one_pass_objective(m.header.objective))
    start = volume_start_noise(blocks, o.views, multiple, o.seed);
  const std::vector<torch::Tensor>* start_ptr = start.empty() ? nullptr : &start;
  if (!drawing(m, o))
    return map_views_and_fuse(
        blocks, brains, o.views, multiple, o.fusion,
        [&](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>& has_brain) {
          return sample_stacks(m, stacks, has_brain, o, nullptr, start_ptr);
        });
  // The estimate and the sd as two channels of each slice, each fused on its own.
  const auto fused = map_views_and_fuse(
      blocks, brains, o.views, multiple, o.fusion,
      [&](const std::vector<torch::Tensor>& stacks, const std::vector<std::vector<std::uint8_t>>& has_brain) {
        std::vector<torch::Tensor> sd;
        auto x = sample_stacks(m, stacks, has_brain, o, &sd, start_ptr);
        for (std::size_t s = 0; s < x.size(); ++s) x[s] = torch::stack({x[s], sd[s]}, 1);
        return x;
      });
  std::vector<torch::Tensor> x, sd;
  for (const auto& f : fused) x.push_back(f[0]), sd.push_back(f[1]);
  return draw(std::move(x), sd, o.seed);
}

}  // namespace harmonize
