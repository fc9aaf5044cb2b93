// segment_tissues on phantoms with known classes, bias and partial volume, and
// on a simulated subject (both scanners) against the simulator's truth.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/error.hpp"
#include "core/overlap.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "segment/segment.hpp"
#include "simulate/cohort.hpp"

using namespace harmonize;

namespace {

constexpr double kMean[3] = {30, 60, 100};  // CSF, GM, WM

// A brain-like phantom on an n^3 grid of `mm` voxels: label(x) in world mm
// about the centre gives 0 outside, 1 CSF, 2 GM, 3 WM. Each voxel's fractions
// come from s^3 sub-samples; its intensity is the fraction-weighted mean times
// `bias(x)` plus Gaussian noise of sd `noise`.
struct Phantom {
  Volume image;
  Mask brain, truth;               // truth: largest fraction (0 where background is largest)
  std::array<Volume, 3> fraction;  // true fractions
  Volume bias;                     // true multiplicative field
};

using LabelFn = std::function<int(double, double, double)>;

Phantom make_phantom(const LabelFn& label, std::size_t n, double mm, double noise, std::uint64_t seed,
                     const std::function<double(double, double, double)>& bias = nullptr, int s = 3) {
  Geometry g;
  g.size = {n, n, n};
  g.spacing = {mm, mm, mm};
  const double c = (double(n) - 1) / 2 * mm;
  g.origin = {-c, -c, -c};
  Phantom p;
  p.image = Volume(g, 0.0f);
  p.brain = Mask(g, 0);
  p.truth = Mask(g, 0);
  p.bias = Volume(g, 1.0f);
  for (auto& f : p.fraction) f = Volume(g, 0.0f);
  Rng rng(seed);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t i = 0; i < n; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        double f[4] = {0, 0, 0, 0};
        for (int a = 0; a < s; ++a)
          for (int b = 0; b < s; ++b)
            for (int d = 0; d < s; ++d) {
              const double dx = ((a + 0.5) / s - 0.5) * mm, dy = ((b + 0.5) / s - 0.5) * mm,
                           dz = ((d + 0.5) / s - 0.5) * mm;
              f[label(w[0] + dx, w[1] + dy, w[2] + dz)] += 1.0 / (s * s * s);
            }
        const std::size_t idx = p.image.index(i, j, k);
        const double field = bias ? bias(w[0], w[1], w[2]) : 1.0;
        const double clean = f[1] * kMean[0] + f[2] * kMean[1] + f[3] * kMean[2];
        p.image.data[idx] = float(clean * field + noise * rng.normal());
        p.bias.data[idx] = float(field);
        for (int t = 0; t < 3; ++t) p.fraction[t].data[idx] = float(f[t + 1]);
        p.brain.data[idx] = f[0] <= 0.5;
        p.truth.data[idx] = std::uint8_t(std::max_element(f, f + 4) - f);
      }
  return p;
}

// Spheres: WM inside 14 mm (with a CSF ventricle inside 4 mm), GM to 22 mm,
// CSF to 27 mm; the cortex is folded (radius modulated by direction).
int brain_label(double x, double y, double z) {
  const double r = std::sqrt(x * x + y * y + z * z);
  const double fold =
      3.0 * std::sin(4 * std::atan2(y, x)) * std::cos(3 * std::acos(std::clamp(z / (r + 1e-9), -1.0, 1.0)));
  if (r < 4) return 1;
  if (r < 14 + fold) return 3;
  if (r < 22 + 0.5 * fold) return 2;
  if (r < 27) return 1;
  return 0;
}

double mean_abs_diff(const Volume& a, const Volume& b, const Mask& m) {
  double s = 0, n = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i)
    if (m.data[i]) s += std::abs(a.data[i] - b.data[i]), n += 1;
  return s / n;
}

double accuracy(const Mask& labels, const Mask& truth, const Mask& brain) {
  double ok = 0, n = 0;
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (brain.data[i] && truth.data[i]) ok += labels.data[i] == truth.data[i], n += 1;
  return ok / n;
}

}  // namespace

