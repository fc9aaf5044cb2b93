#pragma once
// A paired cohort: every subject scanned on both protocols. Pure computation;
// reading anatomy and writing files belongs to the caller.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simulate/anatomy.hpp"
#include "simulate/scan.hpp"
#include "simulate/tissue.hpp"

namespace harmonize {

struct ScannerOptions {
  MprageProtocol protocol;
  double snr = 20;             // pure-WM signal / noise sd
  double bias = 0.1;           // sd of the log receive-bias field
  Vec3 fov_mm{176, 250, 234};  // left-right, anterior-posterior, superior-inferior
};

struct CohortOptions {
  int subjects = 40;
  int patients = 18;
  double resolution_mm = 1.0;
  std::uint64_t seed = 1;
  std::array<ScannerOptions, 2> scanners;  // [0] 1.5 T, [1] 3 T
  double deformation_mm = 2.0;             // sd of the smooth displacement
  double deformation_scale_mm = 40;        // its control-point spacing
  double shape_sd = 0.04;                  // sd of the global linear shape change
  AnatomyChange anatomy_sd;                // sd of each subject's boundary moves, mm (ventricles: growth only)
  double rotation_deg = 4;                 // sd of the head rotation per session and axis
  double translation_mm = 4;               // sd of the head translation per session and axis
  double t1_variation = 0.03;              // sd of the smooth relative T1 modulation
  double pd_variation = 0.02;              // sd of the smooth relative PD modulation
  double variation_scale_mm = 20;
  double bias_scale_mm = 100;
  double lesion_t1_1p5T = 1050, lesion_t1_3T = 1300;      // ms
  std::array<double, 2> wm_t1_ms = kDefaultWmT1;          // cerebral WM T1 {1.5 T, 3 T}
  std::array<double, 2> cortex_t1_ms = kDefaultCortexT1;  // cortex T1 {1.5 T, 3 T}; deep grey follows
  PatientChanges patient;
  double gain = 1000;

  CohortOptions();
};

nlohmann::json to_json(const CohortOptions& o);
void validate(const CohortOptions& o);

inline constexpr std::array<const char*, 2> kSessionNames{"1p5T", "3T"};

struct SubjectPlan {
  std::string id;  // "001"
  bool patient = false;
  int anatomy = 0;
  std::uint64_t seed = 0;
};

// Which subjects are patients (spread by the seed) and which anatomy each uses.
std::vector<SubjectPlan> plan_cohort(const CohortOptions& o, int n_anatomies);

struct SubjectResult {
  SubjectPlan plan;
  int lesion_count = 0;
  double lesion_volume_mm3 = 0;
  double atrophy_csf_gain_mm3 = 0;
  std::array<SessionSpec, 2> sessions;
  std::array<SessionImages, 2> images;
};

// Centre of mass and bounding box of the brain labels (world, mm).
struct BrainExtent {
  Vec3 centre{}, lo{}, hi{};
};
BrainExtent brain_extent(const LabelVolume& labels);

SubjectResult simulate_subject(const SubjectPlan& plan, const LabelVolume& anatomy, const CohortOptions& o);

}  // namespace harmonize
