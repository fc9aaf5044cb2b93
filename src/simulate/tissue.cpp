#include "simulate/tissue.hpp"

namespace harmonize {

TissueTable default_tissue_table() { return tissue_table(kDefaultWmT1, kDefaultCortexT1); }

TissueTable tissue_table(const std::array<double, 2>& wm_t1, const std::array<double, 2>& cortex_t1) {
  // WM and cortex by default: Wright 2008 (1.5 T), Wansapura 1999 / Peters
  // 2007 (3 T), as in PHYSICS.md. Deep grey T1 = WM + f (cortex - WM), f as
  // noted; cerebellar WM keeps its default ratio to cerebral WM.
  const double w1 = wm_t1[0], w3 = wm_t1[1], c1 = cortex_t1[0], c3 = cortex_t1[1];
  auto between = [](double wm, double gm, double f) { return wm + f * (gm - wm); };
  using T = TruthClass;
  TissueTable t{};
  t[kAir] = {"air", 1000, 1000, 1, 1, 0.0, T::None};
  t[kWM] = {"white matter", w1, w3, 66, 53, 0.65, T::WM};
  t[kCortex] = {"cortex", c1, c3, 84, 66, 0.78, T::GM};
  t[kCSF] = {"CSF", 4200, 4100, 400, 300, 0.97, T::CSF};
  t[kThalamus] = {"thalamus", between(w1, c1, 0.35), between(w3, c3, 0.35), 72, 58, 0.70, T::GM};
  t[kPallidum] = {"pallidum", between(w1, c1, 0.25), between(w3, c3, 0.25), 70, 56, 0.69, T::GM};
  t[kStriatum] = {"striatum", between(w1, c1, 0.75), between(w3, c3, 0.75), 80, 63, 0.75, T::GM};
  t[kLimbic] = {"hippocampus/amygdala", between(w1, c1, 0.95), between(w3, c3, 0.95), 82, 65, 0.78, T::GM};
  t[kCerebellarGM] = {"cerebellar cortex", between(w1, c1, 0.9), between(w3, c3, 0.9), 82, 64, 0.78, T::GM};
  t[kCerebellarWM] = {"cerebellar WM", w1 * 665.0 / 646.0, w3 * 863.0 / 838.0, 64, 52, 0.66, T::WM};
  t[kBrainstem] = {"brain stem / ventral DC", between(w1, c1, 0.15), between(w3, c3, 0.15), 68, 54, 0.67, T::WM};
  t[kLesion] = {"MS lesion", 1050, 1300, 75, 60, 0.80, T::WM};
  t[kFat] = {"fat", 260, 380, 50, 35, 0.90, T::None};
  t[kSoftTissue] = {"soft tissue", 1000, 1400, 30, 25, 0.75, T::None};
  t[kBone] = {"bone", 300, 400, 1.0, 0.8, 0.05, T::None};
  t[kMarrow] = {"marrow", 300, 420, 20, 15, 0.50, T::None};
  t[kEye] = {"vitreous", 4000, 3900, 200, 150, 0.95, T::None};
  return t;
}

Tissue tissue_of_label(std::uint16_t label) {
  switch (label) {
    case 0:
      return kAir;
    case 2:
    case 41:
    case 25:
    case 57:
    case 85:
      return kWM;
    case 3:
    case 42:
      return kCortex;
    case 4:
    case 5:
    case 14:
    case 15:
    case 24:
    case 31:
    case 43:
    case 44:
    case 63:
    case 72:
      return kCSF;
    case 7:
    case 46:
      return kCerebellarWM;
    case 8:
    case 47:
      return kCerebellarGM;
    case 10:
    case 49:
      return kThalamus;
    case 11:
    case 12:
    case 26:
    case 50:
    case 51:
    case 58:
      return kStriatum;
    case 13:
    case 52:
      return kPallidum;
    case 16:
    case 28:
    case 60:
      return kBrainstem;
    case 17:
    case 18:
    case 53:
    case 54:
      return kLimbic;
    case 30:
    case 62:
      return kStriatum;  // vessels: mid-grey on T1w
    case kLesionLabel:
      return kLesion;
    case 506:
      return kEye;
    case 511:
      return kFat;
    case 515:
      return kBone;
    case 516:
      return kMarrow;
    default:
      break;
  }
  if (label >= 500) return kSoftTissue;
  return kCortex;  // remaining small intracranial labels (e.g. 136/137/163/164)
}

}  // namespace harmonize
