#include "preprocess/brain_mask.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/morphology.hpp"
#include "preprocess/resample.hpp"

namespace harmonize {

Mask template_brain_mask(const Volume& scan, const Volume& template_head, const Mask& template_brain,
                         const RegistrationOptions& o) {
  require_same_grid(template_brain.geom, template_head.geom,
                    "brain mask: the template brain mask is not on the template head's grid");
  const PairTransform t = register_images(scan, template_head, o);
  Volume soft(template_brain.geom, 0.0f);
  for (std::size_t n = 0; n < soft.data.size(); ++n) soft.data[n] = template_brain.data[n] ? 1.0f : 0.0f;
  const Volume warped = warp(soft, t, scan.geom, Interp::Linear);
  Mask m(scan.geom, 0);
  std::size_t count = 0;
  for (std::size_t n = 0; n < m.data.size(); ++n) count += (m.data[n] = warped.data[n] >= 0.5f);
  if (count == 0) throw Error("brain mask: the warped template mask is empty");
  Mask out = refine_mask(m, 1);
  log::debug("brain mask: " + std::to_string(count) + " voxels warped, refined to " +
             std::to_string(std::count(out.data.begin(), out.data.end(), std::uint8_t(1))));
  return out;
}

}  // namespace harmonize
