#include "core/reorient.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace harmonize {
namespace {
// Target world directions (LPS) of the sagittal layout's axes.
constexpr std::array<Vec3, 3> kTarget{{{0, -1, 0}, {0, 0, -1}, {1, 0, 0}}};

Vec3 column(const Mat3& m, int c) { return {m[c], m[3 + c], m[6 + c]}; }
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// Old index of the voxel at new index n.
inline std::array<std::size_t, 3> old_index(const Reorientation& r, const std::array<std::size_t, 3>& old_size,
                                            std::size_t n0, std::size_t n1, std::size_t n2) {
  const std::size_t n[3] = {n0, n1, n2};
  std::array<std::size_t, 3> o{};
  for (int a = 0; a < 3; ++a) {
    const int b = r.perm[a];
    o[b] = r.flip[a] ? old_size[b] - 1 - n[a] : n[a];
  }
  return o;
}
}  // namespace

bool Reorientation::is_identity() const {
  return perm == std::array<int, 3>{0, 1, 2} && flip == std::array<bool, 3>{false, false, false};
}

Geometry Reorientation::reoriented() const {
  Geometry g;
  Vec3 corner{};
  for (int a = 0; a < 3; ++a) {
    const int b = perm[a];
    g.size[a] = original.size[b];
    g.spacing[a] = original.spacing[b];
    const Vec3 d = column(original.direction, b);
    for (int row = 0; row < 3; ++row) g.direction[row * 3 + a] = flip[a] ? -d[row] : d[row];
    corner[b] = flip[a] ? double(original.size[b] - 1) : 0.0;
  }
  g.origin = original.index_to_world(corner);
  return g;
}

Reorientation sagittal_reorientation(const Geometry& g) {
  std::array<int, 3> perm{0, 1, 2};
  std::array<int, 3> best{0, 1, 2};
  double best_score = -1;
  do {
    double score = 0;
    for (int a = 0; a < 3; ++a) score += std::abs(dot(column(g.direction, perm[a]), kTarget[a]));
    if (score > best_score + 1e-12) {
      best_score = score;
      best = perm;
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  Reorientation r;
  r.perm = best;
  r.original = g;
  for (int a = 0; a < 3; ++a) r.flip[a] = dot(column(g.direction, best[a]), kTarget[a]) < 0;
  return r;
}

template <class T>
Image<T> reorient(const Image<T>& in, const Reorientation& r) {
  if (in.geom.size != r.original.size) throw Error("reorient: image size does not match the reorientation");
  Image<T> out;
  out.geom = r.reoriented();
  out.data.resize(in.data.size());
  const auto& os = in.geom.size;
  std::size_t idx = 0;
  for (std::size_t n2 = 0; n2 < out.geom.size[2]; ++n2)
    for (std::size_t n1 = 0; n1 < out.geom.size[1]; ++n1)
      for (std::size_t n0 = 0; n0 < out.geom.size[0]; ++n0, ++idx) {
        const auto o = old_index(r, os, n0, n1, n2);
        out.data[idx] = in.at(o[0], o[1], o[2]);
      }
  return out;
}

template <class T>
Image<T> restore_orientation(const Image<T>& in, const Reorientation& r) {
  const Geometry expected = r.reoriented();
  if (in.geom.size != expected.size) throw Error("restore_orientation: image size does not match the reorientation");
  Image<T> out;
  out.geom = r.original;
  out.data.resize(in.data.size());
  std::size_t idx = 0;
  for (std::size_t n2 = 0; n2 < in.geom.size[2]; ++n2)
    for (std::size_t n1 = 0; n1 < in.geom.size[1]; ++n1)
      for (std::size_t n0 = 0; n0 < in.geom.size[0]; ++n0, ++idx) {
        const auto o = old_index(r, r.original.size, n0, n1, n2);
        out.at(o[0], o[1], o[2]) = in.data[idx];
      }
  return out;
}

template Image<float> reorient(const Image<float>&, const Reorientation&);
template Image<std::uint8_t> reorient(const Image<std::uint8_t>&, const Reorientation&);
template Image<std::uint16_t> reorient(const Image<std::uint16_t>&, const Reorientation&);
template Image<float> restore_orientation(const Image<float>&, const Reorientation&);
template Image<std::uint8_t> restore_orientation(const Image<std::uint8_t>&, const Reorientation&);
template Image<std::uint16_t> restore_orientation(const Image<std::uint16_t>&, const Reorientation&);

}  // namespace harmonize
