#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"
#include "simulate/random_field.hpp"

using namespace harmonize;

TEST(SmoothField, DeterministicWithSdNearAmplitude) {
  const SmoothField a({-100, -100, -100}, {100, 100, 100}, 20, 0.5, 11);
  const SmoothField b({-100, -100, -100}, {100, 100, 100}, 20, 0.5, 11);
  const SmoothField c({-100, -100, -100}, {100, 100, 100}, 20, 0.5, 12);
  Rng r(3);
  double s = 0, s2 = 0, diff = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const Vec3 p{r.uniform(-100, 100), r.uniform(-100, 100), r.uniform(-100, 100)};
    const double v = a(p);
    ASSERT_EQ(v, b(p));
    diff += std::abs(v - c(p));
    s += v;
    s2 += v * v;
  }
  const double sd = std::sqrt(s2 / n - (s / n) * (s / n));
  EXPECT_NEAR(sd, 0.5, 0.12);
  EXPECT_GT(diff / n, 0.1);  // another seed, another field
}

TEST(SmoothField, IsSmooth) {
  const SmoothField f({-50, -50, -50}, {50, 50, 50}, 25, 1.0, 5);
  // Over 1 mm the field changes by a small fraction of its sd.
  Rng r(9);
  double worst = 0;
  for (int i = 0; i < 2000; ++i) {
    const Vec3 p{r.uniform(-40, 40), r.uniform(-40, 40), r.uniform(-40, 40)};
    worst = std::max(worst, std::abs(f(p) - f({p[0] + 1, p[1], p[2]})));
  }
  EXPECT_LT(worst, 0.25);
  EXPECT_EQ(SmoothField()({1, 2, 3}), 0.0);
}
