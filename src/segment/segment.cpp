// Three-class tissue segmentation after Zhang, Brady & Smith 2001 (FSL FAST).
// The model and its equations are written out in docs/SEGMENT.md; in short:
//   y_v = I_v / b_v                                  bias-corrected intensity
//   p(y_v | k) = N(y_v; mu_k, sd_k^2)                Gaussian classes
//   P(x) ~ exp(beta sum_{v~u} w_vu [x_v = x_u])      Potts prior (6 neighbours)
// EM with the mean-field approximation of the MRF for the E-step, the bias
// field as the smoothed weighted least-squares gain between the image and the
// class means, then partial-volume fractions from a mixel model (pure classes
// plus CSF/GM and GM/WM mixtures with a uniform fraction).
//
// Determinism: every reduction is done over fixed chunks of voxels whose
// partial sums are added in chunk order, and every update reads only the
// previous sweep's values, so results do not depend on the thread count.
#include "segment/segment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "segment/bias_field.hpp"

namespace harmonize {
namespace {

constexpr int K = 3;
constexpr double kLog2Pi = 1.8378770664093453;
using segment_detail::BiasSmoother;
using segment_detail::chunks;
using segment_detail::for_chunks;
using segment_detail::Region;

Region make_region(const Mask& brain) {
  const auto& s = brain.geom.size;
  std::array<std::size_t, 3> lo{s[0], s[1], s[2]}, hi{0, 0, 0};
  bool any = false;
  for (std::size_t k = 0; k < s[2]; ++k)
    for (std::size_t j = 0; j < s[1]; ++j)
      for (std::size_t i = 0; i < s[0]; ++i)
        if (brain.at(i, j, k)) {
          any = true;
          lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
          hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
        }
  if (!any) throw Error("segment: the brain mask is empty");
  Region r;
  // One voxel of border (virtual where the mask touches the image edge).
  for (int d = 0; d < 3; ++d) {
    r.lo[d] = lo[d];
    r.n[d] = hi[d] - lo[d] + 3;
  }
  r.inside.assign(r.n[0] * r.n[1] * r.n[2], 0);
  for (std::size_t k = 1; k + 1 < r.n[2]; ++k)
    for (std::size_t j = 1; j + 1 < r.n[1]; ++j)
      for (std::size_t i = 1; i + 1 < r.n[0]; ++i)
        if (brain.at(r.lo[0] + i - 1, r.lo[1] + j - 1, r.lo[2] + k - 1)) {
          const std::size_t b = r.box_index(i, j, k);
          r.inside[b] = 1;
          r.voxels.push_back(std::uint32_t(b));
        }
  const std::ptrdiff_t sx = 1, sy = std::ptrdiff_t(r.n[0]), sz = std::ptrdiff_t(r.n[0] * r.n[1]);
  r.offset = {-sx, sx, -sy, sy, -sz, sz};
  // Neighbours weigh by 1 / distance, relative to the nearest (1 for isotropic voxels).
  const Vec3& sp = brain.geom.spacing;
  const double smin = std::min({sp[0], sp[1], sp[2]});
  for (int d = 0; d < 3; ++d) r.weight[2 * d] = r.weight[2 * d + 1] = float(smin / sp[d]);
  return r;
}

// Box index -> image index, with the border: box voxel (i,j,k) is image voxel lo + (i,j,k) - 1.
std::size_t to_image(const Region& r, const Geometry& g, std::uint32_t b) {
  const std::size_t i = b % r.n[0], j = (b / r.n[0]) % r.n[1], k = b / (r.n[0] * r.n[1]);
  return (r.lo[0] + i - 1) + g.size[0] * ((r.lo[1] + j - 1) + g.size[1] * (r.lo[2] + k - 1));
}

struct Classes {
  std::array<double, K> mean{}, sd{}, weight{};
};

// Initial classes: k-means with three centres on the histogram of the brain
// intensities (0.5 .. 99.5 percentile), started at the 10th, 45th and 80th
// percentiles.
Classes initial_classes(const std::vector<float>& y) {
  std::vector<float> v = y;
  auto pct = [&](double p) {
    const std::size_t n = std::min(v.size() - 1, std::size_t(p * double(v.size() - 1)));
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(n), v.end());
    return double(v[n]);
  };
  const double lo = pct(0.005), hi = pct(0.995);
  if (!(hi > lo)) throw Error("segment: the image is constant inside the brain mask");
  std::array<double, K> c{pct(0.10), pct(0.45), pct(0.80)};
  constexpr int B = 512;
  std::vector<double> h(B, 0.0);
  const double w = (hi - lo) / B;
  for (float x : y) h[std::size_t(std::clamp((x - lo) / w, 0.0, B - 1.0))] += 1;
  std::array<double, K> s{}, s2{}, n{};
  for (int it = 0; it < 100; ++it) {
    s = s2 = n = {};
    for (int b = 0; b < B; ++b) {
      const double x = lo + (b + 0.5) * w;
      int best = 0;
      for (int k = 1; k < K; ++k)
        if (std::abs(x - c[k]) < std::abs(x - c[best])) best = k;
      s[best] += h[b] * x, s2[best] += h[b] * x * x, n[best] += h[b];
    }
    bool moved = false;
    for (int k = 0; k < K; ++k)
      if (n[k] > 0) {
        const double m = s[k] / n[k];
        moved |= std::abs(m - c[k]) > 1e-6 * (hi - lo);
        c[k] = m;
      }
    if (!moved) break;
  }
  Classes cl;
  const double total = n[0] + n[1] + n[2];
  for (int k = 0; k < K; ++k) {
    cl.mean[k] = c[k];
    const double var = n[k] > 1 ? s2[k] / n[k] - c[k] * c[k] : 0;
    cl.sd[k] = std::max(std::sqrt(std::max(var, 0.0)), 0.02 * (hi - lo));
    cl.weight[k] = std::max(n[k] / total, 0.01);
  }
  std::sort(cl.mean.begin(), cl.mean.end());  // T1w: CSF < GM < WM (sds and weights follow roughly)
  return cl;
}

// Sums of fixed chunks, added in chunk order.
template <int N>
using Sums = std::array<double, N>;
template <int N, class F>
Sums<N> reduce(std::size_t n, F&& per_voxel) {
  std::vector<Sums<N>> part(chunks(n));
  for_chunks(n, [&](std::size_t a, std::size_t e, std::size_t c) {
    Sums<N> s{};
    for (std::size_t v = a; v < e; ++v) per_voxel(v, s);
    part[c] = s;
  });
  Sums<N> total{};
  for (const auto& p : part)
    for (int i = 0; i < N; ++i) total[i] += p[i];
  return total;
}

}  // namespace

