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

std::string ScanFile::relative() const { return dir + "/" + stem + "_T1w" + ext; }

std::string ScanFile::path(const std::string& root) const { return root + "/" + relative(); }

std::string ScanFile::derivative(const std::string& out, const std::string& suffix, const Entities& e,
                                 const std::string& extension) const {
  return out + "/" + dir + "/" + file_name(stem, suffix, e, extension);
}

std::string with_prefix(const std::string& prefix, const std::string& label) {
  return label.rfind(prefix, 0) == 0 ? label : prefix + label;
}

namespace {

// Sorted names of the sub-folders of dir that start with prefix.
std::vector<std::string> folders(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return names;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0)
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool chosen(const std::vector<std::string>& wanted, const std::string& prefix, const std::string& name) {
  if (wanted.empty()) return true;
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return with_prefix(prefix, w) == name; });
}

}  // namespace

std::vector<std::string> subjects(const std::string& root) { return folders(root, "sub-"); }

std::vector<ScanFile> t1w_scans(const std::string& root, const std::vector<std::string>& participants,
                                const std::vector<std::string>& sessions) {
  std::vector<ScanFile> scans;
  for (const auto& sub : folders(root, "sub-")) {
    if (!chosen(participants, "sub-", sub)) continue;
    std::vector<std::string> sess = folders(fs::path(root) / sub, "ses-");
    if (sess.empty()) sess.push_back("");  // a dataset without sessions
    for (const auto& ses : sess) {
      if (!ses.empty() && !chosen(sessions, "ses-", ses)) continue;
      if (ses.empty() && !sessions.empty()) continue;
      const std::string dir = ses.empty() ? sub + "/anat" : sub + "/" + ses + "/anat";
      std::vector<ScanFile> here;
      std::error_code ec;
      if (!fs::is_directory(fs::path(root) / dir, ec)) continue;
      for (const auto& e : fs::directory_iterator(fs::path(root) / dir, ec)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        for (const std::string ext : {".nii.gz", ".nii"}) {
          const std::string tail = "_T1w" + ext;
          if (name.size() > tail.size() && name.ends_with(tail) && name.rfind(sub + "_", 0) == 0) {
            here.push_back({sub, ses, dir, name.substr(0, name.size() - tail.size()), ext});
            break;
          }
        }
      }
      std::sort(here.begin(), here.end(), [](const ScanFile& a, const ScanFile& b) { return a.stem < b.stem; });
      scans.insert(scans.end(), here.begin(), here.end());
    }
  }
  return scans;
}

}  // namespace harmonize::bids
