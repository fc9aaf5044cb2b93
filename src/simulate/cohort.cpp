#include "simulate/cohort.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace harmonize {

CohortOptions::CohortOptions() {
  scanners[0].protocol = protocol_1p5T();
  scanners[0].snr = 20;
  scanners[0].bias = 0.08;
  scanners[0].fov_mm = {176, 250, 234};
  scanners[1].protocol = protocol_3T();
  scanners[1].snr = 26;
  scanners[1].bias = 0.15;
  scanners[1].fov_mm = {176, 256, 240};
}

nlohmann::json to_json(const CohortOptions& o) {
  nlohmann::json scanners = nlohmann::json::array();
  const TissueTable tissues = tissue_table(o.wm_t1_ms, o.cortex_t1_ms);
  for (const auto& s : o.scanners) {
    const auto& p = s.protocol;
    // The grey/white contrast this protocol and these T1 values give (pure tissues, no bias).
    auto signal = [&](Tissue t) {
      const double b = p.field_tesla;
      return mprage_signal(p, tissues[t].t1(b), tissues[t].t2s(b), tissues[t].pd);
    };
    scanners.push_back({{"name", p.name},
                        {"field_tesla", p.field_tesla},
                        {"tr_ms", p.tr_ms},
                        {"ti_ms", p.ti_ms},
                        {"te_ms", p.te_ms},
                        {"flip_deg", p.flip_deg},
                        {"echo_spacing_ms", p.echo_spacing_ms},
                        {"excitations", p.excitations},
                        {"inversion_efficiency", p.inversion_efficiency},
                        {"wm_gm_signal_ratio", signal(kWM) / signal(kCortex)},
                        {"snr", s.snr},
                        {"bias", s.bias},
                        {"fov_mm", s.fov_mm}});
  }
  return {{"subjects", o.subjects},
          {"patients", o.patients},
          {"resolution_mm", o.resolution_mm},
          {"seed", o.seed},
          {"scanners", scanners},
          {"deformation_mm", o.deformation_mm},
          {"deformation_scale_mm", o.deformation_scale_mm},
          {"shape_sd", o.shape_sd},
          {"ventricle_sd_mm", o.anatomy_sd.ventricles_mm},
          {"pial_sd_mm", o.anatomy_sd.pial_mm},
          {"grey_white_sd_mm", o.anatomy_sd.grey_white_mm},
          {"rotation_deg", o.rotation_deg},
          {"translation_mm", o.translation_mm},
          {"t1_variation", o.t1_variation},
          {"pd_variation", o.pd_variation},
          {"variation_scale_mm", o.variation_scale_mm},
          {"bias_scale_mm", o.bias_scale_mm},
          {"lesion_t1_1p5T_ms", o.lesion_t1_1p5T},
          {"lesion_t1_3T_ms", o.lesion_t1_3T},
          {"wm_t1_ms", o.wm_t1_ms},
          {"cortex_t1_ms", o.cortex_t1_ms},
          {"atrophy_mm", o.patient.atrophy_mm},
          {"lesion_count", o.patient.lesion_count},
          {"lesion_radius_mm", o.patient.lesion_radius_mm},
          {"periventricular_fraction", o.patient.periventricular},
          {"gain", o.gain}};
}

void validate(const CohortOptions& o) {
  if (o.subjects < 1) throw UsageError("subjects must be at least 1");
  if (o.patients < 0 || o.patients > o.subjects) throw UsageError("patients must be between 0 and subjects");
  if (!(o.resolution_mm >= 0.5 && o.resolution_mm <= 4)) throw UsageError("resolution_mm must be in [0.5, 4] mm");
  for (const auto& s : o.scanners) {
    validate(s.protocol);
    if (!(s.snr > 0)) throw UsageError("SNR must be positive");
    if (s.bias < 0) throw UsageError("bias strength must be >= 0");
  }
  if (o.deformation_mm < 0 || o.shape_sd < 0 || o.anatomy_sd.ventricles_mm < 0 || o.anatomy_sd.pial_mm < 0 ||
      o.anatomy_sd.grey_white_mm < 0 || o.rotation_deg < 0 || o.translation_mm < 0 || o.t1_variation < 0 ||
      o.pd_variation < 0 || o.patient.atrophy_mm < 0 || o.patient.lesion_count < 0 || o.patient.lesion_radius_mm <= 0)
    throw UsageError("simulation knobs must be non-negative (lesion radius positive)");
  for (int s = 0; s < 2; ++s)
    if (!(o.wm_t1_ms[s] > 0 && o.cortex_t1_ms[s] > 0)) throw UsageError("WM and cortex T1 must be positive (ms)");
  if (o.deformation_mm > 6) throw UsageError("deformation_mm above 6 mm may fold the anatomy");
}

std::vector<SubjectPlan> plan_cohort(const CohortOptions& o, int n_anatomies) {
  if (n_anatomies < 1) throw Error("plan_cohort: no anatomy");
  std::vector<bool> patient(o.subjects, false);
  for (int i = 0; i < o.patients; ++i) patient[i] = true;
  Rng rng(derive_seed(o.seed, 0));
  for (int i = o.subjects - 1; i > 0; --i) {  // Fisher-Yates
    const int j = int(rng.below(std::uint64_t(i) + 1));
    const bool t = patient[i];
    patient[i] = patient[j];
    patient[j] = t;
  }
  std::vector<SubjectPlan> plans;
  for (int i = 0; i < o.subjects; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%03d", i + 1);
    plans.push_back({id, bool(patient[i]), i % n_anatomies, derive_seed(o.seed, std::uint64_t(i) + 1)});
  }
  return plans;
}

