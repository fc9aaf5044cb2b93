// The histogram-matching baseline: a monotone (gamma) distortion of an image
// is mapped back close to the reference; brain voxels only; refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "evaluate/histogram_matching.hpp"
#include "evaluate/metrics.hpp"
#include "evaluate/phantom.hpp"

using namespace harmonize;

TEST(HistogramMatching, UndoesAGammaTransform) {
  const auto p = test::eval_phantom();
  Volume source = p.image;
  for (std::size_t n = 0; n < source.data.size(); ++n)
    source.data[n] = p.brain.data[n] ? std::pow(p.image.data[n], 2.2f) : 0.37f;  // background must not matter
  const Volume matched = histogram_match(source, p.brain, p.image, p.brain);
  double err = 0, count = 0;
  for (std::size_t n = 0; n < matched.data.size(); ++n) {
    if (!p.brain.data[n]) {
      ASSERT_EQ(matched.data[n], 0.0f);
      continue;
    }
    err += std::abs(matched.data[n] - p.image.data[n]);
    count += 1;
  }
  EXPECT_LT(err / count, 0.01);
  EXPECT_LT(ahd(matched, p.image, &p.brain), 0.1 * ahd(source, p.image, &p.brain));
  EXPECT_LT(mse_mean(matched, p.image, &p.brain), 0.05 * mse_mean(source, p.image, &p.brain));
}

TEST(HistogramMatching, ReferenceFromAnotherSubjectOnAnotherGrid) {
  const auto ref = test::eval_phantom(28, 1.7, 7);  // another "subject", another grid
  const auto p = test::eval_phantom(32, 1.5, 1);
  Volume source = p.image;
  for (std::size_t n = 0; n < source.data.size(); ++n)
    source.data[n] = p.brain.data[n] ? 0.3f * p.image.data[n] + 0.1f : 0;
  const Volume matched = histogram_match(source, p.brain, ref.image, ref.brain);
  // Class means land on the reference's (0.2, 0.55, 0.8).
  double sum[4] = {}, n[4] = {};
  for (std::size_t i = 0; i < matched.data.size(); ++i)
    sum[p.labels.data[i]] += matched.data[i], n[p.labels.data[i]] += 1;
  EXPECT_NEAR(sum[1] / n[1], 0.2, 0.03);
  EXPECT_NEAR(sum[2] / n[2], 0.55, 0.03);
  EXPECT_NEAR(sum[3] / n[3], 0.8, 0.03);
  EXPECT_EQ(sum[0], 0.0);
}

TEST(HistogramMatching, Refusals) {
  const auto p = test::eval_phantom(16, 2.0);
  const Mask empty(p.brain.geom, 0);
  EXPECT_THROW(histogram_match(p.image, empty, p.image, p.brain), Error);
  EXPECT_THROW(histogram_match(p.image, p.brain, p.image, empty), Error);
  Volume flat(p.image.geom, 0.5f);
  EXPECT_THROW(histogram_match(p.image, p.brain, flat, p.brain), Error);
  const auto other = test::eval_phantom(12, 2.0);
  EXPECT_THROW(histogram_match(p.image, other.brain, p.image, p.brain), Error);
}
