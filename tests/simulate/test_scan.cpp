#include <gtest/gtest.h>

#include <cmath>

#include "simulate/cohort.hpp"
#include "simulate/scan.hpp"

using namespace harmonize;

namespace {
// A synthetic head: WM ball (r 30 mm) with a ventricle (r 8 mm), cortex shell
// to 36 mm, CSF to 40 mm, bone to 44, fat to 48 mm. 2 mm voxels.
LabelVolume phantom() {
  Geometry g;
  g.size = {56, 56, 56};
  g.spacing = {2, 2, 2};
  g.origin = {-55, -55, -55};
  LabelVolume l(g, 0);
  for (std::size_t k = 0; k < 56; ++k)
    for (std::size_t j = 0; j < 56; ++j)
      for (std::size_t i = 0; i < 56; ++i) {
        const Vec3 w = g.index_to_world({double(i), double(j), double(k)});
        const double r = std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
        std::uint16_t v = 0;
        if (r < 8)
          v = 4;
        else if (r < 30)
          v = 2;
        else if (r < 36)
          v = 3;
        else if (r < 40)
          v = 24;
        else if (r < 44)
          v = 515;
        else if (r < 48)
          v = 511;
        l.at(i, j, k) = v;
      }
  return l;
}

CohortOptions small_options() {
  CohortOptions o;
  o.resolution_mm = 2.0;
  for (auto& s : o.scanners) s.fov_mm = {110, 110, 110};
  o.rotation_deg = 6;
  o.translation_mm = 5;
  return o;
}

double mean_abs(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t n = 0; n < a.size(); ++n) s += std::abs(a[n] - b[n]);
  return s / double(a.size());
}
}  // namespace

TEST(Scan, TruthIsTheSameAnatomyInBothSessionsUpToHeadPosition) {
  const LabelVolume anatomy = phantom();
  const CohortOptions o = small_options();
  SubjectPlan plan{"001", true, 0, 1234};
  const SubjectResult r = simulate_subject(plan, anatomy, o);
  const auto& A = r.sessions[0];
  const auto& B = r.sessions[1];
  const Vec3 c = brain_extent(anatomy).centre;
  const Geometry& ga = A.grid;
  const Geometry& gb = B.grid;
  double err = 0, err_ignoring_pose = 0, n = 0;
  for (std::size_t k = 0; k < ga.size[2]; ++k)
    for (std::size_t j = 0; j < ga.size[1]; ++j)
      for (std::size_t i = 0; i < ga.size[0]; ++i) {
        const Vec3 ya = ga.index_to_world({double(i), double(j), double(k)});
        // subject-frame point of this voxel, then where session B sees it
        const Vec3 d{ya[0] - c[0] - A.head_translation[0], ya[1] - c[1] - A.head_translation[1],
                     ya[2] - c[2] - A.head_translation[2]};
        const Vec3 x = mat_vec(mat_transpose(A.head_rotation), d);
        const Vec3 rb = mat_vec(B.head_rotation, x);
        const Vec3 yb{rb[0] + c[0] + B.head_translation[0], rb[1] + c[1] + B.head_translation[1],
                      rb[2] + c[2] + B.head_translation[2]};
        const float wa = r.images[0].wm.at(i, j, k);
        const float wb = sample_linear(r.images[1].wm, gb.world_to_index(yb), 0.0f);
        const float wb_naive = sample_linear(r.images[1].wm, gb.world_to_index(ya), 0.0f);
        err += std::abs(wa - wb);
        err_ignoring_pose += std::abs(wa - wb_naive);
        n += 1;
      }
  err /= n;
  err_ignoring_pose /= n;
  EXPECT_LT(err, 0.02);
  EXPECT_GT(err_ignoring_pose, 3 * err);
  // Both sessions hold the same amount of each tissue (mm^3), within partial-volume error.
  auto total = [](const Volume& v) {
    double s = 0;
    for (float x : v.data) s += x;
    return s * v.geom.spacing[0] * v.geom.spacing[1] * v.geom.spacing[2];
  };
  EXPECT_NEAR(total(r.images[0].wm) / total(r.images[1].wm), 1.0, 0.01);
  EXPECT_NEAR(total(r.images[0].gm) / total(r.images[1].gm), 1.0, 0.01);
}

TEST(Scan, DeterministicUnderSeedAndDifferentOtherwise) {
  const LabelVolume anatomy = phantom();
  const CohortOptions o = small_options();
  const SubjectResult a = simulate_subject({"001", false, 0, 99}, anatomy, o);
  const SubjectResult b = simulate_subject({"001", false, 0, 99}, anatomy, o);
  const SubjectResult c = simulate_subject({"001", false, 0, 100}, anatomy, o);
  EXPECT_EQ(a.images[0].t1w.data, b.images[0].t1w.data);
  EXPECT_EQ(a.images[1].t1w.data, b.images[1].t1w.data);
  EXPECT_EQ(a.images[1].dseg.data, b.images[1].dseg.data);
  EXPECT_GT(mean_abs(a.images[0].t1w.data, c.images[0].t1w.data), 1.0);
}

