#pragma once
// Tissue types of the simulator, their relaxation values at 1.5 T and 3 T
// (PHYSICS.md; deep grey nuclei interpolated between WM and cortex as it
// describes), and the mapping from FreeSurfer / SynthSeg label values.
#include <array>
#include <cstdint>
#include <string>

namespace harmonize {

enum class TruthClass : std::uint8_t { None = 0, CSF = 1, GM = 2, WM = 3 };

enum Tissue : std::uint8_t {
  kAir = 0,
  kWM,            // cerebral white matter
  kCortex,        // cerebral cortex
  kCSF,           // ventricles and extra-cerebral CSF
  kThalamus,      // deep grey, nearer WM
  kPallidum,      // deep grey, nearest WM
  kStriatum,      // caudate, putamen, accumbens: nearer cortex
  kLimbic,        // hippocampus, amygdala
  kCerebellarGM,  // GM-like
  kCerebellarWM,
  kBrainstem,   // brain stem, ventral DC: WM-like
  kLesion,      // T1-hypointense MS lesion (simulated, label 77)
  kFat,         // scalp / subcutaneous fat
  kSoftTissue,  // muscle, skin, other soft tissue
  kBone,        // skull
  kMarrow,      // diploe / fatty marrow
  kEye,         // vitreous
  kTissueCount
};

struct TissueProps {
  const char* name;
  double t1_1p5, t1_3;    // ms
  double t2s_1p5, t2s_3;  // ms
  double pd;              // fraction of water
  TruthClass truth;
  // Relaxation at a field strength (1.5 T values below 2.25 T, else 3 T).
  double t1(double tesla) const { return tesla < 2.25 ? t1_1p5 : t1_3; }
  double t2s(double tesla) const { return tesla < 2.25 ? t2s_1p5 : t2s_3; }
};

// The table (a copy, so that options such as the lesion T1 can change it).
using TissueTable = std::array<TissueProps, kTissueCount>;
TissueTable default_tissue_table();
// The table with other cerebral WM and cortex T1 values ({1.5 T, 3 T}, ms):
// the deep grey nuclei and cerebellum follow them as in the default table.
inline constexpr std::array<double, 2> kDefaultWmT1{646, 838}, kDefaultCortexT1{1197, 1607};
TissueTable tissue_table(const std::array<double, 2>& wm_t1, const std::array<double, 2>& cortex_t1);

// FreeSurfer label -> tissue (SynthSeg's extra-cerebral labels 500+ included).
Tissue tissue_of_label(std::uint16_t label);

// The label value the simulator writes for a lesion voxel (FreeSurfer's
// WM-hypointensities).
inline constexpr std::uint16_t kLesionLabel = 77;
// Label values used for anatomy made from intensity images (Colin27).
inline constexpr std::uint16_t kLabelWM = 2, kLabelCortex = 3, kLabelCSF = 24, kLabelFat = 511, kLabelSoftTissue = 507,
                               kLabelBone = 515;

}  // namespace harmonize