BrainExtent brain_extent(const LabelVolume& labels) {
  const auto& n = labels.geom.size;
  double sum[3] = {0, 0, 0}, count = 0;
  BrainExtent e;
  e.lo = {1e30, 1e30, 1e30};
  e.hi = {-1e30, -1e30, -1e30};
  for (std::size_t k = 0; k < n[2]; k += 2)
    for (std::size_t j = 0; j < n[1]; j += 2)
      for (std::size_t i = 0; i < n[0]; i += 2) {
        const Tissue t = tissue_of_label(labels.at(i, j, k));
        if (t == kAir || default_tissue_table()[t].truth == TruthClass::None) continue;
        sum[0] += double(i), sum[1] += double(j), sum[2] += double(k), count += 1;
        const Vec3 w = labels.geom.index_to_world({double(i), double(j), double(k)});
        for (int a = 0; a < 3; ++a) e.lo[a] = std::min(e.lo[a], w[a]), e.hi[a] = std::max(e.hi[a], w[a]);
      }
  if (count == 0) throw Error("anatomy has no brain labels");
  e.centre = labels.geom.index_to_world({sum[0] / count, sum[1] / count, sum[2] / count});
  return e;
}

SubjectResult simulate_subject(const SubjectPlan& plan, const LabelVolume& anatomy, const CohortOptions& o) {
  SubjectResult r;
  r.plan = plan;
  const std::uint64_t seed = plan.seed;
  // The ventricles only grow (the default anatomy, Colin27, is a young adult's
  // brain with small ventricles); the cortex thins or thickens.
  Rng change_rng(derive_seed(seed, 12));
  AnatomyChange change;
  change.ventricles_mm = std::abs(change_rng.normal()) * o.anatomy_sd.ventricles_mm;
  change.pial_mm = change_rng.normal() * o.anatomy_sd.pial_mm;
  change.grey_white_mm = change_rng.normal() * o.anatomy_sd.grey_white_mm;
  SubjectAnatomy subj = make_subject_anatomy(anatomy, plan.patient, o.patient, derive_seed(seed, 4), change);
  r.lesion_count = subj.lesion_count;
  r.lesion_volume_mm3 = subj.lesion_volume_mm3;
  r.atrophy_csf_gain_mm3 = subj.atrophy_csf_gain_mm3;

  SubjectModel m;
  m.labels = &subj.labels;
  const BrainExtent extent = brain_extent(subj.labels);
  m.centre = extent.centre;
  const Vec3 lo{m.centre[0] - 150, m.centre[1] - 150, m.centre[2] - 150};
  const Vec3 hi{m.centre[0] + 150, m.centre[1] + 150, m.centre[2] + 150};
  Rng shape_rng(derive_seed(seed, 11));
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      m.shape[a * 3 + b] = (a == b ? 1.0 : 0.0) + shape_rng.normal() * o.shape_sd * (a == b ? 1.0 : 0.3);
  m.deformation = SmoothVectorField(lo, hi, o.deformation_scale_mm, o.deformation_mm, derive_seed(seed, 1));
  m.t1_variation = SmoothField(lo, hi, o.variation_scale_mm, o.t1_variation, derive_seed(seed, 2));
  m.pd_variation = SmoothField(lo, hi, o.variation_scale_mm, o.pd_variation, derive_seed(seed, 3));
  m.tissues = tissue_table(o.wm_t1_ms, o.cortex_t1_ms);
  m.tissues[kLesion].t1_1p5 = o.lesion_t1_1p5T;
  m.tissues[kLesion].t1_3 = o.lesion_t1_3T;

  for (int s = 0; s < 2; ++s) {
    const ScannerOptions& sc = o.scanners[s];
    SessionSpec& sess = r.sessions[s];
    sess.protocol = sc.protocol;
    Geometry& g = sess.grid;
    for (int a = 0; a < 3; ++a) {
      g.spacing[a] = o.resolution_mm;
      g.size[a] = std::size_t(std::lround(sc.fov_mm[a] / o.resolution_mm));
    }
    // LPS axes; the field of view centred on the brain left-right and
    // anterior-posterior, its top 30 mm above the top of the brain (as a
    // radiographer places an MPRAGE slab).
    g.direction = mat_identity();
    const Vec3 centre{0.5 * (extent.lo[0] + extent.hi[0]), 0.5 * (extent.lo[1] + extent.hi[1]),
                      extent.hi[2] + 30 - 0.5 * (g.size[2] - 1) * g.spacing[2]};
    for (int a = 0; a < 3; ++a) g.origin[a] = centre[a] - 0.5 * (g.size[a] - 1) * g.spacing[a];
    Rng pose(derive_seed(seed, 5 + s));
    const double deg = M_PI / 180.0;
    sess.head_rotation = rotation_xyz(pose.normal() * o.rotation_deg * deg, pose.normal() * o.rotation_deg * deg,
                                      pose.normal() * o.rotation_deg * deg);
    sess.head_translation = {pose.normal() * o.translation_mm, pose.normal() * o.translation_mm,
                             pose.normal() * o.translation_mm};
    const Vec3 blo{centre[0] - 150, centre[1] - 150, centre[2] - 150};
    const Vec3 bhi{centre[0] + 150, centre[1] + 150, centre[2] + 150};
    sess.log_bias = SmoothField(blo, bhi, o.bias_scale_mm, sc.bias, derive_seed(seed, 7 + s));
    sess.snr = sc.snr;
    sess.gain = o.gain;
    sess.noise_seed = derive_seed(seed, 9 + s);
    r.images[s] = render_session(m, sess);
  }
  return r;
}

}  // namespace harmonize
