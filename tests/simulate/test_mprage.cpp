#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "simulate/mprage.hpp"
#include "simulate/tissue.hpp"

using namespace harmonize;

// Reference values computed by hand (an independent transcription of the
// PHYSICS.md equations) with PD and T2* decay included:
// 1.5 T: TA = 1100 - 88*9.5 = 264 ms, TD = 2080 - 264 - 176*9.5 = 144 ms.
// 3 T:   TA = 900 - 88*7.1 = 275.2 ms, TD = 2300 - 275.2 - 176*7.1 = 775.2 ms.
TEST(Mprage, MatchesHandComputedSignals) {
  const auto p15 = protocol_1p5T(), p3 = protocol_3T();
  EXPECT_NEAR(mprage_signal(p15, 646, 66, 0.65), 0.0481197, 1e-6);
  EXPECT_NEAR(mprage_signal(p15, 1197, 84, 0.78), 0.0359216, 1e-6);
  EXPECT_NEAR(mprage_signal(p3, 838, 53, 0.65), 0.0292874, 1e-6);
  EXPECT_NEAR(mprage_signal(p3, 1607, 66, 0.78), 0.0166448, 1e-6);
}

TEST(Mprage, WhiteGreyRatiosOfBothProtocols) {
  const auto t = default_tissue_table();
  auto ratio = [&](const MprageProtocol& p) {
    const double f = p.field_tesla;
    return mprage_signal(p, t[kWM].t1(f), t[kWM].t2s(f), t[kWM].pd) /
           mprage_signal(p, t[kCortex].t1(f), t[kCortex].t2s(f), t[kCortex].pd);
  };
  EXPECT_NEAR(ratio(protocol_1p5T()), 1.34, 0.01);
  EXPECT_NEAR(ratio(protocol_3T()), 1.76, 0.01);
}

TEST(Mprage, TissueOrderingIsT1Weighted) {
  const auto t = default_tissue_table();
  for (const auto& p : {protocol_1p5T(), protocol_3T()}) {
    const double f = p.field_tesla;
    auto s = [&](Tissue x) { return mprage_signal(p, t[x].t1(f), t[x].t2s(f), t[x].pd); };
    EXPECT_GT(s(kWM), s(kThalamus));
    EXPECT_GT(s(kThalamus), s(kStriatum));
    EXPECT_GT(s(kStriatum), s(kCortex));
    EXPECT_LT(s(kLesion), s(kWM));
    EXPECT_LT(s(kCSF), 0.5 * s(kCortex));
    EXPECT_GT(s(kFat), s(kWM));  // bright scalp fat
  }
}

TEST(Mprage, RefusesImpossibleTiming) {
  auto p = protocol_1p5T();
  EXPECT_NO_THROW(validate(p));
  p.echo_spacing_ms = 11.5;  // TD < 0 (PHYSICS.md: must be < 11.1 ms)
  EXPECT_THROW(validate(p), UsageError);
  p = protocol_3T();
  p.ti_ms = 500;  // TA < 0
  EXPECT_THROW(validate(p), UsageError);
}

TEST(Tissue, LabelMapping) {
  EXPECT_EQ(tissue_of_label(2), kWM);
  EXPECT_EQ(tissue_of_label(42), kCortex);
  EXPECT_EQ(tissue_of_label(4), kCSF);
  EXPECT_EQ(tissue_of_label(24), kCSF);
  EXPECT_EQ(tissue_of_label(10), kThalamus);
  EXPECT_EQ(tissue_of_label(16), kBrainstem);
  EXPECT_EQ(tissue_of_label(kLesionLabel), kLesion);
  EXPECT_EQ(tissue_of_label(515), kBone);
  EXPECT_EQ(tissue_of_label(0), kAir);
  EXPECT_EQ(default_tissue_table()[kLesion].truth, TruthClass::WM);
}

TEST(Tissue, OtherT1ValuesMoveTheGreyWhiteContrastAndTheDeepGreyWithThem) {
  const auto d = default_tissue_table();
  const auto same = tissue_table(kDefaultWmT1, kDefaultCortexT1);
  for (int t = 0; t < kTissueCount; ++t) {
    EXPECT_EQ(d[t].t1_1p5, same[t].t1_1p5) << t;
    EXPECT_EQ(d[t].t1_3, same[t].t1_3) << t;
  }
  // A shorter cortex T1 at 1.5 T: less grey/white contrast (ratio 1.34 -> about 1.25),
  // the deep grey nuclei stay between WM and cortex, 3 T is untouched.
  const auto low = tissue_table(kDefaultWmT1, {1100, kDefaultCortexT1[1]});
  const auto p = protocol_1p5T();
  auto ratio = [&](const TissueTable& t) {
    return mprage_signal(p, t[kWM].t1_1p5, t[kWM].t2s_1p5, t[kWM].pd) /
           mprage_signal(p, t[kCortex].t1_1p5, t[kCortex].t2s_1p5, t[kCortex].pd);
  };
  EXPECT_NEAR(ratio(low), 1.25, 0.01);
  EXPECT_LT(ratio(low), ratio(d) - 0.05);
  EXPECT_GT(low[kThalamus].t1_1p5, low[kWM].t1_1p5);
  EXPECT_LT(low[kThalamus].t1_1p5, d[kThalamus].t1_1p5);
  EXPECT_EQ(low[kCortex].t1_3, d[kCortex].t1_3);
}
