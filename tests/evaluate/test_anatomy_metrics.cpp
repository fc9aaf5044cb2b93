// The claim "contrast, not anatomy" measured: the stripe index rises with
// per-slice gain jumps across its axis only; the lesion rule finds a lesion,
// misses an erased one, counts a made-up one and ignores a change of contrast.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "core/overlap.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/lesions.hpp"
#include "evaluate/metrics.hpp"
#include "evaluate/phantom.hpp"
#include "evaluate/stripes.hpp"

using namespace harmonize;

namespace {

// The phantom's image with every slice along `axis` multiplied by 1 + jump * (+-1).
Volume with_slice_gains(const Volume& v, int axis, double jump, unsigned seed = 7) {
  Volume out = v;
  std::mt19937 rng(seed);
  std::vector<double> gain(v.geom.size[axis]);
  for (auto& g : gain) g = 1.0 + jump * (rng() % 2 ? 1.0 : -1.0);
  for (std::size_t k = 0; k < v.geom.size[2]; ++k)
    for (std::size_t j = 0; j < v.geom.size[1]; ++j)
      for (std::size_t i = 0; i < v.geom.size[0]; ++i) {
        const std::size_t at[3] = {i, j, k};
        out.at(i, j, k) = float(v.at(i, j, k) * gain[at[axis]]);
      }
  return out;
}

// A lesion: a ball of `radius` voxels at voxel `c`.
Mask ball(const Geometry& g, std::array<double, 3> c, double radius) {
  Mask m(g, 0);
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        const double x = double(i) - c[0], y = double(j) - c[1], z = double(k) - c[2];
        m.at(i, j, k) = x * x + y * y + z * z <= radius * radius;
      }
  return m;
}

}  // namespace

TEST(StripeIndex, RisesWithPerSliceGainJumpsAcrossItsAxisOnly) {
  const auto p = test::eval_phantom(40, 1.5, 3, 0.02);
  const double base = stripe_index(p.image, p.brain, 0);
  EXPECT_GT(base, 0.3);
  EXPECT_LT(base, 3.0);  // roughly isotropic: noise and anatomy alike in every direction
  double last = base;
  for (double jump : {0.02, 0.05, 0.1, 0.2}) {
    const double s = stripe_index(with_slice_gains(p.image, 0, jump), p.brain, 0);
    EXPECT_GT(s, last * 1.02) << "jump " << jump;
    last = s;
  }
  EXPECT_GT(last, 3 * base);
  // Jumps along another axis are stripes of that axis, not of axis 0.
  const Volume other = with_slice_gains(p.image, 2, 0.2);
  EXPECT_LT(stripe_index(other, p.brain, 0), base);
  EXPECT_GT(stripe_index(other, p.brain, 2), 3 * stripe_index(p.image, p.brain, 2));
  // A smooth ramp has no second differences at all: no in-plane term.
  Volume ramp = p.image;
  for (std::size_t k = 0; k < 40; ++k)
    for (std::size_t j = 0; j < 40; ++j)
      for (std::size_t i = 0; i < 40; ++i) ramp.at(i, j, k) = float(i + j + k);  // exact in float
  EXPECT_TRUE(std::isnan(stripe_index(ramp, p.brain, 0)));
  EXPECT_THROW(stripe_index(p.image, p.brain, 3), Error);
}

TEST(StripeIndex, LeftRightAxisFollowsTheDirectionMatrix) {
  Geometry g;
  g.size = {4, 5, 6};
  EXPECT_EQ(left_right_axis(g), 0);  // identity: i runs along x (LPS left)
  // i anterior-posterior, j left-right, k superior-inferior.
  g.direction = Mat3{0, 1, 0, 1, 0, 0, 0, 0, 1};
  EXPECT_EQ(left_right_axis(g), 1);
}

namespace {
struct LesionCase {
  Volume image;
  Mask brain, dseg, lesions;
};
// The phantom with a lesion ball in its WM, between WM and GM in intensity.
LesionCase lesion_case() {
  const auto p = test::eval_phantom(40, 1.5, 5, 0.02);
  LesionCase c{p.image, p.brain, p.labels, ball(p.image.geom, {23.5, 19.5, 19.5}, 3.0)};
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0.0, 0.02);
  for (std::size_t n = 0; n < c.image.data.size(); ++n)
    if (c.lesions.data[n]) c.image.data[n] = float(0.6 + noise(rng));
  return c;
}
}  // namespace