TEST(Segment, RecoversClassMeansAndLabelsOfAPiecewiseConstantPhantom) {
  // No partial volume (one sub-sample per voxel): three pure classes, noise sd 6.
  const Phantom p = make_phantom(brain_label, 60, 1.0, 6.0, 11, nullptr, 1);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult r = segment_tissues(p.image, p.brain, o);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(r.mean[k], kMean[k], 0.02 * kMean[2]) << kTissueNames[k];
    EXPECT_NEAR(r.sd[k], 6.0, 1.5) << kTissueNames[k];
    EXPECT_GT(dice(r.labels, p.truth, std::uint8_t(k + 1)), 0.95) << kTissueNames[k];
  }
  // Outside the mask: background label, zero fractions, unit bias.
  for (std::size_t i = 0; i < p.brain.data.size(); ++i)
    if (!p.brain.data[i]) {
      ASSERT_EQ(r.labels.data[i], 0);
      ASSERT_EQ(r.fractions[1].data[i], 0.0f);
      ASSERT_EQ(r.bias.data[i], 1.0f);
    }
  EXPECT_GE(r.iterations, 1);
  double voxels = 0;
  for (auto l : r.labels.data) voxels += l == std::uint8_t(TissueLabel::WM);
  EXPECT_DOUBLE_EQ(r.volume_mm3[2], voxels);
}

namespace {

// A field from about 0.6 to 1.65 across the phantoms.
double known_field(double x, double y, double z) { return std::exp(0.5 * (0.8 * x + 0.5 * y - 0.3 * z) / 27.0); }

// The mean |log error| of an estimated field in the brain, and the mean |log|
// of the phantom's own: both known up to a global factor, so compared after
// both have mean log 0 in the brain.
std::pair<double, double> log_bias_error(const SegmentResult& a, const Phantom& p) {
  double la = 0, lt = 0, n = 0;
  for (std::size_t i = 0; i < p.brain.data.size(); ++i)
    if (p.brain.data[i]) la += std::log(a.bias.data[i]), lt += std::log(p.bias.data[i]), n += 1;
  double err = 0, spread = 0;
  for (std::size_t i = 0; i < p.brain.data.size(); ++i)
    if (p.brain.data[i]) {
      const double ea = std::log(a.bias.data[i]) - la / n, et = std::log(p.bias.data[i]) - lt / n;
      err += std::abs(ea - et), spread += std::abs(et);
    }
  return {err / n, spread / n};
}

}  // namespace

TEST(Segment, EstimatesAndRemovesAKnownMultiplicativeBias) {
  const Phantom p = make_phantom(brain_label, 60, 1.0, 5.0, 12, known_field, 1);
  SegmentOptions with, without;
  with.bias_fwhm_mm = 40;
  with.converge_bias = false;  // the fixed count of residual updates
  with.bias_iterations = 8;
  without.bias_fwhm_mm = 0;
  const SegmentResult a = segment_tissues(p.image, p.brain, with);
  const SegmentResult b = segment_tissues(p.image, p.brain, without);
  const auto [err, spread] = log_bias_error(a, p);
  EXPECT_LT(err, 0.04) << "mean |log bias error|";
  EXPECT_LT(err, 0.3 * spread) << "mean |log bias error| vs mean |log bias|";
  EXPECT_GT(spread, 0.1) << "the field is substantial";
  const double acc_with = accuracy(a.labels, p.truth, p.brain), acc_without = accuracy(b.labels, p.truth, p.brain);
  EXPECT_GT(acc_with, 0.96);
  EXPECT_GT(acc_with, acc_without + 0.03);
  // Corrected image = image / bias: its WM is flat.
  double s = 0, s2 = 0, m = 0;
  for (std::size_t i = 0; i < p.brain.data.size(); ++i)
    if (p.truth.data[i] == std::uint8_t(TissueLabel::WM)) {
      const double y = p.image.data[i] / a.bias.data[i];
      s += y, s2 += y * y, m += 1;
    }
  EXPECT_LT(std::sqrt(s2 / m - (s / m) * (s / m)) / (s / m), 0.06) << "WM coefficient of variation after correction";
}

