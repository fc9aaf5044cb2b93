#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "phantom.hpp"
#include "preprocess/n4.hpp"

using namespace harmonize;

namespace {
// Coefficient of variation of v where the truth WM fraction exceeds 0.95.
double wm_cv(const Volume& v, const Volume& wm) {
  double s = 0, s2 = 0, n = 0;
  for (std::size_t i = 0; i < v.data.size(); ++i)
    if (wm.data[i] > 0.95f) s += v.data[i], s2 += double(v.data[i]) * v.data[i], n += 1;
  const double mean = s / n;
  return std::sqrt(std::max(0.0, s2 / n - mean * mean)) / mean;
}
}  // namespace

TEST(N4, HalvesTheWhiteMatterVariationOfAStronglyBiasedScan) {
  const LabelVolume anatomy = test::asymmetric_phantom();
  CohortOptions o = test::small_pair_options();
  o.scanners[1].bias = 0.4;
  o.scanners[1].snr = 200;
  const SubjectResult r = simulate_subject({"001", false, 0, 42}, anatomy, o);
  const SessionImages& im = r.images[1];
  N4Options n4;
  n4.shrink = 2;  // a 4 mm working grid (the default is about 8 mm)
  const Volume corrected = n4_correct(im.t1w, im.brain, n4);
  ASSERT_EQ(corrected.geom.size, im.t1w.geom.size);
  EXPECT_EQ(corrected.geom.origin, im.t1w.geom.origin);
  const double before = wm_cv(im.t1w, im.wm), after = wm_cv(corrected, im.wm);
  std::printf("[   INFO   ] WM coefficient of variation: %.4f before N4, %.4f after\n", before, after);
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, 0.5 * before);
}

TEST(N4, RefusesAMaskOnAnotherGridOrAnEmptyMask) {
  Geometry g;
  g.size = {20, 20, 20};
  Volume v(g, 1.0f);
  Mask empty(g, 0);
  EXPECT_THROW(n4_correct(v, empty), Error);
  Geometry h = g;
  h.origin = {5, 0, 0};
  EXPECT_THROW(n4_correct(v, Mask(h, 1)), Error);
}
