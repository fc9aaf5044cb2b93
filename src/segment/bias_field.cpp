// The smooth bias field estimate of the segmentation (segment/bias_field.hpp).
#include "segment/bias_field.hpp"

#include <algorithm>
#include <cmath>

namespace harmonize::segment_detail {

BiasSmoother::BiasSmoother(const Region& r, const Vec3& spacing, double fwhm_mm, bool local_linear)
    : r_(r), local_linear_(local_linear) {
  for (int d = 0; d < 3; ++d) {
    step_[d] = std::max<std::size_t>(1, std::size_t(std::lround(4.0 / spacing[d])));
    m_[d] = (r.n[d] + step_[d] - 1) / step_[d];
    const double sigma = fwhm_mm / (2 * std::sqrt(2 * std::log(2.0))) / (double(step_[d]) * spacing[d]);
    const int radius = std::max(1, int(std::ceil(3 * sigma)));
    for (int p = 0; p < 3; ++p) kernel_[d][std::size_t(p)].resize(2 * radius + 1);
    for (int t = -radius; t <= radius; ++t) {
      const double g = std::exp(-0.5 * t * t / (sigma * sigma));
      kernel_[d][0][std::size_t(t + radius)] = g;
      kernel_[d][1][std::size_t(t + radius)] = g * double(t);
      kernel_[d][2][std::size_t(t + radius)] = g * (double(t) * double(t));
    }
  }
}

void BiasSmoother::estimate(const std::vector<float>& num, const std::vector<float>& den,
                            std::vector<float>& bias) const {
  const std::size_t M = m_[0] * m_[1] * m_[2];
  std::vector<double> bn(M, 0.0), bd(M, 0.0);
  // Block sums: one work item per block slab along k (fixed order inside).
  parallel_for(0, m_[2], [&](std::size_t bk) {
    for (std::size_t k = bk * step_[2]; k < std::min(r_.n[2], (bk + 1) * step_[2]); ++k)
      for (std::size_t j = 0; j < r_.n[1]; ++j)
        for (std::size_t i = 0; i < r_.n[0]; ++i) {
          const std::size_t b = r_.box_index(i, j, k);
          if (!r_.inside[b]) continue;
          const std::size_t c = i / step_[0] + m_[0] * (j / step_[1] + m_[1] * bk);
          bn[c] += num[b], bd[c] += den[b];
        }
  });
  const std::vector<float> ratio = local_linear_ ? linear_gain(bn, bd) : constant_gain(std::move(bn), std::move(bd));
  // Trilinear interpolation at the voxel centres (block centres at (c + 0.5) step - 0.5).
  for_chunks(r_.voxels.size(), [&](std::size_t a, std::size_t e, std::size_t) {
    for (std::size_t v = a; v < e; ++v) {
      const std::uint32_t b = r_.voxels[v];
      const std::size_t ijk[3] = {b % r_.n[0], (b / r_.n[0]) % r_.n[1], b / (r_.n[0] * r_.n[1])};
      std::size_t c0[3];
      double t[3];
      for (int d = 0; d < 3; ++d) {
        const double x = std::clamp((double(ijk[d]) + 0.5) / double(step_[d]) - 0.5, 0.0, double(m_[d] - 1));
        c0[d] = std::min<std::size_t>(std::size_t(x), m_[d] > 1 ? m_[d] - 2 : 0);
        t[d] = m_[d] > 1 ? x - double(c0[d]) : 0.0;
      }
      double s = 0;
      for (int nb = 0; nb < 8; ++nb) {
        const int dx = nb & 1, dy = (nb >> 1) & 1, dz = (nb >> 2) & 1;
        const double w = (dx ? t[0] : 1 - t[0]) * (dy ? t[1] : 1 - t[1]) * (dz ? t[2] : 1 - t[2]);
        if (w == 0) continue;
        s += w * ratio[(c0[0] + dx) + m_[0] * ((c0[1] + dy) + m_[1] * (c0[2] + dz))];
      }
      bias[b] = float(s);
    }
  });
}

std::vector<float> BiasSmoother::constant_gain(std::vector<double> bn, std::vector<double> bd) const {
  const std::size_t M = m_[0] * m_[1] * m_[2];
  parallel_for(0, 2, [&](std::size_t t) { smooth(t == 0 ? bn : bd); });
  std::vector<float> ratio(M, 1.0f);
  double dmax = 0;
  for (double d : bd) dmax = std::max(dmax, d);
  for (std::size_t c = 0; c < M; ++c)
    if (bd[c] > 1e-9 * dmax) ratio[c] = float(bn[c] / bd[c]);
  return ratio;
}

std::vector<float> BiasSmoother::linear_gain(const std::vector<double>& bn, const std::vector<double>& bd) const {
  // Moments of the weights bd (1, d, d d^T) and of the gains bn (1, d) in the
  // Gaussian window; per block the 4x4 normal equations of a0 + a . d.
  const std::size_t M = m_[0] * m_[1] * m_[2];
  constexpr std::array<std::array<int, 3>, 10> kPow{
      {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {2, 0, 0}, {0, 2, 0}, {0, 0, 2}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}}};
  std::array<std::vector<double>, 10> wd;
  std::array<std::vector<double>, 4> wn;
  // The 14 convolutions are independent: one work item each.
  parallel_for(0, 14, [&](std::size_t t) {
    if (t < 10)
      wd[t] = bd, smooth(wd[t], kPow[t]);
    else
      wn[t - 10] = bn, smooth(wn[t - 10], kPow[t - 10]);
  });
  double dmax = 0;
  for (double d : wd[0]) dmax = std::max(dmax, d);
  std::vector<float> ratio(M, 1.0f);
  for (std::size_t c = 0; c < M; ++c) {
    const double s0 = wd[0][c];
    if (!(s0 > 1e-9 * dmax)) continue;
    double A[4][5] = {{s0, wd[1][c], wd[2][c], wd[3][c], wn[0][c]},
                      {wd[1][c], wd[4][c], wd[7][c], wd[8][c], wn[1][c]},
                      {wd[2][c], wd[7][c], wd[5][c], wd[9][c], wn[2][c]},
                      {wd[3][c], wd[8][c], wd[9][c], wd[6][c], wn[3][c]}};
    for (int i = 1; i < 4; ++i) A[i][i] += 1e-3 * s0;  // a little ridge on the slopes (few blocks on one side)
    bool ok = true;
    for (int i = 0; i < 4 && ok; ++i) {  // Gauss-Jordan with partial pivoting
      int piv = i;
      for (int j = i + 1; j < 4; ++j)
        if (std::abs(A[j][i]) > std::abs(A[piv][i])) piv = j;
      if (!(std::abs(A[piv][i]) > 1e-12 * s0)) {
        ok = false;
        break;
      }
      for (int k = 0; k < 5; ++k) std::swap(A[i][k], A[piv][k]);
      for (int j = 0; j < 4; ++j)
        if (j != i) {
          const double f = A[j][i] / A[i][i];
          for (int k = i; k < 5; ++k) A[j][k] -= f * A[i][k];
        }
    }
    ratio[c] = float(ok ? A[0][4] / A[0][0] : wn[0][c] / s0);
  }
  return ratio;
}