// With converge_bias (the default) the bias phase stops on its own tolerance, the field it
// settles on is the known one, and twice the updates (no tolerance) leave the
// volumes where they were. (The fixed count of residual updates has no such
// point: it keeps sharpening the field; docs/SEGMENT.md, "Limits".)
TEST(Segment, TheConvergedBiasPhaseSettlesOnTheKnownFieldAndStays) {
  const Phantom p = make_phantom(brain_label, 48, 1.25, 5.0, 31, known_field, 2);
  SegmentOptions o;
  o.bias_fwhm_mm = 40;
  EXPECT_TRUE(o.converge_bias) << "the default";
  EXPECT_EQ(o.bias_iterations, kConvergeBiasUpdates);
  const SegmentResult a = segment_tissues(p.image, p.brain, o);
  EXPECT_TRUE(a.converged) << a.bias_updates << " bias updates, last change " << a.bias_change;
  EXPECT_LT(a.bias_updates, 60);
  EXPECT_LT(a.bias_change, o.bias_tolerance);
  EXPECT_LT(log_bias_error(a, p).first, 0.04) << "mean |log bias error|";
  const SegmentResult b = segment_tissues(p.image, p.brain, twice_the_sweeps(o, a));
  EXPECT_EQ(b.bias_updates, 2 * a.bias_updates);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(b.volume_mm3[k] / a.volume_mm3[k], 1.0, 0.005) << kTissueNames[k];
  // Without converge_bias the count is the count.
  SegmentOptions fixed = o;
  fixed.converge_bias = false;
  fixed.bias_iterations = 7;
  EXPECT_EQ(segment_tissues(p.image, p.brain, fixed).bias_updates, 7);
}

TEST(Segment, MrfPriorBeatsNoPriorOnNoisyData) {
  const Phantom p = make_phantom(brain_label, 60, 1.0, 14.0, 13, nullptr, 1);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  o.beta = 0;
  const double acc0 = accuracy(segment_tissues(p.image, p.brain, o).labels, p.truth, p.brain);
  o.beta = 0.5;
  const double acc1 = accuracy(segment_tissues(p.image, p.brain, o).labels, p.truth, p.brain);
  o.beta = SegmentOptions{}.beta;
  const double acc_default = accuracy(segment_tissues(p.image, p.brain, o).labels, p.truth, p.brain);
  EXPECT_GT(acc1, acc0 + 0.03) << acc0 << " -> " << acc1;
  EXPECT_GT(acc_default, acc1 + 0.01) << acc1 << " -> " << acc_default;
  EXPECT_GT(acc_default, 0.9) << acc0 << " -> " << acc_default;
}

// The case on which EM used to drift: 2 mm voxels (most of the thin cortex is
// partial volume), low grey/white contrast and noise as at 1.5 T. EM
// converges, and twice the sweeps (no tolerance) leave the volumes as they were.
// The phantom's image with the class means CSF / GM / WM replaced (same noise).
Volume with_means(const Phantom& p, double csf, double gm, double wm) {
  Volume v = p.image;
  for (std::size_t i = 0; i < v.data.size(); ++i) {
    const double f0 = p.fraction[0].data[i], f1 = p.fraction[1].data[i], f2 = p.fraction[2].data[i];
    const double old_clean = f0 * kMean[0] + f1 * kMean[1] + f2 * kMean[2];
    v.data[i] = float(f0 * csf + f1 * gm + f2 * wm + (v.data[i] - old_clean));
  }
  return v;
}

TEST(Segment, ConvergesAndStaysOnALowContrastPartialVolumePhantom) {
  // Means 30 / 60 / 100 scaled to a grey/white ratio of about 1.25, noise sd 5.
  const Phantom p = make_phantom(brain_label, 32, 2.0, 5.0, 21, nullptr, 4);
  const Volume low = with_means(p, 30, 70, 88);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult a = segment_tissues(low, p.brain, o);
  EXPECT_TRUE(a.converged) << a.iterations << " sweeps, last change " << a.change;
  EXPECT_LT(a.iterations, o.iterations);
  const SegmentResult b = segment_tissues(low, p.brain, twice_the_sweeps(o, a));
  EXPECT_GT(b.iterations, a.iterations);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(b.volume_mm3[k] / a.volume_mm3[k], 1.0, 0.005) << kTissueNames[k];
    // And the fractions' volume is that of the truth.
    double est = 0, tru = 0;
    for (std::size_t i = 0; i < low.data.size(); ++i) est += a.fractions[k].data[i], tru += p.fraction[k].data[i];
    EXPECT_NEAR(est / tru, 1.0, 0.08) << kTissueNames[k];
  }
}