TEST(Scan, BackgroundNoiseIsRayleighWithTheProtocolSnr) {
  const LabelVolume anatomy = phantom();
  CohortOptions o = small_options();
  for (auto& s : o.scanners) s.fov_mm = {180, 180, 180};  // plenty of air around the head
  const SubjectResult r = simulate_subject({"001", false, 0, 5}, anatomy, o);
  for (int s = 0; s < 2; ++s) {
    const auto& sess = r.sessions[s];
    const auto& t = default_tissue_table();
    const double f = sess.protocol.field_tesla;
    const double sigma = sess.gain * mprage_signal(sess.protocol, t[kWM].t1(f), t[kWM].t2s(f), t[kWM].pd) / sess.snr;
    // Corner voxels are pure air: |n1 + i n2| has mean sigma sqrt(pi/2).
    double sum = 0, n = 0;
    const Volume& v = r.images[s].t1w;
    for (std::size_t k = 0; k < 12; ++k)
      for (std::size_t j = 0; j < 12; ++j)
        for (std::size_t i = 0; i < 12; ++i) sum += v.at(i, j, k), n += 1;
    EXPECT_NEAR(sum / n / (sigma * std::sqrt(M_PI / 2)), 1.0, 0.06) << "session " << s;
  }
}

TEST(Scan, ContrastDiffersBetweenScannersAsThePhysicsSays) {
  const LabelVolume anatomy = phantom();
  CohortOptions o = small_options();
  for (auto& s : o.scanners) s.bias = 0, s.snr = 1e6;
  o.t1_variation = o.pd_variation = 0;
  const SubjectResult r = simulate_subject({"001", false, 0, 8}, anatomy, o);
  for (int s = 0; s < 2; ++s) {
    double wm = 0, nw = 0, gm = 0, ng = 0;
    const auto& im = r.images[s];
    for (std::size_t n = 0; n < im.t1w.data.size(); ++n) {
      if (im.wm.data[n] > 0.999f) wm += im.t1w.data[n], nw += 1;
      if (im.gm.data[n] > 0.999f) gm += im.t1w.data[n], ng += 1;
    }
    ASSERT_GT(nw, 100);
    ASSERT_GT(ng, 10);
    EXPECT_NEAR((wm / nw) / (gm / ng), s == 0 ? 1.34 : 1.76, 0.03) << "session " << s;
  }
}

// Volume (mm^3) of the phantom's voxels with one of `labels`.
double label_volume(const LabelVolume& l, std::initializer_list<std::uint16_t> labels) {
  double n = 0;
  for (auto v : l.data)
    for (auto want : labels) n += v == want;
  return n * l.geom.spacing[0] * l.geom.spacing[1] * l.geom.spacing[2];
}

TEST(Anatomy, BoundariesMoveByTheRequestedDistance) {
  // The phantom's spheres: ventricle r < 8 mm, WM to 30, cortex to 36, CSF to 40.
  const LabelVolume base = phantom();
  const PatientChanges none;
  const double pi = 3.14159265358979;
  const double vent0 = label_volume(base, {4});
  const double cortex0 = label_volume(base, {3});

  AnatomyChange ventricles;
  ventricles.ventricles_mm = 4;
  const LabelVolume v = make_subject_anatomy(base, false, none, 7, ventricles).labels;
  // CSF inside the WM sphere: the ventricle's equivalent radius grows by about 4 mm.
  double inner_csf = 0;
  const auto& n = v.geom.size;
  for (std::size_t k = 0; k < n[2]; ++k)
    for (std::size_t j = 0; j < n[1]; ++j)
      for (std::size_t i = 0; i < n[0]; ++i) {
        const Vec3 w = v.geom.index_to_world({double(i), double(j), double(k)});
        if (std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]) < 25 && (v.at(i, j, k) == 4 || v.at(i, j, k) == 24))
          inner_csf += v.geom.spacing[0] * v.geom.spacing[1] * v.geom.spacing[2];
      }
  const double r0 = std::cbrt(3 * vent0 / (4 * pi)), r1 = std::cbrt(3 * inner_csf / (4 * pi));
  EXPECT_NEAR(r1 - r0, 4.0, 1.5);

  AnatomyChange thicker;  // negative pial move: the cortex grows into the CSF outside it
  thicker.pial_mm = -2;
  const LabelVolume t = make_subject_anatomy(base, false, none, 7, thicker).labels;
  EXPECT_NEAR((label_volume(t, {3}) - cortex0) / (4 * pi * 36 * 36), 2.0, 1.0);
  EXPECT_EQ(label_volume(t, {2}), label_volume(base, {2}));  // WM untouched

  AnatomyChange inward;  // positive grey/white move: the cortex grows into the WM
  inward.grey_white_mm = 2;
  const LabelVolume g = make_subject_anatomy(base, false, none, 7, inward).labels;
  EXPECT_NEAR((label_volume(g, {3}) - cortex0) / (4 * pi * 30 * 30), 2.0, 1.0);
  EXPECT_NEAR(label_volume(base, {2}) - label_volume(g, {2}), label_volume(g, {3}) - cortex0, 1e-6);
}

TEST(Anatomy, PatientsGetLesionsInWhiteMatterAndAtrophy) {
  const LabelVolume base = phantom();
  PatientChanges ch;
  ch.lesion_count = 5;
  ch.lesion_radius_mm = 3;
  ch.atrophy_mm = 2;
  const SubjectAnatomy healthy = make_subject_anatomy(base, false, ch, 1);
  EXPECT_EQ(healthy.labels.data, base.data);
  const SubjectAnatomy p = make_subject_anatomy(base, true, ch, 1);
  EXPECT_GE(p.lesion_count, 1);
  EXPECT_GT(p.lesion_volume_mm3, 0);
  EXPECT_GT(p.atrophy_csf_gain_mm3, 0);
  for (std::size_t n = 0; n < base.data.size(); ++n) {
    if (p.labels.data[n] == kLesionLabel) {
      ASSERT_EQ(base.data[n], 2) << "lesion outside WM";
    }
  }
}
