#pragma once
// One simulated MPRAGE session of one subject: the subject's anatomy placed in
// the scanner with its head position, imaged with a protocol, plus the truth
// maps on the same grid.
#include <cstdint>

#include "core/volume.hpp"
#include "simulate/mprage.hpp"
#include "simulate/random_field.hpp"
#include "simulate/tissue.hpp"

namespace harmonize {

// What belongs to the subject and is shared by both sessions.
struct SubjectModel {
  const LabelVolume* labels = nullptr;  // anatomy (with lesions/atrophy), anatomy space
  Vec3 centre{};                        // head centre, anatomy world coordinates
  Mat3 shape = mat_identity();          // global linear shape change about the centre
  SmoothVectorField deformation;        // smooth displacement (mm), subject space
  SmoothField t1_variation;             // relative T1 modulation, anatomy space
  SmoothField pd_variation;             // relative PD modulation, anatomy space
  TissueTable tissues = default_tissue_table();
};

// What belongs to one session.
struct SessionSpec {
  MprageProtocol protocol;
  Geometry grid;  // the scanner's image grid (world = scanner frame)
  Mat3 head_rotation = mat_identity();
  Vec3 head_translation{};  // mm
  SmoothField log_bias;     // receive bias (log), scanner frame
  double snr = 25;          // signal of pure WM / noise sd
  double gain = 1000;       // arbitrary units of the magnitude image
  std::uint64_t noise_seed = 0;
};

struct SessionImages {
  Volume t1w;
  Volume csf, gm, wm;  // tissue fractions in [0, 1]
  Mask brain;          // CSF+GM+WM fraction >= 0.5
  Mask lesion;         // lesion fraction >= 0.5
  Mask dseg;           // 0 background, 1 CSF, 2 GM, 3 WM (largest fraction)
};

// Maps a scanner-frame point to the subject's anatomy (label-map world) frame.
Vec3 scanner_to_anatomy(const SubjectModel& subject, const SessionSpec& session, const Vec3& y);

// Renders the session. Partial volume: each voxel averages 2x2x2 sub-samples,
// each trilinearly weighted over the label map; the signal of a voxel is the
// fraction-weighted sum of the MPRAGE signals of its tissues (with the shared
// T1/PD modulation), times the bias field, with Rician noise.
SessionImages render_session(const SubjectModel& subject, const SessionSpec& session);

}  // namespace harmonize
