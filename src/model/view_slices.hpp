#pragma once
// The three slice orientations of a block of voxels in the sagittal layout
// (core/reorient.hpp; the slice stacks of `harmonize preprocess`): a block is
// [N, H, W] = [left-right, top-down, front-back]. A 2D model can be trained
// on and applied to slices of any of the three, and its outputs fused back
// into one volume, so that no axis is left to independent per-slice errors.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/views.hpp"

namespace harmonize {

// The slices of a block in one orientation, [n, h, w]:
//   sagittal [N, H, W] (the block itself),
//   coronal  [W, H, N] (rows top-down, columns left-right),
//   axial    [H, W, N] (rows front-back, columns left-right).
// A permutation of the block's dimensions (shares its memory).
torch::Tensor view_slices(const torch::Tensor& block, View v);
// The inverse: the block [N, H, W] of slices [n, h, w] of view v.
torch::Tensor block_from_view(const torch::Tensor& slices, View v);
// Slice k of a stack [n, h, w] with `context` neighbours on each side, in
// order: [2 context + 1, h, w], 0 for neighbours beyond the stack's ends (the
// 2.5D input of a conditional model, model/config.hpp context_slices).
torch::Tensor slab(const torch::Tensor& slices, int64_t k, int64_t context);
// Per slice of view v: 1 where any voxel of `mask` (a block) is nonzero.
std::vector<std::uint8_t> view_has_brain(const torch::Tensor& mask, View v);

// The block's voxels [start, start + length) along its first (left-right)
// dimension, 0 where that runs outside [0, N): a window that may crop or pad.
torch::Tensor lr_window(const torch::Tensor& block, int64_t start, int64_t length);
// The inverse for the voxels inside: a block of n slices, 0 outside the window.
torch::Tensor lr_unwindow(const torch::Tensor& window, int64_t start, int64_t n);
// The start of a window of `length` centred on the slices [lo, hi].
int64_t centred_start(int64_t lo, int64_t hi, int64_t length);
// The smallest multiple of m at least n.
int64_t round_up(int64_t n, int64_t m);

// The slice stacks of blocks [N, H, W] in every orientation of `views`, ordered
// by view, then by block: the stacks map_views_and_fuse gives its mapper
// (coronal and axial with left-right padded, centred, to a multiple of
// `multiple`). Voxel (i, j, k) of a block is the same value in each of them.
std::vector<torch::Tensor> view_stacks(const std::vector<torch::Tensor>& blocks, const std::vector<View>& views,
                                       int64_t multiple);

// The fused volume of one block harmonized in several orientations (each
// already put back as a block [N, H, W]): their voxel-wise median or mean
// (core/views.hpp). Throws Error when the list is empty or the shapes differ.
torch::Tensor fuse_views(const std::vector<torch::Tensor>& blocks, Fusion fusion);

// Maps slice stacks [n, h, w] (with, per stack, which slices hold brain) to
// stacks of the same shapes, or to stacks of c channels per slice [n, c, h,
// w] (the same c for all): the model's sampler, or a stand-in in tests.
using StackMapper = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>& stacks,
                                                             const std::vector<std::vector<std::uint8_t>>& has_brain)>;

// Blocks [N, H, W] (sagittal layout) mapped in every orientation of `views`
// and fused: the slices of each view of each block (a slice holds brain where
// any voxel of the matching `brains` block is nonzero) go to `map` in one call,
// ordered by view, then by block; coronal and axial slices run along
// left-right, which is padded (centred) to a multiple of `multiple` and
// cropped back after. One fused block per input ([c, N, H, W] when the
// mapper gives channels, each fused on its own); with a single view, that
// view's output.
std::vector<torch::Tensor> map_views_and_fuse(const std::vector<torch::Tensor>& blocks,
                                              const std::vector<torch::Tensor>& brains, const std::vector<View>& views,
                                              int64_t multiple, Fusion fusion, const StackMapper& map);

}  // namespace harmonize
