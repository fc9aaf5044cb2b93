#pragma once
// Anatomy for the simulator: label maps (FreeSurfer values) and the per-subject
// changes made to them (MS lesions, atrophy), all in the anatomy's own space.
#include <cstdint>

#include "core/volume.hpp"

namespace harmonize {

// Colin27 intensity model (the embedded default anatomy):
//  - `brain` (ch2better, 0.5 mm, brain-extracted): voxels > 0 are brain; a
//    3-class k-means on their intensities gives CSF / cortex / WM (each voxel to
//    the nearest class mean);
//  - `head` (ch2, 1 mm, with scalp): voxels > 0 with holes filled are the head;
//    head voxels outside the brain are split by a 3-class k-means into bone
//    (darkest), soft tissue and fat (brightest).
// The result is a label map on a 0.5 mm grid covering the head image.
LabelVolume colin_labels(const Volume& brain, const Volume& head);

struct PatientChanges {
  double atrophy_mm = 1.0;        // ventricles grow by this much into WM; cortex thins by half of it
  double lesion_count = 12;       // mean number of lesions (Poisson, at least one)
  double lesion_radius_mm = 2.5;  // mean lesion radius
  double periventricular = 0.6;   // fraction of lesions near the ventricles (rest juxtacortical)
};

// How one subject's brain differs from the anatomy it is made from (every
// subject, before a patient's changes): signed moves of three tissue
// boundaries, mm. Positive: the ventricles grow into the WM, the cortex thins
// from its outer (pial) side, the cortex grows into the WM; negative: the
// opposite (smaller ventricles, sulci filled by cortex, WM grown into cortex).
struct AnatomyChange {
  double ventricles_mm = 0;
  double pial_mm = 0;
  double grey_white_mm = 0;
};

struct SubjectAnatomy {
  LabelVolume labels;
  int lesion_count = 0;
  double lesion_volume_mm3 = 0;
  double atrophy_csf_gain_mm3 = 0;  // CSF volume added by atrophy
};

// The anatomy moved by `change` (none by default); then, for a patient,
// atrophy and lesions (label 77) placed inside cerebral WM, periventricular or
// juxtacortical.
SubjectAnatomy make_subject_anatomy(const LabelVolume& base, bool patient, const PatientChanges& changes,
                                    std::uint64_t seed, const AnatomyChange& change = {});

}  // namespace harmonize
