#include "core/morphology.hpp"

#include <algorithm>
#include <vector>

namespace harmonize {
namespace {

constexpr int kOffsets[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};

// Labels the 6-connected components of voxels where in(n) holds; returns the
// label image (0 = not in the set) and the size of each component (index = label - 1).
template <class Pred>
std::vector<std::uint32_t> components(const Geometry& g, Pred in, std::vector<std::size_t>& sizes) {
  std::vector<std::uint32_t> label(g.voxels(), 0);
  std::vector<std::size_t> stack;
  const long nx = long(g.size[0]), ny = long(g.size[1]), nz = long(g.size[2]);
  for (std::size_t seed = 0; seed < label.size(); ++seed) {
    if (label[seed] || !in(seed)) continue;
    const auto id = std::uint32_t(sizes.size() + 1);
    std::size_t count = 0;
    label[seed] = id;
    stack.push_back(seed);
    while (!stack.empty()) {
      const std::size_t n = stack.back();
      stack.pop_back();
      ++count;
      const long i = long(n % std::size_t(nx)), j = long((n / std::size_t(nx)) % std::size_t(ny)),
                 k = long(n / std::size_t(nx * ny));
      for (const auto& d : kOffsets) {
        const long a = i + d[0], b = j + d[1], c = k + d[2];
        if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
        const std::size_t q = std::size_t(a + nx * (b + ny * c));
        if (!label[q] && in(q)) label[q] = id, stack.push_back(q);
      }
    }
    sizes.push_back(count);
  }
  return label;
}

// Any voxel of the cross neighbourhood (radius r, 6-connected steps) satisfying `value`.
Mask morph(const Mask& m, int radius, bool dilation) {
  Mask cur = m;
  const long nx = long(m.geom.size[0]), ny = long(m.geom.size[1]), nz = long(m.geom.size[2]);
  for (int step = 0; step < radius; ++step) {
    Mask next = cur;
    for (long k = 0; k < nz; ++k)
      for (long j = 0; j < ny; ++j)
        for (long i = 0; i < nx; ++i) {
          const std::size_t n = std::size_t(i + nx * (j + ny * k));
          if (bool(cur.data[n]) == dilation) continue;
          for (const auto& d : kOffsets) {
            const long a = i + d[0], b = j + d[1], c = k + d[2];
            // Outside the grid counts as background.
            const bool v = (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz)
                               ? false
                               : bool(cur.data[std::size_t(a + nx * (b + ny * c))]);
            if (v == dilation) {
              next.data[n] = dilation ? 1 : 0;
              break;
            }
          }
        }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

Mask largest_component(const Mask& m) {
  std::vector<std::size_t> sizes;
  const auto label = components(
      m.geom, [&](std::size_t n) { return m.data[n] != 0; }, sizes);
  Mask out(m.geom, 0);
  if (sizes.empty()) return out;
  const auto best = std::uint32_t(std::max_element(sizes.begin(), sizes.end()) - sizes.begin() + 1);
  for (std::size_t n = 0; n < out.data.size(); ++n) out.data[n] = label[n] == best;
  return out;
}

Mask fill_holes(const Mask& m) {
  std::vector<std::size_t> sizes;
  const auto label = components(
      m.geom, [&](std::size_t n) { return m.data[n] == 0; }, sizes);
  // Background components that touch the border are outside; the rest are holes.
  std::vector<bool> outside(sizes.size() + 1, false);
  const auto& s = m.geom.size;
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i) {
        if (i != 0 && j != 0 && k != 0 && i != s[0] - 1 && j != s[1] - 1 && k != s[2] - 1) continue;
        outside[label[m.index(i, j, k)]] = true;
      }
  Mask out(m.geom, 0);
  for (std::size_t n = 0; n < out.data.size(); ++n) out.data[n] = m.data[n] != 0 || !outside[label[n]];
  return out;
}

Mask dilate(const Mask& m, int radius) { return morph(m, radius, true); }
Mask erode(const Mask& m, int radius) { return morph(m, radius, false); }

Mask refine_mask(const Mask& m, int radius) {
  Mask out = largest_component(m);
  if (radius > 0) {
    out = erode(dilate(out, radius), radius);  // closing: bridges small gaps
    out = dilate(erode(out, radius), radius);  // opening: removes thin spurs
    out = largest_component(out);
  }
  return fill_holes(out);
}

}  // namespace harmonize
