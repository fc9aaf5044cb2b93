#include "simulate/scanner_form.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/reorient.hpp"

namespace harmonize {

ScannerFormScan scanner_form(const Volume& scan, const Mask& brain, const ScannerForm& f) {
  if (brain.geom.size != scan.geom.size) throw Error("scanner_form: the brain mask is not on the scan's grid");
  Reorientation storage;
  storage.perm = f.perm;
  storage.flip = f.flip;
  storage.original = scan.geom;
  const Volume stored = reorient(scan, storage);
  const Mask stored_brain = reorient(brain, storage);

  Geometry g = stored.geom;
  g.nifti = nullptr;
  const auto n = g.size;
  const Vec3 c = g.index_to_world({0.5 * double(n[0] - 1), 0.5 * double(n[1] - 1), 0.5 * double(n[2] - 1)});
  const Mat3 rot = rotation_xyz(f.tilt_x_deg * M_PI / 180, 0.0, f.tilt_z_deg * M_PI / 180);
  g.direction = mat_mul(rot, g.direction);
  const Vec3 off = mat_vec(rot, {g.origin[0] - c[0], g.origin[1] - c[1], g.origin[2] - c[2]});
  g.origin = {c[0] + off[0], c[1] + off[1], c[2] + off[2]};

  // The neck: along the voxel axis nearest the world's z (LPS: +z superior).
  int ax = 0;
  for (int a = 1; a < 3; ++a)
    if (std::abs(g.direction[6 + a]) > std::abs(g.direction[6 + ax])) ax = a;
  const bool inferior_first = g.direction[6 + ax] > 0;
  Geometry big = g;
  big.size[ax] += f.neck_slices;
  if (inferior_first) {
    Vec3 shift{0, 0, 0};
    shift[ax] = -double(f.neck_slices);
    big.origin = g.index_to_world(shift);
  }
  float hi = 0;
  for (float v : stored.data) hi = std::max(hi, v);
  if (!(hi > 0)) throw Error("scanner_form: the scan has no positive voxel");
  ScannerFormScan out{Volume(big, 0.0f), Mask(big, 0), Mask(big, 0)};
  const long shift = inferior_first ? long(f.neck_slices) : 0;
  for (std::size_t k = 0; k < big.size[2]; ++k)
    for (std::size_t j = 0; j < big.size[1]; ++j)
      for (std::size_t i = 0; i < big.size[0]; ++i) {
        std::array<std::size_t, 3> at{i, j, k};
        const long src = long(at[ax]) - shift;
        const bool neck = src < 0 || src >= long(n[ax]);
        at[ax] = std::size_t(std::clamp(src, 0L, long(n[ax]) - 1));
        const float v = stored.at(at[0], at[1], at[2]) * (neck ? f.neck_scale : 1.0f);
        out.image.at(i, j, k) = std::round(v / hi * f.full_scale);
        out.brain.at(i, j, k) = neck ? 0 : stored_brain.at(at[0], at[1], at[2]);
        out.neck.at(i, j, k) = neck;
      }
  return out;
}

}  // namespace harmonize
