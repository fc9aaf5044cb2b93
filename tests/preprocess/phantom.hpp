#pragma once
// Shared test material: an asymmetric synthetic head (so that a rigid pose is
// recoverable from it) at 2 mm, simulation options for small fast pairs, Dice.
#include "core/overlap.hpp"
#include "core/volume.hpp"
#include "simulate/cohort.hpp"

namespace harmonize::test {

// Ellipsoidal brain (semi-axes 34, 42, 32 mm): WM core, 6 mm cortex, 6 mm
// CSF, 4 mm bone, 4 mm fat; two off-centre ventricles and two deep grey
// nuclei break every symmetry. 2 mm voxels, 64^3.
LabelVolume asymmetric_phantom();

// 2 mm sessions with a 110 x 130 x 110 mm field of view and head poses of
// 6 degrees / 5 mm sd per axis.
CohortOptions small_pair_options();

using harmonize::dice;
using harmonize::mean_tissue_dice;

// Where the subject point seen at fixed-session scanner point y appears in
// the moving session (the simulator's head poses, about the brain centre c).
Vec3 true_moving_point(const SessionSpec& fixed, const SessionSpec& moving, const Vec3& c, const Vec3& y);

}  // namespace harmonize::test
