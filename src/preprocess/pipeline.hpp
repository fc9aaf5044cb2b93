#pragma once
// The paper's preprocessing of a raw scan or a raw pair (PAPER.md,
// "Preprocessing"): brain mask -> N4 inside it -> 1 mm resampling -> clip at
// the 0.1/99.9 brain percentiles and scale to [0,1] -> (pairs) register the
// source session onto the target session, affine + deformable -> sagittal
// slices cropped/padded to 224x224 around the brain.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/volume.hpp"
#include "preprocess/crop.hpp"
#include "preprocess/intensity.hpp"
#include "preprocess/slicing.hpp"
#include "preprocess/transform.hpp"

namespace harmonize {

struct PreprocessOptions {
  double spacing_mm = 1.0;
  double percentile_lo = 0.1, percentile_hi = 99.9;
  int slice_height = 224, slice_width = 224;
  bool n4 = true;
  bool deformable = true;
  bool align_centres = true;  // start pair registration from aligned centres of mass (else scanner coordinates)
  std::string template_dir = "/usr/share/mricron/templates";
};
nlohmann::json to_json(const PreprocessOptions& o);
// Throws Error when a field is missing or of the wrong type.
void from_json(const nlohmann::json& j, PreprocessOptions& o);

// Seconds spent per step, accumulated.
using StepTimes = std::map<std::string, double>;

// Colin27 head and brain mask, read once (for brain extraction by template
// registration when no mask is given).
struct BrainTemplate {
  Volume head;
  Mask brain;
  static BrainTemplate load(const std::string& dir);
};

struct PreparedScan {
  Volume image;            // normalised, on the isotropic grid
  Mask brain;              // on the same grid
  IntensityWindow window;  // raw (N4-corrected) intensities mapped to 0 and 1
  Geometry input_grid;     // the raw scan's grid
  Mask input_brain;        // the brain mask on input_grid (given or computed)
  Box input_box;           // the part of input_grid the work covered (all of it unless the head is small in it)
};

// One scan. `mask`, if given, must lie on the scan's grid. `name` is used in
// error messages (the file name).
PreparedScan prepare_scan(const std::string& name, const Volume& raw, const Mask* mask, const BrainTemplate* tmpl,
                          const PreprocessOptions& o, StepTimes& times);

struct PreparedPair {
  PreparedScan target, source;     // each in its own space
  PairTransform source_to_target;  // maps target points into the source
  Volume source_on_target;         // source image on the target grid, 0 outside the target brain
  SliceLayout layout;              // shared by both stacks (target grid)
  Volume target_slices, source_slices;
};

// A pair: both scans prepared, the source registered onto the target. Throws
// if they do not overlap after registration.
PreparedPair prepare_pair(const std::string& source_name, const Volume& source_raw, const Mask* source_mask,
                          const std::string& target_name, const Volume& target_raw, const Mask* target_mask,
                          const BrainTemplate* tmpl, const PreprocessOptions& o, StepTimes& times);

}  // namespace harmonize
