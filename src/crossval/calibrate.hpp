#pragma once
// The calibration of one fold's model (plan.calibrate, plan.volume_fit): the
// model harmonizes every third brain slice of the fold's training subjects,
// without end noise. The main output's end noise is added and the quantile map
// from those slices to the same subjects' target scans (brain voxels of the
// harmonized slices: the same anatomy on both sides) is saved as
// calibration.json in the model folder. With the volume fit, the model also
// harmonizes every slice of every fourth training subject; the end noise whose
// outputs (through the map refitted on the slices with that noise) give those
// subjects the tissue volumes of their target scans' segmentations, and its
// map, are saved as calibration-volumes.json (crossval/noise_fit.hpp). A
// rerun reads them back.
#include <optional>
#include <string>
#include <vector>

#include "crossval/layout.hpp"
#include "crossval/noise_fit.hpp"
#include "crossval/plan.hpp"
#include "harmonize/correction.hpp"
#include "harmonize/sample.hpp"
#include "harmonize/scan.hpp"

namespace harmonize {

// Subjects' preprocessed images of `session` with their brain masks, as
// sample_scans takes them, and the options that sample them as they are
// (ScanOptions::preprocessed; slices cut as the plan's preprocessing cut them).
std::vector<ScanInput> preprocessed_scans(const CrossvalLayout& layout, const std::vector<std::string>& subjects,
                                          const std::string& session);
// One of them.
ScanInput preprocessed_scan(const CrossvalLayout& layout, const std::string& subject, const std::string& session);
ScanOptions preprocessed_options(const CrossvalPlan& plan, const HarmonizeOptions& h);

struct ModelCalibration {
  Correction main;                   // the main output's end noise and map
  std::optional<Correction> fitted;  // the volume-fitted output's
};

// `h`: the fold's sampling options and seed (crossval_seeds::sampling);
// `training`: the fold's training subjects.
ModelCalibration calibrate_model(const CrossvalPlan& plan, const CrossvalLayout& layout, int fold,
                                 const std::string& direction, const LoadedModel& model, const HarmonizeOptions& h,
                                 double end_noise, const std::vector<std::string>& training);

}  // namespace harmonize
