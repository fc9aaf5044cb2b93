#include "preprocess/crop.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"

namespace harmonize {

std::string Box::describe() const {
  return "[" + std::to_string(lo[0]) + ":" + std::to_string(hi[0]) + ", " + std::to_string(lo[1]) + ":" +
         std::to_string(hi[1]) + ", " + std::to_string(lo[2]) + ":" + std::to_string(hi[2]) + ")";
}

namespace {
// The box of the planes that hold at least min_voxels of `inside`.
template <class F>
Box planes_box(const std::array<std::size_t, 3>& size, F inside, std::size_t min_voxels) {
  std::array<std::vector<std::size_t>, 3> count;
  for (int a = 0; a < 3; ++a) count[a].assign(size[a], 0);
  std::size_t n = 0;
  for (std::size_t k = 0; k < size[2]; ++k)
    for (std::size_t j = 0; j < size[1]; ++j)
      for (std::size_t i = 0; i < size[0]; ++i, ++n)
        if (inside(n)) ++count[0][i], ++count[1][j], ++count[2][k];
  Box b;
  for (int a = 0; a < 3; ++a) {
    const auto& c = count[a];
    std::size_t first = c.size(), last = 0;
    for (std::size_t x = 0; x < c.size(); ++x)
      if (c[x] >= min_voxels) first = std::min(first, x), last = x;
    if (first == c.size()) return Box{};
    b.lo[a] = first;
    b.hi[a] = last + 1;
  }
  return b;
}
}  // namespace

Box bounding_box(const Mask& m) {
  return planes_box(
      m.geom.size, [&](std::size_t n) { return m.data[n] != 0; }, 1);
}

Box head_box(const Volume& v, std::size_t min_voxels) {
  if (v.data.empty()) return Box{};
  // The 99.9th percentile from every 7th voxel (plenty for a threshold).
  std::vector<float> sample;
  sample.reserve(v.data.size() / 7 + 1);
  for (std::size_t n = 0; n < v.data.size(); n += 7) sample.push_back(v.data[n]);
  const std::size_t at = std::min(sample.size() - 1, std::size_t(0.999 * double(sample.size())));
  std::nth_element(sample.begin(), sample.begin() + std::ptrdiff_t(at), sample.end());
  const float low = *std::min_element(v.data.begin(), v.data.end());
  const float threshold = low + 0.1f * (sample[at] - low);
  if (!(sample[at] > low)) return Box{};
  return planes_box(
      v.geom.size, [&](std::size_t n) { return v.data[n] > threshold; }, min_voxels);
}

Box grow(const Box& b, const Geometry& g, double margin_mm) {
  Box out = b;
  for (int a = 0; a < 3; ++a) {
    const auto m = std::size_t(std::ceil(margin_mm / g.spacing[a]));
    out.lo[a] = b.lo[a] > m ? b.lo[a] - m : 0;
    out.hi[a] = std::min(g.size[a], b.hi[a] + m);
  }
  return out;
}

Geometry sub_grid(const Geometry& g, const Box& b) {
  Geometry s;
  s.spacing = g.spacing;
  s.direction = g.direction;
  s.origin = g.index_to_world({double(b.lo[0]), double(b.lo[1]), double(b.lo[2])});
  for (int a = 0; a < 3; ++a) s.size[a] = b.hi[a] - b.lo[a];
  return s;
}

template <class T>
Image<T> crop(const Image<T>& v, const Box& b) {
  if (b.empty() || b.hi[0] > v.geom.size[0] || b.hi[1] > v.geom.size[1] || b.hi[2] > v.geom.size[2])
    throw Error("crop: box " + b.describe() + " is not inside " + v.geom.describe());
  Image<T> out(sub_grid(v.geom, b));
  std::size_t n = 0;
  for (std::size_t k = b.lo[2]; k < b.hi[2]; ++k)
    for (std::size_t j = b.lo[1]; j < b.hi[1]; ++j) {
      const std::size_t row = v.index(b.lo[0], j, k);
      std::copy(v.data.begin() + std::ptrdiff_t(row), v.data.begin() + std::ptrdiff_t(row + (b.hi[0] - b.lo[0])),
                out.data.begin() + std::ptrdiff_t(n));
      n += b.hi[0] - b.lo[0];
    }
  return out;
}

template <class T>
Image<T> paste(const Image<T>& part, const Geometry& g, const Box& b, T fill) {
  for (int a = 0; a < 3; ++a)
    if (part.geom.size[a] != b.hi[a] - b.lo[a] || b.hi[a] > g.size[a])
      throw Error("paste: an image of " + part.geom.describe() + " does not fill box " + b.describe());
  Image<T> out(g, fill);
  std::size_t n = 0;
  for (std::size_t k = b.lo[2]; k < b.hi[2]; ++k)
    for (std::size_t j = b.lo[1]; j < b.hi[1]; ++j) {
      std::copy(part.data.begin() + std::ptrdiff_t(n), part.data.begin() + std::ptrdiff_t(n + (b.hi[0] - b.lo[0])),
                out.data.begin() + std::ptrdiff_t(out.index(b.lo[0], j, k)));
      n += b.hi[0] - b.lo[0];
    }
  return out;
}

template Volume crop(const Volume&, const Box&);
template Mask crop(const Mask&, const Box&);
template Volume paste(const Volume&, const Geometry&, const Box&, float);
template Mask paste(const Mask&, const Geometry&, const Box&, std::uint8_t);

}  // namespace harmonize
