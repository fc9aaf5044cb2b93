#include "model/tensor.hpp"

#include <cstring>
#include <string>

#include "core/error.hpp"

namespace harmonize {

torch::Tensor to_tensor(const Volume& v) {
  const auto& s = v.geom.size;
  auto t = torch::empty({static_cast<int64_t>(s[2]), static_cast<int64_t>(s[1]), static_cast<int64_t>(s[0])},
                        torch::kFloat32);
  std::memcpy(t.data_ptr<float>(), v.data.data(), v.data.size() * sizeof(float));
  return t;
}

Volume from_tensor(const torch::Tensor& t, const Geometry& g) {
  if (t.dim() != 3 || t.size(0) != static_cast<int64_t>(g.size[2]) || t.size(1) != static_cast<int64_t>(g.size[1]) ||
      t.size(2) != static_cast<int64_t>(g.size[0]))
    throw Error("from_tensor: tensor shape does not match geometry " + g.describe());
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  Volume v;
  v.geom = g;
  v.data.resize(g.voxels());
  std::memcpy(v.data.data(), c.data_ptr<float>(), v.data.size() * sizeof(float));
  return v;
}

void set_torch_threads(int n) { torch::set_num_threads(n); }
std::string torch_version() { return TORCH_VERSION; }
torch::Device device_from_name(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name != "cuda") throw UsageError("device must be cpu or cuda, not '" + name + "'");
  if (!torch::cuda::is_available())
    throw UsageError("device cuda: no CUDA device is available (LibTorch without CUDA, or no GPU visible)");
  return torch::kCUDA;
}

}  // namespace harmonize
