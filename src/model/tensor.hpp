#pragma once
// The one place that converts a volume to a tensor and back. A tensor holds a
// volume as [nk][nj][ni] (C order, i fastest: the same memory layout as
// Image<T>), so conversion is a copy without axis shuffling; after
// reorient() to the sagittal layout, tensor[k] is sagittal slice k with
// rows running superior->inferior and columns posterior->anterior.
#include <torch/torch.h>

#include "core/volume.hpp"

namespace harmonize {

// float32 tensor of shape [nk, nj, ni] on the CPU (a copy of the voxels).
torch::Tensor to_tensor(const Volume& v);
// Inverse of to_tensor: the tensor (any device/dtype, shape [nk, nj, ni]) with
// the geometry `g` attached. Throws if the shape does not match g.
Volume from_tensor(const torch::Tensor& t, const Geometry& g);

// The device named "cpu" or "cuda"; throws UsageError for another name, or for
// cuda when LibTorch has none (a CPU-only build, or no GPU visible).
torch::Device device_from_name(const std::string& name);

// LibTorch's intra-op thread count (Debian's build starts with one).
void set_torch_threads(int n);
std::string torch_version();
}  // namespace harmonize
