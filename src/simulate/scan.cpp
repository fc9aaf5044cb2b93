#include "simulate/scan.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace harmonize {
namespace {

// Signal of tissue t at protocol p as a function of log(T1): a lookup table, so
// that the per-voxel T1 modulation costs an interpolation, not an exp/pow.
class SignalTable {
 public:
  SignalTable(const MprageProtocol& p, const TissueTable& tissues) {
    for (int t = 0; t < kTissueCount; ++t) {
      const auto& tp = tissues[t];
      const double t1 = tp.t1(p.field_tesla), t2s = tp.t2s(p.field_tesla);
      for (int n = 0; n < kSteps; ++n) {
        const double rel = std::exp(kLogMin + (kLogMax - kLogMin) * n / (kSteps - 1));
        table_[t][n] = tp.pd == 0 ? 0.0 : mprage_signal(p, t1 * rel, t2s, tp.pd);
      }
    }
  }
  // Signal at T1 scaled by (1 + dt1), PD scaled by (1 + dpd).
  double operator()(int t, double dt1, double dpd) const {
    const double lr = std::log(std::max(1e-3, 1.0 + dt1));
    double x = (lr - kLogMin) / (kLogMax - kLogMin) * (kSteps - 1);
    x = std::clamp(x, 0.0, double(kSteps - 1) - 1e-9);
    const int i = int(x);
    const double f = x - i;
    return (table_[t][i] * (1 - f) + table_[t][i + 1] * f) * (1.0 + dpd);
  }

 private:
  static constexpr int kSteps = 257;
  static constexpr double kLogMin = -0.4, kLogMax = 0.4;  // T1 within x0.67 .. x1.49
  double table_[kTissueCount][kSteps];
};

}  // namespace

Vec3 scanner_to_anatomy(const SubjectModel& s, const SessionSpec& sess, const Vec3& y) {
  // Head pose: y = R (x - c) + c + t  =>  x = R^T (y - c - t) + c (subject frame).
  const Vec3 d{y[0] - s.centre[0] - sess.head_translation[0], y[1] - s.centre[1] - sess.head_translation[1],
               y[2] - s.centre[2] - sess.head_translation[2]};
  const Vec3 local = mat_vec(mat_transpose(sess.head_rotation), d);
  const Vec3 x{local[0] + s.centre[0], local[1] + s.centre[1], local[2] + s.centre[2]};
  // Subject -> anatomy: global shape change plus smooth displacement.
  const Vec3 shaped = mat_vec(s.shape, local);
  const Vec3 disp = s.deformation(x);
  return {s.centre[0] + shaped[0] + disp[0], s.centre[1] + shaped[1] + disp[1], s.centre[2] + shaped[2] + disp[2]};
}