void BiasSmoother::smooth(std::vector<double>& a, const std::array<int, 3>& power) const {
  std::vector<double> tmp(a.size());
  for (int d = 0; d < 3; ++d) {
    // The taps times t^power (t in blocks), and only those inside the grid:
    // the sum runs over t in ascending order as it always has.
    const auto& ker = kernel_[d][std::size_t(power[std::size_t(d)])];
    const std::ptrdiff_t radius = std::ptrdiff_t(ker.size() / 2);
    const std::size_t stride = d == 0 ? 1 : d == 1 ? m_[0] : m_[0] * m_[1];
    const std::ptrdiff_t len = std::ptrdiff_t(m_[d]);
    for (std::size_t c = 0; c < a.size(); ++c) {
      const std::ptrdiff_t pos = std::ptrdiff_t((c / stride) % m_[d]);
      const std::ptrdiff_t t0 = std::max(-radius, -pos), t1 = std::min(radius, len - 1 - pos);
      const double* src = a.data() + (std::ptrdiff_t(c) - pos * std::ptrdiff_t(stride));  // the line's first block
      double s = 0;
      for (std::ptrdiff_t t = t0; t <= t1; ++t)
        s += ker[std::size_t(t + radius)] * src[(pos + t) * std::ptrdiff_t(stride)];
      tmp[c] = s;
    }
    a.swap(tmp);
  }
}

}  // namespace harmonize::segment_detail