// Below a grey/white ratio of about 1.21 the MRF phase's Jacobi sweeps made
// neighbours flip each other back and forth until the 1000-sweep cap; the
// damped sweeps settle, and stay there with twice the sweeps.
TEST(Segment, TheMrfPhaseSettlesAtAVeryLowContrast) {
  // GM 72, WM 84 (1.17) under noise sd 3: undamped, the MRF phase was still
  // changing 0.017 % of the brain per sweep at 300 sweeps (damped: 29).
  const Phantom p = make_phantom(brain_label, 56, 1.0, 3.0, 23, nullptr, 2);
  const Volume low = with_means(p, 30, 72, 84);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult a = segment_tissues(low, p.brain, o);
  EXPECT_TRUE(a.converged) << a.iterations << " sweeps, last change " << a.change;
  EXPECT_LT(a.iterations, 200);
  const SegmentResult b = segment_tissues(low, p.brain, twice_the_sweeps(o, a));
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(b.volume_mm3[k] / a.volume_mm3[k], 1.0, 0.005) << kTissueNames[k];
}

// A class only about one voxel thick (a 2.5 mm GM shell on 2 mm voxels) keeps
// its volume: neither the MRF nor the weights let the larger classes eat it.
TEST(Segment, AThinClassIsNotEatenByTheLargerOnes) {
  auto thin = [](double x, double y, double z) {
    const double r = std::sqrt(x * x + y * y + z * z);
    if (r < 17) return 3;
    if (r < 19.5) return 2;
    if (r < 24) return 1;
    return 0;
  };
  const Phantom p = make_phantom(thin, 28, 2.0, 4.0, 22, nullptr, 4);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult r = segment_tissues(p.image, p.brain, o);
  EXPECT_TRUE(r.converged);
  double est = 0, tru = 0;
  for (std::size_t i = 0; i < p.image.data.size(); ++i) est += r.fractions[1].data[i], tru += p.fraction[1].data[i];
  EXPECT_NEAR(est / tru, 1.0, 0.10) << "GM fraction volume";
  EXPECT_GT(r.volume_mm3[1], 0.7 * tru * 8.0) << "GM hard volume";
}

TEST(Segment, PartialVolumeFractionsOfATwoTissueMixture) {
  // A GM / WM slab phantom whose boundary plane is oblique: every fraction
  // from 0 to 1 occurs. CSF only as a thin outer layer so that three classes exist.
  auto label = [](double x, double y, double z) {
    const double r = std::max({std::abs(x), std::abs(y), std::abs(z)});
    if (r >= 30) return 0;
    if (r >= 26) return 1;
    return 0.9 * x + 0.3 * y + 0.2 * z < 0 ? 2 : 3;
  };
  const Phantom p = make_phantom(label, 64, 1.0, 3.0, 14, nullptr, 4);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult r = segment_tissues(p.image, p.brain, o);
  // Voxels that are truly mixed GM/WM (away from the CSF layer).
  double err = 0, n = 0, sum_true = 0, sum_est = 0;
  for (std::size_t i = 0; i < p.image.data.size(); ++i) {
    const float gm = p.fraction[1].data[i], wm = p.fraction[2].data[i];
    if (gm > 0.05f && wm > 0.05f && gm + wm > 0.999f) {
      err += std::abs(r.fractions[1].data[i] - gm), n += 1;
      sum_true += gm, sum_est += r.fractions[1].data[i];
    }
  }
  ASSERT_GT(n, 500);
  EXPECT_LT(err / n, 0.12) << "mean |GM fraction error| in mixed voxels";
  EXPECT_NEAR(sum_est / sum_true, 1.0, 0.05);
  // Fractions sum to 1 in the brain, and whole-brain PV volumes match the truth.
  for (std::size_t i = 0; i < p.brain.data.size(); ++i) {
    if (p.brain.data[i]) {
      ASSERT_NEAR(r.fractions[0].data[i] + r.fractions[1].data[i] + r.fractions[2].data[i], 1.0f, 1e-4f);
    }
  }
  for (int k = 1; k < 3; ++k) {
    double est = 0, tru = 0;
    for (std::size_t i = 0; i < p.brain.data.size(); ++i) est += r.fractions[k].data[i], tru += p.fraction[k].data[i];
    EXPECT_NEAR(est / tru, 1.0, 0.03) << kTissueNames[k];
  }
  EXPECT_LT(mean_abs_diff(r.fractions[1], p.fraction[1], p.brain), 0.05);
}

