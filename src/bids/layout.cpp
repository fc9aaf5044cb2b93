#include "bids/layout.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace harmonize::bids {

std::string session_label(const std::string& ses) { return ses.rfind("ses-", 0) == 0 ? ses.substr(4) : ses; }

std::string subject_dir(const std::string& root, const std::string& sub) { return root + "/" + sub; }

std::string anat_dir(const std::string& root, const std::string& sub, const std::string& ses) {
  return subject_dir(root, sub) + "/" + ses + "/anat";
}

std::string file_name(const std::string& stem, const std::string& suffix, const Entities& e, const std::string& ext) {
  std::string name = stem;
  if (!e.space.empty()) name += "_space-" + e.space;
  if (!e.label.empty()) name += "_label-" + e.label;
  if (!e.desc.empty()) name += "_desc-" + e.desc;
  return name + "_" + suffix + ext;
}

std::string file(const std::string& root, const std::string& sub, const std::string& ses, const std::string& suffix,
                 const Entities& e, const std::string& ext) {
  return anat_dir(root, sub, ses) + "/" + file_name(sub + "_" + ses, suffix, e, ext);
}

std::string t1w(const std::string& root, const std::string& sub, const std::string& ses) {
  return file(root, sub, ses, "T1w");
}

std::string brain_mask(const std::string& root, const std::string& sub, const std::string& ses) {
  return file(root, sub, ses, "mask", {.desc = "brain"});
}

std::string probseg(const std::string& root, const std::string& sub, const std::string& ses, const std::string& cls) {
  return file(root, sub, ses, "probseg", {.label = cls});
}

std::string lesion_mask(const std::string& root, const std::string& sub, const std::string& ses) {
  return file(root, sub, ses, "mask", {.label = "lesion"});
}

std::string truth_root(const std::string& bids) { return bids + "/derivatives/truth"; }

std::string pose(const std::string& truth, const std::string& sub) {
  return subject_dir(truth, sub) + "/" + sub + "_pose.json";
}

std::vector<std::string> subjects(const std::string& root) {
  std::vector<std::string> subs;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return subs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && e.path().filename().string().rfind("sub-", 0) == 0)
      subs.push_back(e.path().filename().string());
  std::sort(subs.begin(), subs.end());
  return subs;
}

std::vector<std::string> paired_subjects(const std::string& root, const std::string& ses_a, const std::string& ses_b) {
  std::vector<std::string> paired;
  for (const auto& sub : subjects(root))
    if (fs::exists(t1w(root, sub, ses_a)) && fs::exists(t1w(root, sub, ses_b))) paired.push_back(sub);
  return paired;
}

std::string space_of(const std::string& space_ses) {
  return space_ses.empty() ? std::string() : "ses" + session_label(space_ses);
}

std::string preproc(const std::string& prep, const std::string& sub, const std::string& ses,
                    const std::string& space_ses) {
  return file(prep, sub, ses, "T1w", {.space = space_of(space_ses), .desc = "preproc"});
}

std::string slices_relative(const std::string& sub, const std::string& ses, const std::string& space_ses) {
  return "slices/" + file_name(sub + "_" + ses, "slices", {.space = space_of(space_ses)}, ".hvol");
}

std::string slices(const std::string& prep, const std::string& sub, const std::string& ses,
                   const std::string& space_ses) {
  return subject_path(prep, sub, slices_relative(sub, ses, space_ses));
}

std::string transform_relative(const std::string& sub, const std::string& from_ses, const std::string& to_ses) {
  return "xfm/" + sub + "_from-ses" + session_label(from_ses) + "_to-ses" + session_label(to_ses);
}

std::string transform_prefix(const std::string& prep, const std::string& sub, const std::string& from_ses,
                             const std::string& to_ses) {
  return subject_path(prep, sub, transform_relative(sub, from_ses, to_ses));
}

std::string subject_path(const std::string& prep, const std::string& sub, const std::string& relative) {
  return subject_dir(prep, sub) + "/" + relative;
}

}  // namespace harmonize::bids
