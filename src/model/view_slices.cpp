#include "model/view_slices.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace harmonize {

namespace {
void require_block(const torch::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 3) throw Error(std::string(what) + ": expected a 3D block");
}
}  // namespace

torch::Tensor view_slices(const torch::Tensor& block, View v) {
  require_block(block, "view_slices");
  switch (v) {
    case View::Sagittal:
      return block;
    case View::Coronal:
      return block.permute({2, 1, 0});  // [W, H, N]
    case View::Axial:
      return block.permute({1, 2, 0});  // [H, W, N]
  }
  return block;
}

torch::Tensor block_from_view(const torch::Tensor& slices, View v) {
  require_block(slices, "block_from_view");
  switch (v) {
    case View::Sagittal:
      return slices;
    case View::Coronal:
      return slices.permute({2, 1, 0});  // [W, H, N] -> [N, H, W]
    case View::Axial:
      return slices.permute({2, 0, 1});  // [H, W, N] -> [N, H, W]
  }
  return slices;
}

torch::Tensor slab(const torch::Tensor& slices, int64_t k, int64_t context) {
  require_block(slices, "slab");
  if (k < 0 || k >= slices.size(0) || context < 0) throw Error("slab: slice or context out of range");
  if (context == 0) return slices.narrow(0, k, 1);
  return lr_window(slices, k - context, 2 * context + 1);
}

std::vector<std::uint8_t> view_has_brain(const torch::Tensor& mask, View v) {
  const torch::Tensor any = (view_slices(mask, v) != 0).flatten(1).any(1).to(torch::kUInt8).contiguous();
  const auto* p = any.data_ptr<std::uint8_t>();
  return std::vector<std::uint8_t>(p, p + any.size(0));
}

torch::Tensor lr_window(const torch::Tensor& block, int64_t start, int64_t length) {
  require_block(block, "lr_window");
  if (length < 1) throw Error("lr_window: the window must hold at least one slice");
  torch::Tensor out = torch::zeros({length, block.size(1), block.size(2)}, block.options());
  const int64_t lo = std::max<int64_t>(start, 0), hi = std::min<int64_t>(start + length, block.size(0));
  if (hi > lo) out.narrow(0, lo - start, hi - lo).copy_(block.narrow(0, lo, hi - lo));
  return out;
}

torch::Tensor lr_unwindow(const torch::Tensor& window, int64_t start, int64_t n) {
  require_block(window, "lr_unwindow");
  torch::Tensor out = torch::zeros({n, window.size(1), window.size(2)}, window.options());
  const int64_t lo = std::max<int64_t>(start, 0), hi = std::min<int64_t>(start + window.size(0), n);
  if (hi > lo) out.narrow(0, lo, hi - lo).copy_(window.narrow(0, lo - start, hi - lo));
  return out;
}

int64_t centred_start(int64_t lo, int64_t hi, int64_t length) { return (lo + hi + 1) / 2 - length / 2; }

int64_t round_up(int64_t n, int64_t m) { return m <= 1 ? n : (n + m - 1) / m * m; }

torch::Tensor fuse_views(const std::vector<torch::Tensor>& blocks, Fusion fusion) {
  if (blocks.empty()) throw Error("fuse_views: no view to fuse");
  for (const auto& b : blocks)
    if (b.sizes() != blocks[0].sizes()) throw Error("fuse_views: the views' blocks differ in shape");
  if (blocks.size() == 1) return blocks[0].to(torch::kFloat32);
  const torch::Tensor all = torch::stack(blocks).to(torch::kFloat32);
  // The median of three is the middle value; of two (or an even count), the mean of the middle two.
  if (fusion == Fusion::Median && blocks.size() % 2 == 1) return std::get<0>(all.median(0));
  if (fusion == Fusion::Median) {
    const torch::Tensor sorted = std::get<0>(all.sort(0));
    const int64_t h = int64_t(blocks.size()) / 2;
    return (sorted[h - 1] + sorted[h]) / 2.0;
  }
  return all.mean(0);
}