SessionImages render_session(const SubjectModel& s, const SessionSpec& sess) {
  if (!s.labels) throw Error("render_session: no anatomy");
  validate(sess.protocol);
  const LabelVolume& lab = *s.labels;
  const Geometry& g = sess.grid;
  const SignalTable signal(sess.protocol, s.tissues);

  // Label value -> tissue, once.
  std::vector<std::uint8_t> tissue_lut(65536);
  for (std::size_t l = 0; l < tissue_lut.size(); ++l) tissue_lut[l] = tissue_of_label(std::uint16_t(l));
  std::vector<std::uint8_t> tissue(lab.data.size());
  for (std::size_t n = 0; n < lab.data.size(); ++n) tissue[n] = tissue_lut[lab.data[n]];
  // Label voxels within `reach` voxels (box) of any non-air tissue: outside it
  // a scanner voxel is pure air and skips the partial-volume sampling. The
  // reach covers rounding (0.5), the sub-sample offsets (<= 0.5 of the ratio of
  // voxel sizes, rotations and shape change included) and the trilinear support (1).
  const double ratio = *std::max_element(g.spacing.begin(), g.spacing.end()) /
                       *std::min_element(lab.geom.spacing.begin(), lab.geom.spacing.end());
  const int reach = int(std::ceil(1.5 + 0.5 * ratio));
  std::vector<std::uint8_t> near_tissue(tissue.size());
  for (std::size_t n = 0; n < tissue.size(); ++n) near_tissue[n] = tissue[n] != kAir;
  {
    const std::size_t stride[3] = {1, lab.geom.size[0], lab.geom.size[0] * lab.geom.size[1]};
    for (int axis = 0; axis < 3; ++axis) {
      const std::size_t len = lab.geom.size[axis], st = stride[axis];
      std::vector<std::uint8_t> src = near_tissue;
      for (std::size_t n = 0; n < src.size(); ++n) {
        if (near_tissue[n]) continue;
        const std::size_t pos = (n / st) % len;
        for (int d = -reach; d <= reach && !near_tissue[n]; ++d) {
          const long q = long(pos) + d;
          if (q >= 0 && q < long(len) && src[std::size_t(long(n) + d * long(st))]) near_tissue[n] = 1;
        }
      }
    }
  }

  // Linear map of a scanner-frame offset to a label-index offset (for the
  // sub-samples; the deformation is taken as constant across one voxel).
  const Mat3 world_to_lab_index = mat_inverse(mat_mul(
      lab.geom.direction, Mat3{lab.geom.spacing[0], 0, 0, 0, lab.geom.spacing[1], 0, 0, 0, lab.geom.spacing[2]}));
  const Mat3 scan_to_lab_index = mat_mul(world_to_lab_index, mat_mul(s.shape, mat_transpose(sess.head_rotation)));
  Vec3 sub_offsets[8];
  for (int c = 0; c < 8; ++c) {
    const Vec3 o{((c & 1) ? 0.25 : -0.25) * g.spacing[0], ((c & 2) ? 0.25 : -0.25) * g.spacing[1],
                 ((c & 4) ? 0.25 : -0.25) * g.spacing[2]};
    sub_offsets[c] = mat_vec(scan_to_lab_index, mat_vec(g.direction, o));
  }

  SessionImages out;
  out.t1w = Volume(g, 0.0f);
  out.csf = Volume(g, 0.0f);
  out.gm = Volume(g, 0.0f);
  out.wm = Volume(g, 0.0f);
  out.brain = Mask(g, 0);
  out.lesion = Mask(g, 0);
  out.dseg = Mask(g, 0);
  const auto& n = lab.geom.size;
  const double wm_signal = mprage_signal(sess.protocol, s.tissues[kWM].t1(sess.protocol.field_tesla),
                                         s.tissues[kWM].t2s(sess.protocol.field_tesla), s.tissues[kWM].pd);
  const double noise_sd = sess.gain * wm_signal / sess.snr;

  // The smooth quantities (anatomy position, T1/PD modulation, log bias) vary
  // over centimetres: evaluate them on a lattice every `step` voxels and
  // interpolate trilinearly (error far below 0.01 mm / 0.1 %).
  const std::size_t step = std::max<std::size_t>(1, std::size_t(std::lround(4.0 / g.spacing[0])));
  std::array<std::size_t, 3> m{};
  for (int d = 0; d < 3; ++d) m[d] = (g.size[d] - 1) / step + 2;
  std::vector<std::array<double, 6>> lattice(m[0] * m[1] * m[2]);
  for (std::size_t lk = 0; lk < m[2]; ++lk)
    for (std::size_t lj = 0; lj < m[1]; ++lj)
      for (std::size_t li = 0; li < m[0]; ++li) {
        const Vec3 y = g.index_to_world({double(li * step), double(lj * step), double(lk * step)});
        const Vec3 a = scanner_to_anatomy(s, sess, y);
        lattice[li + m[0] * (lj + m[1] * lk)] = {
            a[0], a[1], a[2], s.t1_variation(a), s.pd_variation(a), sess.log_bias(y)};
      }
  auto smooth_at = [&](std::size_t i, std::size_t j, std::size_t k) {
    const std::size_t c[3] = {i / step, j / step, k / step};
    const double t[3] = {double(i % step) / step, double(j % step) / step, double(k % step) / step};
    std::array<double, 6> v{};
    for (int nb = 0; nb < 8; ++nb) {
      const double w = ((nb & 1) ? t[0] : 1 - t[0]) * ((nb & 2) ? t[1] : 1 - t[1]) * ((nb & 4) ? t[2] : 1 - t[2]);
      if (w == 0) continue;
      const auto& node =
          lattice[(c[0] + (nb & 1)) + m[0] * ((c[1] + ((nb >> 1) & 1)) + m[1] * (c[2] + ((nb >> 2) & 1)))];
      for (int q = 0; q < 6; ++q) v[q] += w * node[q];
    }
    return v;
  };

  for (std::size_t k = 0; k < g.size[2]; ++k) {
    Rng rng(derive_seed(sess.noise_seed, k));
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const std::size_t idx = out.t1w.index(i, j, k);
        const auto sm = smooth_at(i, j, k);
        const Vec3 p = mat_vec(world_to_lab_index,
                               {sm[0] - lab.geom.origin[0], sm[1] - lab.geom.origin[1], sm[2] - lab.geom.origin[2]});
        double frac[kTissueCount] = {};
        bool inside = false;
        const long ci = std::lround(p[0]), cj = std::lround(p[1]), ck = std::lround(p[2]);
        const bool maybe_tissue = ci >= 0 && cj >= 0 && ck >= 0 && ci < long(n[0]) && cj < long(n[1]) &&
                                  ck < long(n[2]) &&
                                  near_tissue[std::size_t(ci) + n[0] * (std::size_t(cj) + n[1] * std::size_t(ck))];
        if (!maybe_tissue) frac[kAir] = 1.0;
        for (int c = 0; c < 8 && maybe_tissue; ++c) {
          const double px = p[0] + sub_offsets[c][0], py = p[1] + sub_offsets[c][1], pz = p[2] + sub_offsets[c][2];
          const double fx = std::floor(px), fy = std::floor(py), fz = std::floor(pz);
          const long x0 = long(fx), y0 = long(fy), z0 = long(fz);
          const double tx = px - fx, ty = py - fy, tz = pz - fz;
          for (int nb = 0; nb < 8; ++nb) {
            const long xx = x0 + (nb & 1), yy = y0 + ((nb >> 1) & 1), zz = z0 + ((nb >> 2) & 1);
            const double w =
                ((nb & 1) ? tx : 1 - tx) * (((nb >> 1) & 1) ? ty : 1 - ty) * (((nb >> 2) & 1) ? tz : 1 - tz);
            if (xx < 0 || yy < 0 || zz < 0 || xx >= long(n[0]) || yy >= long(n[1]) || zz >= long(n[2])) {
              frac[kAir] += w * 0.125;
              continue;
            }
            inside = true;
            frac[tissue[std::size_t(xx) + n[0] * (std::size_t(yy) + n[1] * std::size_t(zz))]] += w * 0.125;
          }
        }
        double sig = 0, csf = 0, gm = 0, wm = 0, lesion = 0;
        if (inside && frac[kAir] < 1.0) {
          const double dt1 = sm[3], dpd = sm[4];
          for (int t = 1; t < kTissueCount; ++t) {
            if (frac[t] <= 0) continue;
            sig += frac[t] * signal(t, dt1, dpd);
            switch (s.tissues[t].truth) {
              case TruthClass::CSF:
                csf += frac[t];
                break;
              case TruthClass::GM:
                gm += frac[t];
                break;
              case TruthClass::WM:
                wm += frac[t];
                break;
              default:
                break;
            }
          }
          lesion = frac[kLesion];
        }
        const double clean = sess.gain * sig * std::exp(sm[5]);
        // Rician magnitude: |S + n1 + i n2|.
        const double n1 = rng.normal() * noise_sd, n2 = rng.normal() * noise_sd;
        out.t1w.data[idx] = float(std::sqrt((clean + n1) * (clean + n1) + n2 * n2));
        out.csf.data[idx] = float(csf);
        out.gm.data[idx] = float(gm);
        out.wm.data[idx] = float(wm);
        out.brain.data[idx] = csf + gm + wm >= 0.5;
        out.lesion.data[idx] = lesion >= 0.5;
        const double bg = 1.0 - csf - gm - wm;
        std::uint8_t cls = 0;
        double best = bg;
        if (csf > best) best = csf, cls = 1;
        if (gm > best) best = gm, cls = 2;
        if (wm > best) best = wm, cls = 3;
        out.dseg.data[idx] = cls;
      }
  }
  return out;
}

}  // namespace harmonize
