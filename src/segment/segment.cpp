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
#include "segment/mixel.hpp"

namespace harmonize {
namespace {

constexpr int K = 3;
// The MRF strength while the bias field is estimated (three pure classes: a
// Potts prior); stronger, it flattens the labels the field is fitted to.
constexpr double kBiasPhaseBeta = 0.3;
// With converge_bias, only voxels whose WM posterior (three classes) is at
// least this enter the field's fit: the partial-volume voxels between two
// classes would pull the field towards the labels, and at low grey/white
// contrast the GM's "confident" voxels hold WM that the field then darkens.
constexpr double kBiasConfidence = 0.99;
constexpr double kLog2Pi = 1.8378770664093453;
using segment_detail::BiasSmoother;
using segment_detail::chunks;
using segment_detail::fit_on_histogram;
using segment_detail::for_chunks;
using segment_detail::MixelModel;
using segment_detail::MixelPosterior;
using segment_detail::MixelStats;
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

double mrf_beta(double beta, const Vec3& spacing) {
  const double smin = std::min({spacing[0], spacing[1], spacing[2]});
  return smin > 1.0 ? beta / smin : beta;
}

SegmentOptions twice_the_sweeps(const SegmentOptions& o, const SegmentResult& r) {
  SegmentOptions t = o;
  t.tolerance = 0;
  t.iterations = 2 * r.iterations;
  t.parameter_tolerance = 0;
  t.parameter_sweeps = 2 * r.parameter_sweeps;
  t.bias_tolerance = 0;
  t.bias_iterations = 2 * r.bias_updates;
  return t;
}

bool valid_class_means(const std::vector<double>& m) {
  return m.empty() || (m.size() == 3 && std::isfinite(m[0]) && std::isfinite(m[2]) && m[0] < m[1] && m[1] < m[2]);
}

SegmentResult segment_tissues(const Volume& image, const Mask& brain, const SegmentOptions& o) {
  const Geometry& g = image.geom;
  require_same_grid(brain.geom, g, "segment: the brain mask is not on the image's grid");
  if (!(o.beta >= 0) || o.iterations < 1 || o.bias_iterations < 0 || !(o.tolerance >= 0) || o.parameter_sweeps < 1 ||
      !(o.parameter_tolerance >= 0) || !(o.bias_tolerance >= 0))
    throw UsageError("segment: need beta >= 0, iterations >= 1, bias iterations >= 0, tolerances >= 0");
  if (!valid_class_means(o.class_means))
    throw UsageError("segment: given class means must be three finite values, CSF < GM < WM");

  const Region r = make_region(brain);
  const double beta_used = mrf_beta(o.beta, g.spacing);
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

  MixelModel model;
  model.mu = cl.mean;
  model.sd = std::sqrt((cl.sd[0] * cl.sd[0] + cl.sd[1] * cl.sd[1] + cl.sd[2] * cl.sd[2]) / 3);

  std::vector<float> bias(nb, 1.0f), y = img;  // y = img / bias
  // Fractions per class (posterior means), interleaved per box voxel; the MRF
  // field reads the previous sweep's.
  std::vector<float> f(K * nb, 0.0f), fn(K * nb, 0.0f);
  const bool with_bias = o.bias_fwhm_mm > 0 && o.bias_iterations > 0;
  std::unique_ptr<BiasSmoother> smoother;
  if (with_bias) smoother = std::make_unique<BiasSmoother>(r, g.spacing, o.bias_fwhm_mm, o.converge_bias);
  std::vector<float> num(with_bias ? nb : 0, 0.0f), den(with_bias ? nb : 0, 0.0f), gain(with_bias ? nb : 0, 1.0f);

  // One sweep over the voxels: new fractions into fn; the statistics (with
  // `full`, those of the M-step) summed over fixed chunks in chunk order.
  // With `damped`, a voxel keeps half its previous fractions (the same fixed
  // points; see phase 2).
  auto sweep = [&](double beta, bool full, bool bias_terms, bool damped = false) {
    const MixelPosterior post(model);
    std::vector<MixelStats> part(chunks(nv));
    for_chunks(nv, [&](std::size_t a0, std::size_t e, std::size_t c) {
      MixelStats st;
      for (std::size_t v = a0; v < e; ++v) {
        const std::uint32_t b = r.voxels[v];
        double field[K] = {0, 0, 0}, W = 0;
        if (beta > 0)
          for (int n = 0; n < 6; ++n) {
            const std::size_t u = std::size_t(std::ptrdiff_t(b) + r.offset[n]);
            if (!r.inside[u]) continue;
            W += r.weight[n];
            for (int k = 0; k < K; ++k) field[k] += r.weight[n] * f[K * u + std::size_t(k)];
          }
        double x[K], nn = 0, dd = 0;
        post(y[b], field, W, beta, 1.0, &f[K * b], x, st, full, bias_terms ? &nn : nullptr, bias_terms ? &dd : nullptr);
        for (int k = 0; k < K; ++k)
          fn[K * b + std::size_t(k)] = damped ? 0.5f * (float(x[k]) + f[K * b + std::size_t(k)]) : float(x[k]);
        if (bias_terms && !o.converge_bias) num[b] = float(nn), den[b] = float(dd);
        if (bias_terms && o.converge_bias) {
          // The gain of the raw image against the model (the field afresh), from confident WM voxels.
          const bool sure = x[2] >= kBiasConfidence;
          num[b] = sure ? float(nn * bias[b]) : 0.0f, den[b] = sure ? float(dd) : 0.0f;
        }
      }
      part[c] = st;
    });
    MixelStats s;
    for (const auto& p : part) s.add(p);
    std::swap(f, fn);
    return s;
  };
  // Returns the largest change of log b with its mean change removed (the
  // scale trades with the means).
  auto update_bias = [&] {
    // Without converge_bias: the residual gain of the corrected image,
    // multiplied into the field: repeated, this also removes the part of the
    // field that one smoothing misses near the edge of the brain (where the
    // window is one-sided), but it smooths the residual again each time, so
    // the field keeps taking on finer structure (docs/SEGMENT.md, "Limits").
    // With it: the field itself, fitted locally linearly.
    smoother->estimate(num, den, gain);
    double change = 0;
    if (o.converge_bias) {
      const auto m = reduce<1>(nv, [&](std::size_t v, Sums<1>& acc) {
        const std::uint32_t b = r.voxels[v];
        acc[0] += std::log(std::max(gain[b], 1e-3f) / bias[b]);
      });
      for (std::uint32_t b : r.voxels) {
        const float next = std::max(gain[b], 1e-3f);
        change = std::max(change, std::abs(double(std::log(next / bias[b])) - m[0] / double(nv)));
        bias[b] = next;
      }
    } else {
      for (std::uint32_t b : r.voxels) bias[b] *= gain[b];
    }
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
    return change;
  };

  SegmentResult res;
  res.beta = beta_used;
  // 1. The parameters and the bias field, without the MRF: EM sweeps over the
  // voxels while the field is updated; then the means and the noise from the
  // classes' cores, and the component weights by EM on the histogram of the
  // corrected intensities (without the MRF, voxels of one intensity are
  // exchangeable; with the means and noise fixed the likelihood is concave in
  // the weights, so this converges to its one maximum).
  // The bias field is estimated with three pure classes under the MRF (as
  // FAST does): with the mixtures in the model, they would explain part of a
  // smooth field as partial volume.
  int sweeps = 0;
  model.mixtures = 0;
  for (int k = 0; k < K; ++k) model.w[std::size_t(k)] = cl.weight[std::size_t(k)];
  // With converge_bias, no MRF in this phase: EM on three Gaussians converges,
  // under the Potts prior the classes creep on (the GM into the WM at 1.5 T).
  bool bias_settled = !with_bias || !o.converge_bias;
  for (; sweeps < (with_bias ? o.bias_iterations : 1); ++sweeps) {
    const auto mu0 = model.mu;
    const auto w0 = model.w;
    const double beta_bias = sweeps > 0 && !o.converge_bias ? std::min(beta_used, kBiasPhaseBeta) : 0.0;
    model.update(sweep(beta_bias, true, with_bias), double(nv));
    if (!with_bias) continue;
    double change = update_bias();
    ++res.bias_updates;
    if (o.converge_bias) {
      const double range = std::max(model.mu[K - 1] - model.mu[0], 1e-12);
      for (int k = 0; k < K; ++k)
        change = std::max({change, std::abs(model.mu[std::size_t(k)] - mu0[std::size_t(k)]) / range,
                           std::abs(model.w[std::size_t(k)] - w0[std::size_t(k)])});
      res.bias_change = change;
      if (change < o.bias_tolerance) {
        bias_settled = true;
        ++sweeps;
        break;
      }
    }
  }
  if (with_bias) sweep(0.0, false, false);  // the cores below from the intensities alone
  model.mixtures = o.partial_volume ? 2 : 0;
  for (int c = 0; c < model.components(); ++c) model.w[std::size_t(c)] = 1.0 / model.components();
  {
    constexpr std::size_t B = 4096;
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (std::uint32_t b : r.voxels) lo = std::min(lo, y[b]), hi = std::max(hi, y[b]);
    const double width = std::max(double(hi) - double(lo), 1e-6) / B;
    std::vector<double> centre(B), count(B, 0.0);
    for (std::size_t i = 0; i < B; ++i) centre[i] = lo + (double(i) + 0.5) * width;
    for (std::uint32_t b : r.voxels) count[std::min(B - 1, std::size_t((y[b] - lo) / width))] += 1;
    {
      // The noise (and the starting means) from the cores of the classes:
      // voxels whose six neighbours have their label (largest fraction), free
      // of partial volume. The noise stays fixed: left free, EM trades the
      // GM/WM mixtures for a broad pure GM at low contrast (the likelihood is
      // nearly flat along that ridge). The means do not: labelled by
      // intensity, a core is cut where two classes overlap, and at a WM/GM
      // ratio of 1.22 GM's core mean sat 2 units below its pure tissue, which
      // cost 7 % of the GM (17 % at 1.21).
      const auto label = [&](std::size_t b) {
        int best = 0;
        for (int k = 1; k < K; ++k)
          if (f[K * b + std::size_t(k)] > f[K * b + std::size_t(best)]) best = k;
        return best;
      };
      const auto st = reduce<3 * K>(nv, [&](std::size_t v, Sums<3 * K>& acc) {
        const std::uint32_t b = r.voxels[v];
        const int k = label(b);
        for (int n = 0; n < 6; ++n) {
          const std::size_t u = std::size_t(std::ptrdiff_t(b) + r.offset[n]);
          if (!r.inside[u] || label(u) != k) return;
        }
        acc[3 * k] += 1, acc[3 * k + 1] += y[b], acc[3 * k + 2] += double(y[b]) * y[b];
      });
      double ss = 0, n = 0;  // residual sum of squares, voxels
      bool ok = true;
      std::array<double, K> mu{};
      for (int k = 0; k < K; ++k) {
        if (st[3 * k] < 10)
          ok = false;
        else {
          mu[k] = st[3 * k + 1] / st[3 * k];
          ss += st[3 * k + 2] - st[3 * k] * mu[k] * mu[k], n += st[3 * k];
        }
      }
      if (ok && mu[0] < mu[1] && mu[1] < mu[2]) {
        model.mu = mu;
        model.sd = std::sqrt(ss / n);
        model.fixed = true;
        model.means_fixed = (mu[2] - mu[1]) / model.sd >= o.refine_separation;
        res.core_mean = mu;
        res.core_sd = model.sd;
      }
      if (o.class_means.size() == std::size_t(K)) {
        // Given means (a measurement, e.g. the truth's): used as they are; the
        // noise still comes from the cores (or, with too few core voxels, EM).
        for (int k = 0; k < K; ++k) model.mu[std::size_t(k)] = o.class_means[std::size_t(k)];
        model.means_fixed = true;
      }
      res.means_refined = !model.means_fixed;
    }
    bool converged = false;
    res.parameter_sweeps = fit_on_histogram(model, centre, count, o.parameter_tolerance, o.parameter_sweeps, converged,
                                            res.parameter_change);
    res.converged = converged && bias_settled;
  }
  // 2. The fractions under the MRF, the parameters fixed, until they settle.
  // Every voxel is updated from its neighbours' previous fractions (a Jacobi
  // sweep, deterministic at any thread count). At low grey/white contrast
  // (WM/GM below about 1.21) neighbours then flip each other back and forth
  // and the change stops falling; from the first sweep whose change is not
  // below the previous one's, each voxel moves half way (damped), which
  // settles where the undamped sweeps would have (WM T1 +15 %: 138 sweeps
  // against the 1000-sweep cap, volumes within 0.07 points).
  sweep(0.0, false, false);  // every voxel's fractions under the fitted model
  if (beta_used > 0) {
    bool settled = false, damped = false;
    double previous = std::numeric_limits<double>::infinity();
    for (int it = 0; it < o.iterations; ++it) {
      const MixelStats s = sweep(beta_used, false, false, damped);
      ++sweeps;
      res.change = 0.5 * s.change / double(nv);
      damped = damped || res.change >= 0.9 * previous;
      previous = res.change;
      if (res.change < o.tolerance) {
        settled = true;
        break;
      }
    }
    res.converged = res.converged && settled;
  }
  res.iterations = sweeps;

  // Outputs on the image grid: fractions, and the class of the largest fraction.
  Geometry out = g;
  res.labels = Mask(out, 0);
  for (auto& fr : res.fractions) fr = Volume(out, 0.0f);
  res.bias = Volume(out, 1.0f);
  res.mean = model.mu;
  res.sd.fill(model.sd);
  for (std::uint32_t b : r.voxels) {
    const std::size_t idx = to_image(r, g, b);
    int best = 0;
    for (int k = 1; k < K; ++k)
      if (f[K * b + std::size_t(k)] > f[K * b + std::size_t(best)]) best = k;
    res.labels.data[idx] = std::uint8_t(best + 1);
    res.bias.data[idx] = bias[b];
    for (int k = 0; k < K; ++k) res.fractions[std::size_t(k)].data[idx] = f[K * b + std::size_t(k)];
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