TEST(Lesions, FoundKeptUnderAContrastChangeMissedWhenErasedCountedWhenMadeUp) {
  const LesionCase c = lesion_case();
  const LesionRegions r = lesion_regions(c.dseg, c.lesions);
  const std::size_t truth = label_count(r.lesions, 1);
  ASSERT_GT(truth, 80u);

  const LesionFinding f = find_lesions(c.image, r);
  EXPECT_NEAR(f.wm_level, 0.8, 0.01);
  EXPECT_NEAR(f.gm_level, 0.55, 0.01);
  EXPECT_GT(dice(f.lesion_like, r.lesions, 1), 0.9);
  EXPECT_NEAR(f.lesion_contrast, 0.6 / 0.8, 0.02);
  std::size_t outside = 0;
  for (std::size_t n = 0; n < f.lesion_like.data.size(); ++n)
    outside += f.lesion_like.data[n] && !r.near_lesions.data[n];
  EXPECT_LE(outside, 2u) << "noise alone makes few lesion-like voxels";

  // A smooth receive bias (-25 % to +25 % across the head) makes no lesions of
  // its own and keeps the real one.
  Volume biased = c.image;
  for (std::size_t k = 0; k < 40; ++k)
    for (std::size_t j = 0; j < 40; ++j)
      for (std::size_t i = 0; i < 40; ++i) biased.at(i, j, k) *= float(1.0 + 0.25 * (double(i) - 19.5) / 19.5);
  const LesionFinding fb = find_lesions(biased, r);
  std::size_t outside_biased = 0;
  for (std::size_t n = 0; n < fb.lesion_like.data.size(); ++n)
    outside_biased += fb.lesion_like.data[n] && !r.near_lesions.data[n];
  EXPECT_LE(outside_biased, 5u);
  EXPECT_GT(dice(fb.lesion_like, r.lesions, 1), 0.85);

  // A monotone change of contrast moves no voxel across the rule's threshold.
  Volume gamma = c.image;
  for (auto& x : gamma.data) x = std::pow(std::max(x, 0.0f), 0.5f);
  EXPECT_EQ(find_lesions(gamma, r).lesion_like.data, f.lesion_like.data);

  // Erased (filled with WM): nothing found; a made-up lesion elsewhere in the WM is counted.
  Volume erased = c.image;
  const Mask fake = ball(c.image.geom, {15.5, 19.5, 19.5}, 2.0);
  for (std::size_t n = 0; n < erased.data.size(); ++n) {
    if (c.lesions.data[n]) erased.data[n] = 0.8f;
    if (fake.data[n]) erased.data[n] = 0.6f;
  }
  const LesionFinding e = find_lesions(erased, r);
  EXPECT_LT(dice(e.lesion_like, r.lesions, 1), 0.05);
  outside = 0;
  for (std::size_t n = 0; n < e.lesion_like.data.size(); ++n)
    outside += e.lesion_like.data[n] && !r.near_lesions.data[n];
  EXPECT_GT(outside, label_count(fake, 1) / 2);
}

TEST(Lesions, EvaluateRowsPerVolume) {
  const LesionCase c = lesion_case();
  EvaluateInput in;
  in.subject = "sub-003";
  in.direction = "3T-to-1p5T";
  in.target = c.image;
  in.source = c.image;
  for (auto& x : in.source.data) x = std::pow(std::max(x, 0.0f), 0.5f);
  in.brain = c.brain;
  Volume erased = c.image;
  for (std::size_t n = 0; n < erased.data.size(); ++n)
    if (c.lesions.data[n]) erased.data[n] = 0.8f;
  in.methods.emplace_back("Erased", erased);
  in.truth_dseg = c.dseg;
  in.truth_lesions = c.lesions;
  EvaluateOptions o;
  o.segmentation = false;
  const auto rows = evaluate_subject(in, o);
  auto v = [&](const std::string& m, const std::string& ref, const std::string& metric) {
    for (const auto& x : rows)
      if (x.method == m && x.reference == ref && x.metric == metric) return x.value;
    ADD_FAILURE() << "missing " << m << " " << ref << " " << metric;
    return std::nan("");
  };
  // Original is a monotone contrast change of the target: the same lesion voxels.
  EXPECT_EQ(v("Original", "target", "lesion_dice"), 1.0);
  EXPECT_EQ(v("Original", "target", "lesion_volume_abs_diff_mm3"), 0.0);
  EXPECT_GT(v("Target", "truth", "lesion_dice"), 0.9);
  EXPECT_LT(v("Erased", "target", "lesion_dice"), 0.05);
  EXPECT_NEAR(v("Erased", "target", "lesion_volume_abs_diff_mm3"), v("Target", "", "lesion_volume_mm3"),
              0.1 * v("Target", "", "lesion_volume_mm3"));
  EXPECT_NEAR(v("Target", "", "lesion_contrast"), 0.75, 0.02);
  EXPECT_NEAR(v("Erased", "", "lesion_contrast"), 1.0, 0.02);
  for (const char* m : {"Target", "Original", "Erased"}) EXPECT_GT(v(m, "", "stripe_index"), 0.0) << m;
  // Lesions need the truth segmentation; a lesion mask on another grid is named.
  EvaluateInput bad = in;
  bad.truth_dseg.reset();
  EXPECT_THROW(evaluate_subject(bad, o), Error);
  bad = in;
  bad.truth_lesions->geom.spacing[0] = 2.0;
  try {
    evaluate_subject(bad, o);
    ADD_FAILURE() << "accepted a lesion mask on another grid";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lesion"), std::string::npos) << e.what();
  }
}