namespace {
// The start of the left-right window of coronal and axial slices of a block of n slices.
int64_t view_window_start(int64_t n, int64_t multiple) { return centred_start(0, n - 1, round_up(n, multiple)); }
}  // namespace

std::vector<torch::Tensor> view_stacks(const std::vector<torch::Tensor>& blocks, const std::vector<View>& views,
                                       int64_t multiple) {
  std::vector<torch::Tensor> stacks;
  for (View v : views)
    for (const auto& block : blocks) {
      require_block(block, "view_stacks");
      const int64_t n = block.size(0);
      stacks.push_back(
          v == View::Sagittal
              ? block
              : view_slices(lr_window(block, view_window_start(n, multiple), round_up(n, multiple)), v).contiguous());
    }
  return stacks;
}

std::vector<torch::Tensor> map_views_and_fuse(const std::vector<torch::Tensor>& blocks,
                                              const std::vector<torch::Tensor>& brains, const std::vector<View>& views,
                                              int64_t multiple, Fusion fusion, const StackMapper& map) {
  if (blocks.size() != brains.size()) throw Error("map_views_and_fuse: one brain block per block");
  if (views.empty()) throw UsageError("no slice orientation to sample");
  struct Placed {
    View view;
    std::size_t block;
    int64_t start;  // of the left-right window (coronal and axial slices)
  };
  std::vector<Placed> placed;
  for (View v : views)
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      require_block(blocks[b], "map_views_and_fuse");
      if (brains[b].sizes() != blocks[b].sizes())
        throw Error("map_views_and_fuse: block " + std::to_string(b) + " and its brain differ in shape");
      placed.push_back({v, b, v == View::Sagittal ? 0 : view_window_start(blocks[b].size(0), multiple)});
    }
  const std::vector<torch::Tensor> stacks = view_stacks(blocks, views, multiple);
  // Which slices hold brain: the brains' stacks, cut alike (a stack's slices run along its first dimension).
  std::vector<std::vector<std::uint8_t>> flags;
  for (const auto& brain_stack : view_stacks(brains, views, multiple))
    flags.push_back(view_has_brain(brain_stack, View::Sagittal));
  const auto mapped = map(stacks, flags);
  if (mapped.size() != stacks.size()) throw Error("map_views_and_fuse: the mapper returned another number of stacks");
  const bool channels = !mapped.empty() && mapped[0].dim() == 4;
  std::vector<std::vector<torch::Tensor>> per_block(blocks.size());
  for (std::size_t i = 0; i < placed.size(); ++i) {
    const Placed& p = placed[i];
    const auto& s = stacks[i].sizes();
    const bool fits = channels ? mapped[i].dim() == 4 && mapped[i].size(0) == s[0] && mapped[i].size(2) == s[1] &&
                                     mapped[i].size(3) == s[2] && mapped[i].size(1) == mapped[0].size(1)
                               : mapped[i].sizes() == s;
    if (!fits) throw Error("map_views_and_fuse: the mapper changed a stack's shape");
    auto put_back = [&](const torch::Tensor& m) {
      return p.view == View::Sagittal
                 ? m
                 : lr_unwindow(block_from_view(m, p.view).contiguous(), p.start, blocks[p.block].size(0));
    };
    if (!channels) {
      per_block[p.block].push_back(put_back(mapped[i]));
      continue;
    }
    std::vector<torch::Tensor> each;
    for (int64_t c = 0; c < mapped[i].size(1); ++c) each.push_back(put_back(mapped[i].select(1, c)));
    per_block[p.block].push_back(torch::stack(each));  // [c, N, H, W]
  }
  std::vector<torch::Tensor> out;
  for (auto& v : per_block) out.push_back(fuse_views(v, fusion));
  return out;
}

}  // namespace harmonize
