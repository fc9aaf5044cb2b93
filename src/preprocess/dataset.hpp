#pragma once
// Preprocessing a whole BIDS dataset (every raw pair of two sessions), or one
// raw scan, into the folder the model is trained and applied on (`harmonize
// preprocess`). The layout of what is written is bids/layout.hpp's:
//   <work>/<sub>/<ses>/anat/<sub>_<ses>_desc-preproc_T1w.nii.gz, ..._desc-brain_mask.nii.gz (each session)
//   <work>/<sub>/<source ses>/anat/<sub>_<ses>_space-ses<T>_desc-preproc_T1w.nii.gz (source on the target grid)
//   <work>/<sub>/xfm/<sub>_from-ses<S>_to-ses<T>_*       (the pair's transform)
//   <work>/<sub>/slices/<sub>_<ses>[_space-ses<T>]_slices.hvol
//   <work>/dataset.json, <work>/dataset_description.json
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "preprocess/pipeline.hpp"

namespace harmonize {

struct DatasetOptions {
  PreprocessOptions prep;
  std::string source_session = "ses-1p5T";  // registered onto the target session
  std::string target_session = "ses-3T";    // whose grid the pair shares
  std::string mask_dir;                     // BIDS-derivatives folder of brain masks ("" = template registration)
  std::vector<std::string> subjects;        // only these (empty = all pairs)
};
nlohmann::json to_json(const DatasetOptions& o);
// Keys absent from j keep their defaults.
void from_json(const nlohmann::json& j, DatasetOptions& o);

// Throws UsageError naming the field for values out of range (spacing_mm,
// percentile_lo/percentile_hi).
void validate(const PreprocessOptions& o);

// The raw scans (and brain masks, with mask_dir) of one subject's pair.
struct PairJob {
  std::string id, source_scan, target_scan, source_mask, target_mask;
};

// The pairs of a dataset, sorted by subject, restricted to o.subjects when
// given; subjects without both scans are skipped with a warning. Validates
// the options and the folder before any heavy work: throws UsageError for
// option values, InputError naming `bids` when it is missing or holds no pair.
std::vector<PairJob> find_pairs(const std::string& bids, const DatasetOptions& o);

// Whether a run must register the Colin27 template for brain masks (no masks given).
inline bool needs_template(const DatasetOptions& o) { return o.mask_dir.empty(); }

// Preprocesses `jobs` into work_dir (which exists), subjects in parallel over
// harmonize's threads, and writes work_dir/dataset.json and
// dataset_description.json; returns the dataset.json content. `tmpl` is needed
// when the jobs have no masks. `versions` is recorded as dataset.json "harmonize".
nlohmann::json preprocess_pairs(const std::vector<PairJob>& jobs, const BrainTemplate* tmpl,
                                const std::string& work_dir, const DatasetOptions& o, const nlohmann::json& versions);
// find_pairs, the template if needed, then preprocess_pairs.
nlohmann::json preprocess_dataset(const std::string& bids, const std::string& work_dir, const DatasetOptions& o,
                                  const nlohmann::json& versions);

// Reads a raw scan and its mask ("" = none) to check them before heavy work
// (throws InputError naming the file).
void check_scan_inputs(const std::string& scan, const std::string& mask);
// One raw scan (`preprocess --input`): <stem>_desc-preproc_T1w.nii.gz,
// <stem>_desc-brain_mask.nii.gz and <stem>_slices.hvol into work_dir, where
// <stem> is the scan's file name without its extension and "_T1w"; writes
// dataset.json (its "scan" entry) and dataset_description.json and returns the
// dataset.json content. `mask` "" = by registering the template: `tmpl`, or
// loaded from o.prep.template_dir when null. o.mask_dir and o.subjects are unused.
nlohmann::json preprocess_scan(const std::string& scan, const std::string& mask, const std::string& work_dir,
                               const DatasetOptions& o, const nlohmann::json& versions,
                               const BrainTemplate* tmpl = nullptr);

}  // namespace harmonize
