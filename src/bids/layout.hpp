#pragma once
// Where things lie in a BIDS dataset and in harmonize's derivatives: every
// path harmonize reads or writes under a dataset root is made here, so the
// naming lives in one place. Plain string joining ("<root>/<sub>/..."): a root
// is used exactly as given (no normalisation), so the names recorded in
// outputs stay as they were.
#include <string>
#include <vector>

namespace harmonize::bids {

// "ses-3T" -> "3T" (a name without "ses-" is returned as it is)
std::string session_label(const std::string& ses);
// <root>/<sub>
std::string subject_dir(const std::string& root, const std::string& sub);
// <root>/<sub>/<ses>/anat
std::string anat_dir(const std::string& root, const std::string& sub, const std::string& ses);

// Optional entities of a derivative file name, written in this order: space, label, desc.
struct Entities {
  std::string space{}, label{}, desc{};  // ({}: so designated initialisers may leave any out)
};
// <stem>[_space-X][_label-Y][_desc-Z]_<suffix><ext> (a file name, no folder)
std::string file_name(const std::string& stem, const std::string& suffix, const Entities& e = {},
                      const std::string& ext = ".nii.gz");
// <root>/<sub>/<ses>/anat/<sub>_<ses>[_space-X][_label-Y][_desc-Z]_<suffix><ext>
std::string file(const std::string& root, const std::string& sub, const std::string& ses, const std::string& suffix,
                 const Entities& e = {}, const std::string& ext = ".nii.gz");
// The raw scan: ..._T1w.nii.gz
std::string t1w(const std::string& root, const std::string& sub, const std::string& ses);
// ..._desc-brain_mask.nii.gz
std::string brain_mask(const std::string& root, const std::string& sub, const std::string& ses);
// ..._label-<cls>_probseg.nii.gz
std::string probseg(const std::string& root, const std::string& sub, const std::string& ses, const std::string& cls);
// ..._label-lesion_mask.nii.gz
std::string lesion_mask(const std::string& root, const std::string& sub, const std::string& ses);

// The truth of a simulated dataset: <bids>/derivatives/truth
std::string truth_root(const std::string& bids);
// A subject's head positions in the truth: <truth>/<sub>/<sub>_pose.json
std::string pose(const std::string& truth, const std::string& sub);

// The sorted "sub-*" folders of root (none if root is not a folder).
std::vector<std::string> subjects(const std::string& root);
// Subjects (sorted "sub-*" folders of root) that have a T1w scan in both sessions.
std::vector<std::string> paired_subjects(const std::string& root, const std::string& ses_a, const std::string& ses_b);

// A T1w scan of a raw BIDS dataset, as the BIDS app finds it.
struct ScanFile {
  std::string sub;                                  // "sub-01"
  std::string ses;                                  // "ses-A", or "" in a dataset without sessions
  std::string dir;                                  // relative to the root: "sub-01/ses-A/anat" (or "sub-01/anat")
  std::string stem;                                 // the name before "_T1w": "sub-01_ses-A_run-1"
  std::string ext;                                  // ".nii.gz" or ".nii"
  std::string relative() const;                     // dir/stem_T1w.ext
  std::string path(const std::string& root) const;  // root/relative()
  // The same place in a derivatives dataset: <out>/<dir>/<stem>[_space-][_label-][_desc-]_<suffix><ext>
  std::string derivative(const std::string& out, const std::string& suffix, const Entities& e,
                         const std::string& ext) const;
};
// "01" or "sub-01" -> "sub-01" (prefix "sub-"; likewise "ses-").
std::string with_prefix(const std::string& prefix, const std::string& label);
// Every *_T1w.nii[.gz] under <root>/sub-*/[ses-*/]anat, sorted by subject,
// session and name; only the given participants and sessions when those
// lists are not empty (labels with or without their prefix).
std::vector<ScanFile> t1w_scans(const std::string& root, const std::vector<std::string>& participants = {},
                                const std::vector<std::string>& sessions = {});

// A preprocessed dataset (harmonize preprocess):
//   image of a session on its own grid: <prep>/<sub>/<ses>/anat/<sub>_<ses>_desc-preproc_T1w.nii.gz
//   on another session's grid (space_ses non-empty, e.g. "ses-3T"): ..._space-ses3T_desc-preproc_T1w.nii.gz
std::string preproc(const std::string& prep, const std::string& sub, const std::string& ses,
                    const std::string& space_ses = "");
// The space entity value of a session's grid: "ses-3T" -> "ses3T" ("" -> "").
std::string space_of(const std::string& space_ses);
//   <prep>/<sub>/slices/<sub>_<ses>[_space-sesT]_slices.hvol
std::string slices(const std::string& prep, const std::string& sub, const std::string& ses,
                   const std::string& space_ses = "");
//   the same relative to the subject folder, as dataset.json records it: slices/<sub>_<ses>[_space-sesT]_slices.hvol
std::string slices_relative(const std::string& sub, const std::string& ses, const std::string& space_ses = "");
//   <prep>/<sub>/xfm/<sub>_from-sesS_to-sesT   (a prefix, no extension)
std::string transform_prefix(const std::string& prep, const std::string& sub, const std::string& from_ses,
                             const std::string& to_ses);
//   the same relative to the subject folder, as dataset.json records it: xfm/<sub>_from-sesS_to-sesT
std::string transform_relative(const std::string& sub, const std::string& from_ses, const std::string& to_ses);
// A path dataset.json records relative to a subject's folder, made absolute: <prep>/<sub>/<relative>
std::string subject_path(const std::string& prep, const std::string& sub, const std::string& relative);

}  // namespace harmonize::bids
