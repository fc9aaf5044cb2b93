// Surface distances (Hausdorff, 95th percentile) with ITK's exact Euclidean
// distance transform. The definitions are in metrics.hpp and docs/METRICS.md.
#include <itkImage.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include <algorithm>
#include <array>
#include <limits>

#include "core/error.hpp"
#include "evaluate/metrics.hpp"

namespace harmonize {
namespace {

using BinaryImage = itk::Image<unsigned char, 3>;
using DistanceImage = itk::Image<float, 3>;

struct Box {
  std::array<std::size_t, 3> lo{}, size{};
  std::size_t voxels() const { return size[0] * size[1] * size[2]; }
  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const { return i + size[0] * (j + size[1] * k); }
};

// Surface voxels (see metrics.hpp) of `in` (a binary set on the box), as 0/1.
std::vector<unsigned char> surface_of(const std::vector<unsigned char>& in, const Box& b) {
  std::vector<unsigned char> s(in.size(), 0);
  const auto& n = b.size;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i) {
        const std::size_t p = b.index(i, j, k);
        if (!in[p]) continue;
        // Beyond the box nothing belongs to the set (the box bounds both sets).
        const bool edge = i == 0 || j == 0 || k == 0 || i + 1 == n[0] || j + 1 == n[1] || k + 1 == n[2];
        s[p] = edge || !in[p - 1] || !in[p + 1] || !in[p - n[0]] || !in[p + n[0]] || !in[p - n[0] * n[1]] ||
               !in[p + n[0] * n[1]];
      }
  return s;
}

// Distances (mm) from every surface voxel of `from` to the nearest surface voxel of `to`.
std::vector<double> directed(const std::vector<unsigned char>& from, const std::vector<unsigned char>& to, const Box& b,
                             const Vec3& spacing) {
  auto image = BinaryImage::New();
  BinaryImage::RegionType region;
  for (int a = 0; a < 3; ++a) region.SetSize(a, b.size[a]);
  image->SetRegions(region);
  const double sp[3] = {spacing[0], spacing[1], spacing[2]};
  image->SetSpacing(sp);
  image->Allocate();
  std::copy(to.begin(), to.end(), image->GetBufferPointer());

  using Filter = itk::SignedMaurerDistanceMapImageFilter<BinaryImage, DistanceImage>;
  auto edt = Filter::New();
  edt->SetInput(image);
  edt->SetBackgroundValue(0);
  edt->SetUseImageSpacing(true);
  edt->SetSquaredDistance(false);
  edt->SetInsideIsPositive(false);
  edt->Update();
  // Outside `to` the filter gives the distance to the nearest voxel of its
  // boundary, which is the nearest voxel of `to`; members of `to` are at 0.
  const float* d = edt->GetOutput()->GetBufferPointer();
  std::vector<double> out;
  for (std::size_t p = 0; p < from.size(); ++p)
    if (from[p]) out.push_back(to[p] ? 0.0 : std::max(0.0, double(d[p])));
  return out;
}

}  // namespace

SurfaceDistances surface_distances(const Mask& a, const Mask& b, std::uint8_t label) {
  require_same_grid(a.geom, b.geom, "surface distance: the label maps are not on one grid");
  const auto& n = a.geom.size;
  // Bounding box of both sets.
  std::array<std::size_t, 3> lo{n[0], n[1], n[2]}, hi{0, 0, 0};
  bool any_a = false, any_b = false;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i) {
        const std::size_t p = a.index(i, j, k);
        const bool x = a.data[p] == label, y = b.data[p] == label;
        if (!x && !y) continue;
        any_a |= x, any_b |= y;
        lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
        hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
      }
  SurfaceDistances r;
  if (!any_a && !any_b) return r;
  if (!any_a || !any_b) {
    r.hd = r.hd95 = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  Box box;
  box.lo = lo;
  for (int d = 0; d < 3; ++d) box.size[d] = hi[d] - lo[d] + 1;
  std::vector<unsigned char> in_a(box.voxels()), in_b(box.voxels());
  for (std::size_t k = 0; k < box.size[2]; ++k)
    for (std::size_t j = 0; j < box.size[1]; ++j)
      for (std::size_t i = 0; i < box.size[0]; ++i) {
        const std::size_t p = a.index(lo[0] + i, lo[1] + j, lo[2] + k), q = box.index(i, j, k);
        in_a[q] = a.data[p] == label;
        in_b[q] = b.data[p] == label;
      }
  // A set touching the grid's edge: its voxels there are surface voxels too,
  // which the box edge test above reproduces (the box never extends beyond the grid).
  const auto sa = surface_of(in_a, box), sb = surface_of(in_b, box);
  auto ab = directed(sa, sb, box, a.geom.spacing);
  auto ba = directed(sb, sa, box, a.geom.spacing);
  r.surface_a = ab.size();
  r.surface_b = ba.size();
  r.hd = std::max(*std::max_element(ab.begin(), ab.end()), *std::max_element(ba.begin(), ba.end()));
  r.hd95 = std::max(nearest_rank_percentile(ab, 95), nearest_rank_percentile(ba, 95));
  return r;
}

}  // namespace harmonize