// The MRF's strength is given at 1 mm and scaled down for coarser voxels
// (beta x 1 mm / smallest spacing): the same voxels read as 2 mm voxels with
// beta 2 segment exactly as at 1 mm with beta 1 (without a bias field nothing
// else depends on the spacing), and differently from 1 mm with beta 2.
TEST(Segment, TheMrfStrengthIsScaledToVoxelsCoarserThanOneMillimetre) {
  EXPECT_DOUBLE_EQ(mrf_beta(2.0, {1, 1, 1}), 2.0);
  EXPECT_DOUBLE_EQ(mrf_beta(2.0, {0.8, 0.8, 0.8}), 2.0);
  EXPECT_DOUBLE_EQ(mrf_beta(2.0, {2, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(mrf_beta(2.0, {1.5, 1.5, 4}), 2.0 / 1.5);
  EXPECT_DOUBLE_EQ(mrf_beta(2.0, {1, 1, 3}), 2.0);
  const Phantom p = make_phantom(brain_label, 40, 1.0, 12.0, 23, nullptr, 1);
  Volume coarse = p.image;
  Mask coarse_brain = p.brain;
  coarse.geom.spacing = coarse_brain.geom.spacing = {2, 2, 2};
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult at2 = segment_tissues(coarse, coarse_brain, o);
  const SegmentResult at1_beta2 = segment_tissues(p.image, p.brain, o);
  o.beta = 1;
  const SegmentResult at1_beta1 = segment_tissues(p.image, p.brain, o);
  EXPECT_DOUBLE_EQ(at2.beta, 1.0);
  EXPECT_DOUBLE_EQ(at1_beta2.beta, 2.0);
  EXPECT_EQ(at2.fractions[1].data, at1_beta1.fractions[1].data);
  EXPECT_EQ(at2.labels.data, at1_beta1.labels.data);
  EXPECT_NE(at2.fractions[1].data, at1_beta2.fractions[1].data);
}

TEST(Segment, SameResultWhateverTheThreadCount) {
  const Phantom p = make_phantom(brain_label, 48, 1.25, 8.0, 15);
  const int before = threads();
  set_threads(1);
  const SegmentResult a = segment_tissues(p.image, p.brain);
  set_threads(3);
  const SegmentResult b = segment_tissues(p.image, p.brain);
  set_threads(before);
  EXPECT_EQ(a.labels.data, b.labels.data);
  EXPECT_EQ(a.fractions[1].data, b.fractions[1].data);
  EXPECT_EQ(a.bias.data, b.bias.data);
  EXPECT_EQ(a.mean, b.mean);
}

namespace {
// The phantom's image and fractions moved by a sub-voxel offset (t voxels along
// each axis) with trilinear interpolation, as a rigid resampling onto another
// scanner's grid does: noise smoothed, every boundary blurred.
Volume shifted_linearly(const Volume& v, double t) {
  Volume out = v;
  const auto n = v.geom.size;
  for (std::size_t k = 0; k + 1 < n[2]; ++k)
    for (std::size_t j = 0; j + 1 < n[1]; ++j)
      for (std::size_t i = 0; i + 1 < n[0]; ++i) {
        double s = 0;
        for (int c = 0; c < 8; ++c) {
          const double w = ((c & 1) ? t : 1 - t) * ((c & 2) ? t : 1 - t) * ((c & 4) ? t : 1 - t);
          s += w * v.data[v.index(i + (c & 1), j + ((c >> 1) & 1), k + ((c >> 2) & 1))];
        }
        out.data[out.index(i, j, k)] = float(s);
      }
  return out;
}
}  // namespace

// The means are refined on the histogram only where GM and WM overlap (their
// cores closer than refine_separation noise sds): there a core, labelled by
// intensity, is cut and its mean biased; apart, the cores' means are kept.
TEST(Segment, MeansAreRefinedOnlyWhereGreyAndWhiteOverlap) {
  const Phantom p = make_phantom(brain_label, 48, 1.0, 4.0, 31, nullptr, 2);
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult apart = segment_tissues(p.image, p.brain, o);  // GM 60, WM 100: 10 sds
  EXPECT_FALSE(apart.means_refined);
  EXPECT_GT((apart.core_mean[2] - apart.core_mean[1]) / apart.core_sd, o.refine_separation);
  EXPECT_EQ(apart.mean, apart.core_mean);
  const Volume low = with_means(p, 30, 70, 80);  // 2.5 sds
  const SegmentResult close = segment_tissues(low, p.brain, o);
  EXPECT_TRUE(close.means_refined);
  EXPECT_LT((close.core_mean[2] - close.core_mean[1]) / close.core_sd, o.refine_separation);
  EXPECT_NE(close.mean, close.core_mean);
  // Refining moves the GM mean towards its pure tissue's 70 (the core's is cut by WM).
  EXPECT_LT(std::abs(close.mean[1] - 70), std::abs(close.core_mean[1] - 70));
}

// Why not always: on an image resampled with linear interpolation (crossval's
// 1.5 T scans on the 3 T grid) the cores stay apart, but EM on the histogram
// trades pure GM for the GM/WM mixture and moves GM's mean into the WM: GM
// +13 % on this phantom (+3 to +17 % on the main job's resampled scans) where
// the cores' means keep it within 3 %.
TEST(Segment, AnInterpolatedImageKeepsTheCoresMeans) {
  const Phantom p = make_phantom(brain_label, 32, 2.0, 5.0, 41, nullptr, 4);
  const Volume v = shifted_linearly(p.image, 0.3);
  double gm = 0;  // the truth's GM fraction volume on the shifted grid, mm^3
  const Volume f = shifted_linearly(p.fraction[1], 0.3);
  for (std::size_t i = 0; i < f.data.size(); ++i) gm += p.brain.data[i] ? 8.0 * f.data[i] : 0;
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  const SegmentResult kept = segment_tissues(v, p.brain, o);
  EXPECT_FALSE(kept.means_refined);
  EXPECT_NEAR(kept.volume_mm3[1] / gm, 1.0, 0.03);
  o.refine_separation = 100;  // refine whatever the separation
  const SegmentResult refined = segment_tissues(v, p.brain, o);
  EXPECT_TRUE(refined.means_refined);
  EXPECT_GT(refined.volume_mm3[1] / gm, 1.08);
}

// Given means (--class-means) are used as they are, whatever the refinement
// rule says: the true ones keep GM's volume where refining would have moved
// it, a GM mean set too far towards WM moves GM into CSF.
TEST(Segment, GivenClassMeansAreUsedAsTheyAre) {
  const Phantom p = make_phantom(brain_label, 32, 2.0, 5.0, 41, nullptr, 4);
  const Volume v = shifted_linearly(p.image, 0.3);
  double gm = 0;
  const Volume f = shifted_linearly(p.fraction[1], 0.3);
  for (std::size_t i = 0; i < f.data.size(); ++i) gm += p.brain.data[i] ? 8.0 * f.data[i] : 0;
  SegmentOptions o;
  o.bias_fwhm_mm = 0;
  o.refine_separation = 100;  // would refine
  o.class_means = {kMean[0], kMean[1], kMean[2]};
  const SegmentResult truth = segment_tissues(v, p.brain, o);
  EXPECT_FALSE(truth.means_refined);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(truth.mean[k], kMean[k]);
  EXPECT_NEAR(truth.volume_mm3[1] / gm, 1.0, 0.03);
  o.class_means = {kMean[0], 72, kMean[2]};
  const SegmentResult high = segment_tissues(v, p.brain, o);
  EXPECT_EQ(high.mean[1], 72);
  EXPECT_GT(high.volume_mm3[0], truth.volume_mm3[0] * 1.03);
  for (const std::vector<double>& bad : {std::vector<double>{30, 60}, {60, 30, 100}, {30, 60, NAN}}) {
    o.class_means = bad;
    EXPECT_THROW(segment_tissues(v, p.brain, o), UsageError);
  }
}

TEST(Segment, RefusesMismatchedGridsEmptyMasksAndConstantImages) {
  const Phantom p = make_phantom(brain_label, 32, 2.0, 5.0, 16);
  Geometry g = p.image.geom;
  g.size[0] += 1;
  EXPECT_THROW(segment_tissues(p.image, Mask(g, 1)), Error);
  Geometry moved = p.image.geom;
  moved.origin[0] += 5;
  Mask shifted = p.brain;
  shifted.geom = moved;
  EXPECT_THROW(segment_tissues(p.image, shifted), Error);
  EXPECT_THROW(segment_tissues(p.image, Mask(p.image.geom, 0)), Error);
  EXPECT_THROW(segment_tissues(Volume(p.image.geom, 7.0f), p.brain), Error);
  Volume nan = p.image;
  nan.data[nan.index(16, 16, 16)] = std::nanf("");
  EXPECT_THROW(segment_tissues(nan, p.brain), Error);
}

namespace {
// A synthetic head in FreeSurfer labels (as the simulator reads them) on a
// 1 mm grid: folded cortex (3) over WM (2), ventricles (4), a thalamus-like
// deep grey nucleus (10), extra-cerebral CSF (24), bone (515) and fat (511).
LabelVolume head_labels() {
  Geometry g;
  g.size = {120, 120, 120};
  g.origin = {-59.5, -59.5, -59.5};
  LabelVolume l(g, 0);
  for (std::size_t k = 0; k < 120; ++k)
    for (std::size_t j = 0; j < 120; ++j)
      for (std::size_t i = 0; i < 120; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        const double x = w[0], y = w[1], z = w[2];
        // Ellipsoidal head, radius along each axis.
        const double r = std::sqrt(x * x / 1.0 + y * y / 1.3 + z * z / 0.9);
        const double th = std::atan2(y, x), ph = std::acos(std::clamp(z / (r + 1e-9), -1.0, 1.0));
        const double gyri = 3.5 * std::sin(7 * th) * std::sin(6 * ph) + 1.5 * std::sin(13 * th + 5 * ph);
        const double vent = std::sqrt((std::abs(x) - 7) * (std::abs(x) - 7) / 9 + y * y / 200 + (z - 6) * (z - 6) / 16);
        const double thal = std::sqrt((std::abs(x) - 9) * (std::abs(x) - 9) + y * y / 2 + (z + 2) * (z + 2));
        std::uint16_t v = 0;
        if (r < 36 + 0.6 * gyri) {
          v = vent < 1 ? 4 : thal < 7 ? 10 : (r < 30 + gyri ? 2 : 3);
        } else if (r < 39 + 0.3 * gyri) {
          v = 3;  // outer cortex (folded boundary)
        } else if (r < 42) {
          v = 24;
        } else if (r < 47) {
          v = 515;
        } else if (r < 51) {
          v = 511;
        }
        l.at(i, j, k) = v;
      }
  return l;
}
}  // namespace

TEST(Segment, SimulatedSubjectOfBothScannersAgainstTheTruth) {
  const LabelVolume anatomy = head_labels();
  CohortOptions o;
  o.resolution_mm = 1.5;
  for (auto& s : o.scanners) s.fov_mm = {130, 150, 130};
  const SubjectResult subj = simulate_subject({"001", false, 0, 4242}, anatomy, o);
  for (int s = 0; s < 2; ++s) {
    const SessionImages& im = subj.images[s];
    const SegmentResult r = segment_tissues(im.t1w, im.brain);
    const double voxel_mm3 = std::pow(o.resolution_mm, 3);
    for (int k = 0; k < 3; ++k) {
      const double d = dice(r.labels, im.dseg, std::uint8_t(k + 1));
      double truth = 0;
      for (std::size_t i = 0; i < im.dseg.data.size(); ++i) truth += im.brain.data[i] && im.dseg.data[i] == k + 1;
      truth *= voxel_mm3;
      const double err = (r.volume_mm3[k] - truth) / truth;
      const double min_dice[3] = {0.80, 0.85, 0.90};
      EXPECT_GT(d, min_dice[k]) << kSessionNames[s] << " " << kTissueNames[k];
      EXPECT_LT(std::abs(err), 0.05) << kSessionNames[s] << " " << kTissueNames[k] << " volume " << r.volume_mm3[k]
                                     << " vs truth " << truth;
      std::printf("%s %s: Dice %.3f, volume error %+.2f %%\n", kSessionNames[s], kTissueNames[k], d, 100 * err);
    }
  }
}
