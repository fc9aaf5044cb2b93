#include "preprocess/resample.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace harmonize {

Geometry isotropic_grid(const Geometry& g, double spacing_mm) {
  if (!(spacing_mm > 0)) throw Error("resample: spacing must be positive, got " + std::to_string(spacing_mm));
  Geometry out = g;
  // Corner of the box (outer edge of voxel 0) stays where it is.
  Vec3 half_old{}, half_new{};
  for (int a = 0; a < 3; ++a) {
    const double extent = double(g.size[a]) * g.spacing[a];
    out.size[a] = std::size_t(std::max<long>(1, std::lround(extent / spacing_mm)));
    out.spacing[a] = spacing_mm;
    half_old[a] = -0.5 * g.spacing[a];
    half_new[a] = 0.5 * spacing_mm;
  }
  const Vec3 a = mat_vec(g.direction, half_old);
  const Vec3 b = mat_vec(g.direction, half_new);
  for (int k = 0; k < 3; ++k) out.origin[k] = g.origin[k] + a[k] + b[k];
  return out;
}

namespace {
template <class T, class Sample>
Image<T> resample_with(const Geometry& grid, const PointMap& map, Sample sample) {
  Image<T> out(grid);
  const std::size_t nx = grid.size[0], ny = grid.size[1];
  parallel_for(0, grid.size[2], [&](std::size_t k) {
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        Vec3 w = grid.index_to_world({double(i), double(j), double(k)});
        if (map) w = map(w);
        out.at(i, j, k) = sample(w);
      }
  });
  return out;
}

// Nearest voxel of `g` to world point w, or false when outside the grid.
bool nearest_index(const Geometry& g, const Vec3& w, std::size_t& n) {
  const Vec3 c = g.world_to_index(w);
  long idx[3];
  for (int a = 0; a < 3; ++a) {
    idx[a] = std::lround(c[a]);
    if (idx[a] < 0 || idx[a] >= long(g.size[a])) return false;
  }
  n = std::size_t(idx[0]) + g.size[0] * (std::size_t(idx[1]) + g.size[1] * std::size_t(idx[2]));
  return true;
}

template <class T>
void check(const Image<T>& v, const Geometry& grid) {
  if (v.data.size() != v.geom.voxels() || v.data.empty()) throw Error("resample: empty or inconsistent image");
  if (grid.voxels() == 0) throw Error("resample: empty target grid");
}
}  // namespace

Volume resample(const Volume& v, const Geometry& grid, const PointMap& map, Interp interp, float outside) {
  check(v, grid);
  if (interp == Interp::Linear)
    return resample_with<float>(grid, map,
                                [&](const Vec3& w) { return sample_linear(v, v.geom.world_to_index(w), outside); });
  return resample_with<float>(grid, map, [&](const Vec3& w) {
    std::size_t n;
    return nearest_index(v.geom, w, n) ? v.data[n] : outside;
  });
}

Mask resample(const Mask& m, const Geometry& grid, const PointMap& map) {
  check(m, grid);
  return resample_with<std::uint8_t>(grid, map, [&](const Vec3& w) -> std::uint8_t {
    std::size_t n;
    return nearest_index(m.geom, w, n) ? m.data[n] : 0;
  });
}

Volume resample_isotropic(const Volume& v, double spacing_mm) {
  const Geometry grid = isotropic_grid(v.geom, spacing_mm);
  check(v, grid);
  // The new box has the same outer edges, so its outermost voxel centres may
  // lie up to half an old voxel beyond the old ones: extend the edge voxels
  // there instead of fading into the background.
  return resample_with<float>(grid, {}, [&](const Vec3& w) {
    Vec3 c = v.geom.world_to_index(w);
    for (int a = 0; a < 3; ++a) c[a] = std::clamp(c[a], 0.0, double(v.geom.size[a] - 1));
    return sample_linear(v, c, 0.0f);
  });
}
Mask resample_isotropic(const Mask& m, double spacing_mm) { return resample(m, isotropic_grid(m.geom, spacing_mm)); }

}  // namespace harmonize
