#include "preprocess/slicing.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace harmonize {
namespace {
// Calls fn(k, row, col, i, j) for every window pixel (row, col) of every slice
// k that lies inside the sagittal-layout grid of size n, (i, j) its voxel.
template <class F>
void for_each_window_voxel(const SliceLayout& l, const std::array<std::size_t, 3>& n, F&& fn) {
  for (std::size_t k = 0; k < n[2]; ++k)
    for (int r = 0; r < l.height; ++r) {
      const long j = l.row0 + r;
      if (j < 0 || j >= long(n[1])) continue;
      for (int c = 0; c < l.width; ++c) {
        const long i = l.col0 + c;
        if (i < 0 || i >= long(n[0])) continue;
        fn(k, std::size_t(r), std::size_t(c), std::size_t(i), std::size_t(j));
      }
    }
}
}  // namespace

Geometry SliceLayout::stack_geometry() const {
  const Geometry s = orientation.reoriented();
  Geometry g = s;
  g.size = {std::size_t(width), std::size_t(height), s.size[2]};
  g.origin = s.index_to_world({double(col0), double(row0), 0.0});
  return g;
}

nlohmann::json SliceLayout::to_json() const {
  return {{"perm", orientation.perm},
          {"flip", orientation.flip},
          {"original_geometry",
           {{"size", orientation.original.size},
            {"spacing", orientation.original.spacing},
            {"origin", orientation.original.origin},
            {"direction", orientation.original.direction}}},
          {"row0", row0},
          {"col0", col0},
          {"height", height},
          {"width", width},
          {"has_brain", has_brain},
          {"clipped", clipped}};
}

SliceLayout SliceLayout::from_json(const nlohmann::json& j) {
  SliceLayout l;
  l.orientation.perm = j.at("perm").get<std::array<int, 3>>();
  l.orientation.flip = j.at("flip").get<std::array<bool, 3>>();
  const auto& g = j.at("original_geometry");
  l.orientation.original.size = g.at("size").get<std::array<std::size_t, 3>>();
  l.orientation.original.spacing = g.at("spacing").get<Vec3>();
  l.orientation.original.origin = g.at("origin").get<Vec3>();
  l.orientation.original.direction = g.at("direction").get<Mat3>();
  l.row0 = j.at("row0");
  l.col0 = j.at("col0");
  l.height = j.at("height");
  l.width = j.at("width");
  l.has_brain = j.at("has_brain").get<std::vector<std::uint8_t>>();
  l.clipped = j.value("clipped", false);
  return l;
}

SliceLayout plan_slices(const Geometry& g, const Mask& brain, int height, int width) {
  require_same_grid(brain.geom, g, "plan_slices: the mask is not on the image's grid");
  if (height < 8 || width < 8) throw UsageError("slice size must be at least 8x8");
  SliceLayout l;
  l.orientation = sagittal_reorientation(g);
  l.height = height;
  l.width = width;
  const Mask s = reorient(brain, l.orientation);
  const auto& n = s.geom.size;
  long rmin = long(n[1]), rmax = -1, cmin = long(n[0]), cmax = -1;
  l.has_brain.assign(n[2], 0);
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i)
        if (s.at(i, j, k)) {
          l.has_brain[k] = 1;
          rmin = std::min(rmin, long(j)), rmax = std::max(rmax, long(j));
          cmin = std::min(cmin, long(i)), cmax = std::max(cmax, long(i));
        }
  if (rmax < 0) throw Error("plan_slices: the brain mask is empty");
  // Centre the window on the brain; if the brain is taller than the window,
  // keep its top (the cerebrum) and lose the lowest rows (brain stem).
  if (rmax - rmin + 1 > height) {
    l.clipped = true;
    l.row0 = rmin;
  } else {
    l.row0 = (rmin + rmax + 1) / 2 - height / 2;
  }
  if (cmax - cmin + 1 > width) l.clipped = true;
  l.col0 = (cmin + cmax + 1) / 2 - width / 2;
  return l;
}

Volume to_slices(const Volume& v, const SliceLayout& l) {
  require_same_grid(v.geom, l.orientation.original, "to_slices: the volume is not on the layout's grid");
  const Volume s = reorient(v, l.orientation);
  Volume stack(l.stack_geometry(), 0.0f);
  for_each_window_voxel(l, s.geom.size, [&](std::size_t k, std::size_t r, std::size_t c, std::size_t i, std::size_t j) {
    stack.at(c, r, k) = s.at(i, j, k);
  });
  return stack;
}

Volume from_slices(const Volume& stack, const SliceLayout& l) {
  const Geometry sg = l.orientation.reoriented();
  if (stack.geom.size != std::array<std::size_t, 3>{std::size_t(l.width), std::size_t(l.height), sg.size[2]})
    throw Error("from_slices: slice stack size differs from the layout's");
  Volume s(sg, 0.0f);
  for_each_window_voxel(l, sg.size, [&](std::size_t k, std::size_t r, std::size_t c, std::size_t i, std::size_t j) {
    s.at(i, j, k) = stack.at(c, r, k);
  });
  return restore_orientation(s, l.orientation);
}

Mask harmonized_slices(const Volume& produced, const Mask& brain) {
  require_same_grid(brain.geom, produced.geom, "harmonized_slices: the mask is not on the image's grid");
  const Geometry& g = produced.geom;
  const int lr = sagittal_reorientation(g).perm[2];  // the file axis along left-right
  std::vector<std::uint8_t> used(g.size[lr], 0);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const std::size_t n = produced.index(i, j, k), slice = lr == 0 ? i : lr == 1 ? j : k;
        if (brain.data[n] && produced.data[n] != 0.0f) used[slice] = 1;
      }
  Mask region(g, 0);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const std::size_t n = produced.index(i, j, k), slice = lr == 0 ? i : lr == 1 ? j : k;
        region.data[n] = brain.data[n] && used[slice];
      }
  return region;
}

}  // namespace harmonize
