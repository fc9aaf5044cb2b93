#pragma once
// Brain extraction by template registration: a template head with a known
// brain mask is registered to the scan and its mask carried over, then tidied.
#include "core/morphology.hpp"
#include "core/volume.hpp"
#include "preprocess/registration.hpp"

namespace harmonize {

// The template registration's options: the defaults with every voxel in the
// metric. Template and scan are different heads, often oblique; with 10 %
// sampled, 12 % of an oblique scanner-form scan's harmonized voxels fell
// outside its brain (tests/cli/test_bids_cli.cpp) against < 10 %.
inline RegistrationOptions template_registration() {
  RegistrationOptions o;
  o.sampling = 0;
  return o;
}

// Registers `template_head` (moving) to `scan` (fixed), warps
// `template_brain` (non-zero = brain, on the template's grid) onto the scan's
// grid (linear interpolation of the 0/1 mask, threshold 0.5) and refines it
// (refine_mask). Throws Error when the registration fails or the mask comes
// out empty.
Mask template_brain_mask(const Volume& scan, const Volume& template_head, const Mask& template_brain,
                         const RegistrationOptions& o = template_registration());

}  // namespace harmonize