SegmentResult segment_tissues(const Volume& image, const Mask& brain, const SegmentOptions& o) {
  const Geometry& g = image.geom;
  require_same_grid(brain.geom, g, "segment: the brain mask is not on the image's grid");
  if (!(o.beta >= 0) || o.iterations < 1 || o.bias_iterations < 0 || !(o.tolerance >= 0))
    throw UsageError("segment: need beta >= 0, iterations >= 1, bias iterations >= 0, tolerance >= 0");

  const Region r = make_region(brain);
  const std::size_t nb = r.inside.size(), nv = r.voxels.size();
  std::vector<float> img(nb, 0.0f);  // raw intensities in the box (brain voxels)
  for (std::uint32_t b : r.voxels) {
    const float x = image.data[to_image(r, g, b)];
    if (!std::isfinite(x)) throw Error("segment: the image has non-finite values inside the brain mask");
    img[b] = x;
  }
  std::vector<float> yv(nv);
  for (std::size_t v = 0; v < nv; ++v) yv[v] = img[r.voxels[v]];
  Classes cl = initial_classes(yv);
  yv.clear();
  yv.shrink_to_fit();

  std::vector<float> bias(nb, 1.0f), y = img;  // y = img / bias
  std::array<std::vector<float>, K> q, qn;
  for (int k = 0; k < K; ++k) q[k].assign(nb, 0.0f), qn[k].assign(nb, 0.0f);

  // E-step: q_k(v) ~ weight_k N(y_v; mu_k, sd_k) exp(beta sum_u w_u q_k(u)), the
  // neighbours' q from the previous sweep (mean field; none on the first).
  auto e_step = [&](bool use_mrf) {
    std::array<double, K> c0{}, inv2{};
    for (int k = 0; k < K; ++k) {
      c0[k] = std::log(cl.weight[k]) - std::log(cl.sd[k]);
      inv2[k] = 0.5 / (cl.sd[k] * cl.sd[k]);
    }
    const float beta = use_mrf ? float(o.beta) : 0.0f;
    for_chunks(nv, [&](std::size_t a, std::size_t e, std::size_t) {
      for (std::size_t v = a; v < e; ++v) {
        const std::uint32_t b = r.voxels[v];
        double l[K];
        for (int k = 0; k < K; ++k) {
          const double d = y[b] - cl.mean[k];
          double field = 0;
          if (beta > 0)
            for (int n = 0; n < 6; ++n) field += r.weight[n] * q[k][std::size_t(std::ptrdiff_t(b) + r.offset[n])];
          l[k] = c0[k] - d * d * inv2[k] + beta * field;
        }
        const double mx = std::max({l[0], l[1], l[2]});
        double s = 0;
        for (int k = 0; k < K; ++k) s += (l[k] = std::exp(l[k] - mx));
        for (int k = 0; k < K; ++k) qn[k][b] = float(l[k] / s);
      }
    });
    std::swap(q, qn);
  };
  // M-step: class means, sds and weights from the posteriors.
  auto m_step = [&] {
    const auto s = reduce<3 * K>(nv, [&](std::size_t v, Sums<3 * K>& a) {
      const std::uint32_t b = r.voxels[v];
      for (int k = 0; k < K; ++k) {
        const double w = q[k][b];
        a[3 * k] += w, a[3 * k + 1] += w * y[b], a[3 * k + 2] += w * double(y[b]) * y[b];
      }
    });
    const double range = cl.mean[K - 1] - cl.mean[0];
    for (int k = 0; k < K; ++k) {
      const double n = s[3 * k];
      if (n < 1) continue;  // an empty class keeps its parameters
      cl.mean[k] = s[3 * k + 1] / n;
      cl.sd[k] = std::max(std::sqrt(std::max(s[3 * k + 2] / n - cl.mean[k] * cl.mean[k], 0.0)), 1e-3 * range);
      cl.weight[k] = std::max(n / double(nv), 1e-4);
    }
  };

  const bool with_bias = o.bias_fwhm_mm > 0 && o.bias_iterations > 0;
  std::unique_ptr<BiasSmoother> smoother;
  if (with_bias) smoother = std::make_unique<BiasSmoother>(r, g.spacing, o.bias_fwhm_mm);
  std::vector<float> num, den, gain(with_bias ? nb : 0, 1.0f);
  auto update_bias = [&] {
    num.assign(nb, 0.0f), den.assign(nb, 0.0f);
    std::array<double, K> a{}, c{};
    for (int k = 0; k < K; ++k) a[k] = cl.mean[k] / (cl.sd[k] * cl.sd[k]), c[k] = cl.mean[k] * a[k];
    for_chunks(nv, [&](std::size_t s, std::size_t e, std::size_t) {
      for (std::size_t v = s; v < e; ++v) {
        const std::uint32_t b = r.voxels[v];
        double nn = 0, dd = 0;
        for (int k = 0; k < K; ++k) nn += q[k][b] * a[k], dd += q[k][b] * c[k];
        num[b] = float(nn * y[b]), den[b] = float(dd);
      }
    });
    // The residual gain of the corrected image, multiplied into the field:
    // repeated, this also removes the part of the field that one smoothing
    // misses near the edge of the brain (where the window is one-sided).
    smoother->estimate(num, den, gain);
    for (std::uint32_t b : r.voxels) bias[b] *= gain[b];
    // The field's scale is free (it trades with the means): its mean in the brain is 1.
    const auto s = reduce<1>(nv, [&](std::size_t v, Sums<1>& acc) { acc[0] += std::log(bias[r.voxels[v]]); });
    const float scale = float(std::exp(-s[0] / double(nv)));
    for_chunks(nv, [&](std::size_t a0, std::size_t e, std::size_t) {
      for (std::size_t v = a0; v < e; ++v) {
        const std::uint32_t b = r.voxels[v];
        bias[b] = std::max(bias[b] * scale, 1e-3f);
        y[b] = img[b] / bias[b];
      }
    });
  };

  SegmentResult res;
  e_step(false);
  int bias_done = 0;
  for (int it = 0; it < o.iterations; ++it) {
    const auto before = cl.mean;
    m_step();
    if (with_bias && bias_done < o.bias_iterations) {
      update_bias();
      ++bias_done;
    }
    e_step(true);
    res.iterations = it + 1;
    double change = 0;
    for (int k = 0; k < K; ++k) change = std::max(change, std::abs(cl.mean[k] - before[k]) / std::abs(cl.mean[K - 1]));
    if (bias_done >= (with_bias ? o.bias_iterations : 0) && it > 0 && change < o.tolerance) break;
  }
  m_step();

  // Outputs on the image grid.
  Geometry out = g;
  res.labels = Mask(out, 0);
  for (auto& f : res.fractions) f = Volume(out, 0.0f);
  res.bias = Volume(out, 1.0f);
  res.mean = cl.mean;
  res.sd = cl.sd;
  for (std::uint32_t b : r.voxels) {
    const std::size_t idx = to_image(r, g, b);
    int best = 0;
    for (int k = 1; k < K; ++k)
      if (q[k][b] > q[best][b]) best = k;
    res.labels.data[idx] = std::uint8_t(best + 1);
    res.bias.data[idx] = bias[b];
    for (int k = 0; k < K; ++k) res.fractions[k].data[idx] = q[k][b];
  }

  if (o.partial_volume) {
    // Mixel model: a voxel is pure class k (intensity ~ N(mu_k, sd_k)), or a
    // mixture of two adjacent classes a < b with fraction f of a, uniform on
    // (0,1): intensity ~ N(f mu_a + (1-f) mu_b, f sd_a^2 + (1-f) sd_b^2),
    // integrated over f on J points. The pure-class sds are those of the
    // voxels inside each class (all six neighbours with the same label); the
    // five component weights are fitted by EM; the spatial prior of the MRF
    // multiplies the pure terms (exp(beta sum w q_k)) and the mixtures
    // (exp(beta sum w (q_a + q_b) / 2)). Fractions are posterior means.
    std::array<double, K> pure_sd = cl.sd;
    {
      const auto s = reduce<3 * K>(nv, [&](std::size_t v, Sums<3 * K>& a) {
        const std::uint32_t b = r.voxels[v];
        int best = 0;
        for (int k = 1; k < K; ++k)
          if (q[k][b] > q[best][b]) best = k;
        if (q[best][b] < 0.9f) return;
        for (int n = 0; n < 6; ++n) {
          const std::size_t u = std::size_t(std::ptrdiff_t(b) + r.offset[n]);
          if (!r.inside[u] || q[best][u] < 0.9f) return;
        }
        a[3 * best] += 1, a[3 * best + 1] += y[b], a[3 * best + 2] += double(y[b]) * y[b];
      });
      for (int k = 0; k < K; ++k)
        if (s[3 * k] > 100) {
          const double m = s[3 * k + 1] / s[3 * k];
          pure_sd[k] = std::clamp(std::sqrt(std::max(s[3 * k + 2] / s[3 * k] - m * m, 0.0)), 0.2 * cl.sd[k], cl.sd[k]);
        }
    }
    constexpr int J = 10, C = K + 2;  // components: CSF, GM, WM, CSF/GM, GM/WM
    std::array<double, C> w{0.2, 0.2, 0.2, 0.2, 0.2};
    auto component_terms = [&](std::uint32_t b, double* comp, double(*mix)[J]) {
      // comp[c]: unnormalised posterior mass of component c; mix[m][j]: per fraction point.
      double field[K] = {0, 0, 0};
      for (int k = 0; k < K; ++k)
        for (int n = 0; n < 6; ++n) field[k] += r.weight[n] * q[k][std::size_t(std::ptrdiff_t(b) + r.offset[n])];
      const double yb = y[b];
      double logs[K + 2 * J];
      double mx = -std::numeric_limits<double>::infinity();
      for (int k = 0; k < K; ++k) {
        const double d = (yb - cl.mean[k]) / pure_sd[k];
        logs[k] = std::log(w[k]) - std::log(pure_sd[k]) - 0.5 * d * d + o.beta * field[k];
        mx = std::max(mx, logs[k]);
      }
      for (int m = 0; m < 2; ++m) {
        const int a = m, c = m + 1;
        const double prior = std::log(w[K + m] / J) + o.beta * 0.5 * (field[a] + field[c]);
        for (int j = 0; j < J; ++j) {
          const double f = (j + 0.5) / J;
          const double mu = f * cl.mean[a] + (1 - f) * cl.mean[c];
          const double var = f * pure_sd[a] * pure_sd[a] + (1 - f) * pure_sd[c] * pure_sd[c];
          const double d = yb - mu;
          const double l = prior - 0.5 * std::log(var) - 0.5 * d * d / var;
          logs[K + m * J + j] = l;
          mx = std::max(mx, l);
        }
      }
      double total = 0;
      for (int k = 0; k < K; ++k) total += (comp[k] = std::exp(logs[k] - mx));
      for (int m = 0; m < 2; ++m) {
        comp[K + m] = 0;
        for (int j = 0; j < J; ++j) comp[K + m] += (mix[m][j] = std::exp(logs[K + m * J + j] - mx));
        total += comp[K + m];
      }
      return total;
    };
    // The weights are fitted on every 4th brain voxel (a fixed subsample).
    const std::size_t ns = (nv + 3) / 4;
    for (int it = 0; it < 8; ++it) {
      const auto s = reduce<C>(ns, [&](std::size_t v, Sums<C>& a) {
        double comp[C], mix[2][J];
        const double t = component_terms(r.voxels[4 * v], comp, mix);
        for (int c = 0; c < C; ++c) a[c] += comp[c] / t;
      });
      double change = 0;
      for (int c = 0; c < C; ++c) {
        const double nw = std::max(s[c] / double(ns), 1e-4);
        change = std::max(change, std::abs(nw - w[c]));
        w[c] = nw;
      }
      if (change < 1e-3) break;
    }
    for_chunks(nv, [&](std::size_t a0, std::size_t e, std::size_t) {
      for (std::size_t v = a0; v < e; ++v) {
        const std::uint32_t b = r.voxels[v];
        double comp[C], mix[2][J];
        const double t = component_terms(b, comp, mix);
        double f[K] = {comp[0], comp[1], comp[2]};
        for (int m = 0; m < 2; ++m)
          for (int j = 0; j < J; ++j) {
            const double fa = (j + 0.5) / J;
            f[m] += mix[m][j] * fa;
            f[m + 1] += mix[m][j] * (1 - fa);
          }
        const std::size_t idx = to_image(r, g, b);
        for (int k = 0; k < K; ++k) res.fractions[k].data[idx] = float(f[k] / t);
        if (o.pv_labels) res.labels.data[idx] = std::uint8_t(std::max_element(f, f + K) - f + 1);
      }
    });
  }

  const double voxel_mm3 = g.spacing[0] * g.spacing[1] * g.spacing[2];
  res.volume_mm3 = {};
  for (std::uint32_t b : r.voxels) {
    const std::uint8_t l = res.labels.data[to_image(r, g, b)];
    res.volume_mm3[l - 1] += voxel_mm3;
  }
  return res;
}

}  // namespace harmonize
