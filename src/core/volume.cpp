#include "core/volume.hpp"

#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "core/error.hpp"

namespace harmonize {

Mat3 mat_identity() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

Mat3 mat_mul(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int r = 0; r < 3; ++r)
    for (int col = 0; col < 3; ++col) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += a[r * 3 + k] * b[k * 3 + col];
      c[r * 3 + col] = s;
    }
  return c;
}

Vec3 mat_vec(const Mat3& a, const Vec3& v) {
  return {a[0] * v[0] + a[1] * v[1] + a[2] * v[2], a[3] * v[0] + a[4] * v[1] + a[5] * v[2],
          a[6] * v[0] + a[7] * v[1] + a[8] * v[2]};
}

Mat3 mat_transpose(const Mat3& a) { return {a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]}; }

double mat_det(const Mat3& a) {
  return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
}

Mat3 mat_inverse(const Mat3& a) {
  const double d = mat_det(a);
  if (std::abs(d) < 1e-12) throw Error("singular 3x3 matrix");
  Mat3 inv{(a[4] * a[8] - a[5] * a[7]) / d, (a[2] * a[7] - a[1] * a[8]) / d, (a[1] * a[5] - a[2] * a[4]) / d,
           (a[5] * a[6] - a[3] * a[8]) / d, (a[0] * a[8] - a[2] * a[6]) / d, (a[2] * a[3] - a[0] * a[5]) / d,
           (a[3] * a[7] - a[4] * a[6]) / d, (a[1] * a[6] - a[0] * a[7]) / d, (a[0] * a[4] - a[1] * a[3]) / d};
  return inv;
}

Mat3 rotation_xyz(double rx, double ry, double rz) {
  const double cx = std::cos(rx), sx = std::sin(rx), cy = std::cos(ry), sy = std::sin(ry), cz = std::cos(rz),
               sz = std::sin(rz);
  const Mat3 X{1, 0, 0, 0, cx, -sx, 0, sx, cx};
  const Mat3 Y{cy, 0, sy, 0, 1, 0, -sy, 0, cy};
  const Mat3 Z{cz, -sz, 0, sz, cz, 0, 0, 0, 1};
  return mat_mul(Z, mat_mul(Y, X));
}

Vec3 Geometry::index_to_world(const Vec3& ijk) const {
  const Vec3 scaled{ijk[0] * spacing[0], ijk[1] * spacing[1], ijk[2] * spacing[2]};
  const Vec3 r = mat_vec(direction, scaled);
  return {origin[0] + r[0], origin[1] + r[1], origin[2] + r[2]};
}

Vec3 Geometry::world_to_index(const Vec3& xyz) const {
  const Vec3 d{xyz[0] - origin[0], xyz[1] - origin[1], xyz[2] - origin[2]};
  const Vec3 r = mat_vec(mat_inverse(direction), d);
  return {r[0] / spacing[0], r[1] / spacing[1], r[2] / spacing[2]};
}

std::array<double, 12> Geometry::affine() const {
  std::array<double, 12> a{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) a[r * 4 + c] = direction[r * 3 + c] * spacing[c];
    a[r * 4 + 3] = origin[r];
  }
  return a;
}

double Geometry::max_corner_distance(const Geometry& o) const {
  if (size != o.size) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (int c = 0; c < 8; ++c) {
    const Vec3 ijk{(c & 1) ? double(size[0] - 1) : 0.0, (c & 2) ? double(size[1] - 1) : 0.0,
                   (c & 4) ? double(size[2] - 1) : 0.0};
    const Vec3 a = index_to_world(ijk), b = o.index_to_world(ijk);
    worst = std::max(worst, std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                                      (a[2] - b[2]) * (a[2] - b[2])));
  }
  return worst;
}

std::string Geometry::describe() const {
  std::ostringstream s;
  s << size[0] << "x" << size[1] << "x" << size[2] << " voxels of " << spacing[0] << "x" << spacing[1] << "x"
    << spacing[2] << " mm";
  return s.str();
}

bool same_grid(const Geometry& a, const Geometry& b) {
  return a.size == b.size && a.max_corner_distance(b) <= kGridToleranceMm;
}

std::string grid_mismatch(const Geometry& a, const Geometry& b) {
  if (same_grid(a, b)) return "";
  auto size = [](const Geometry& g) {
    return std::to_string(g.size[0]) + "x" + std::to_string(g.size[1]) + "x" + std::to_string(g.size[2]);
  };
  auto spacing = [](const Geometry& g) {
    std::ostringstream s;
    s << g.spacing[0] << "x" << g.spacing[1] << "x" << g.spacing[2] << " mm";
    return s.str();
  };
  const bool same_spacing = a.spacing == b.spacing;
  if (a.size != b.size) return same_spacing ? size(a) + " voxels vs " + size(b) : a.describe() + " vs " + b.describe();
  std::ostringstream s;
  s << "same size, but voxel corners up to " << std::setprecision(3) << a.max_corner_distance(b) << " mm apart";
  if (!same_spacing) s << " (voxels of " << spacing(a) << " vs " << spacing(b) << ")";
  return s.str();
}

void require_same_grid(const Geometry& a, const Geometry& b, const std::string& what) {
  const std::string why = grid_mismatch(a, b);
  if (!why.empty()) throw Error(what + ": " + why);
}

float sample_linear(const Volume& v, const Vec3& p, float outside) {
  const auto& n = v.geom.size;
  const double fx = std::floor(p[0]), fy = std::floor(p[1]), fz = std::floor(p[2]);
  const long x0 = long(fx), y0 = long(fy), z0 = long(fz);
  if (x0 < -1 || y0 < -1 || z0 < -1 || x0 >= long(n[0]) || y0 >= long(n[1]) || z0 >= long(n[2])) return outside;
  const double tx = p[0] - fx, ty = p[1] - fy, tz = p[2] - fz;
  double acc = 0;
  for (int c = 0; c < 8; ++c) {
    const long x = x0 + (c & 1), y = y0 + ((c >> 1) & 1), z = z0 + ((c >> 2) & 1);
    const double w = ((c & 1) ? tx : 1 - tx) * (((c >> 1) & 1) ? ty : 1 - ty) * (((c >> 2) & 1) ? tz : 1 - tz);
    if (w == 0) continue;
    const float val = (x < 0 || y < 0 || z < 0 || x >= long(n[0]) || y >= long(n[1]) || z >= long(n[2]))
                          ? outside
                          : v.at(std::size_t(x), std::size_t(y), std::size_t(z));
    acc += w * val;
  }
  return static_cast<float>(acc);
}

}  // namespace harmonize
