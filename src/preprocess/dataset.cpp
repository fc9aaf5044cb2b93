#include "preprocess/dataset.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "bids/layout.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "core/volfile.hpp"
#include "harmonize/version.hpp"
#include "io/itk_runtime.hpp"
#include "io/nifti.hpp"

namespace fs = std::filesystem;

namespace harmonize {

nlohmann::json to_json(const DatasetOptions& o) {
  return {{"preprocess", to_json(o.prep)},
          {"source_session", o.source_session},
          {"target_session", o.target_session},
          {"mask_dir", o.mask_dir},
          {"subjects", o.subjects}};
}

void from_json(const nlohmann::json& j, DatasetOptions& o) {
  if (j.contains("preprocess")) {
    const nlohmann::json& p = j.at("preprocess");
    PreprocessOptions& q = o.prep;
    q.spacing_mm = p.value("spacing_mm", q.spacing_mm);
    q.percentile_lo = p.value("percentile_lo", q.percentile_lo);
    q.percentile_hi = p.value("percentile_hi", q.percentile_hi);
    q.slice_height = p.value("slice_height", q.slice_height);
    q.slice_width = p.value("slice_width", q.slice_width);
    q.n4 = p.value("n4", q.n4);
    q.deformable = p.value("deformable", q.deformable);
    q.align_centres = p.value("align_centres", q.align_centres);
    q.template_dir = p.value("template_dir", q.template_dir);
  }
  o.source_session = j.value("source_session", o.source_session);
  o.target_session = j.value("target_session", o.target_session);
  o.mask_dir = j.value("mask_dir", o.mask_dir);
  o.subjects = j.value("subjects", o.subjects);
}

void validate(const PreprocessOptions& o) {
  if (!(o.spacing_mm > 0.2 && o.spacing_mm <= 4)) throw UsageError("spacing must be in (0.2, 4] mm");
  if (!(o.percentile_lo >= 0 && o.percentile_lo < o.percentile_hi && o.percentile_hi <= 100))
    throw UsageError("need 0 <= percentile_lo < percentile_hi <= 100");
}

namespace {

// Writes a scan's normalised image and mask as <dir>/<stem>_desc-preproc_T1w.nii.gz
// and <dir>/<stem>_desc-brain_mask.nii.gz; returns their names.
nlohmann::json write_scan(const std::string& dir, const std::string& stem, const PreparedScan& s) {
  const std::string image = bids::file_name(stem, "T1w", {.desc = "preproc"});
  const std::string mask = bids::file_name(stem, "mask", {.desc = "brain"});
  fs::create_directories(dir);
  write_nifti(dir + "/" + image, s.image);
  write_nifti(dir + "/" + mask, s.brain);
  return {{"image", image},
          {"mask", mask},
          {"window", {s.window.lo, s.window.hi}},
          {"input_geometry", geometry_to_json(s.input_grid)}};
}

nlohmann::json times_json(const StepTimes& t) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : t) j[k] = v;
  return j;
}

nlohmann::json run_pair(const DatasetOptions& o, const PairJob& j, const BrainTemplate* tmpl, const std::string& root) {
  StepTimes times;
  const Volume source = read_nifti(j.source_scan), target = read_nifti(j.target_scan);
  std::unique_ptr<Mask> sm, tm;
  if (!j.source_mask.empty()) sm = std::make_unique<Mask>(read_nifti_mask(j.source_mask));
  if (!j.target_mask.empty()) tm = std::make_unique<Mask>(read_nifti_mask(j.target_mask));
  const PreparedPair p =
      prepare_pair(j.source_scan, source, sm.get(), j.target_scan, target, tm.get(), tmpl, o.prep, times);
  const auto t0 = std::chrono::steady_clock::now();
  // The output sessions are always named ses-<label>.
  const std::string S = "ses-" + bids::session_label(o.source_session);
  const std::string T = "ses-" + bids::session_label(o.target_session);
  nlohmann::json rec;
  rec["target"] = write_scan(bids::anat_dir(root, j.id, T), j.id + "_" + T, p.target);
  rec["source"] = write_scan(bids::anat_dir(root, j.id, S), j.id + "_" + S, p.source);
  const std::string registered = bids::preproc(root, j.id, S, T);
  write_nifti(registered, p.source_on_target);
  rec["source"]["registered"] = fs::path(registered).filename().string();
  const std::string xfm = bids::transform_prefix(root, j.id, S, T);
  fs::create_directories(fs::path(xfm).parent_path());
  save_transform(p.source_to_target, xfm);
  rec["transform"] = {{"prefix", bids::transform_relative(j.id, S, T)},
                      {"deformable", p.source_to_target.has_deformable()},
                      {"convention", "maps target-grid points (LPS mm) to source points"}};
  const std::string target_slices = bids::slices(root, j.id, T), source_slices = bids::slices(root, j.id, S, T);
  fs::create_directories(fs::path(target_slices).parent_path());
  const nlohmann::json layout = p.layout.to_json();
  write_hvol(target_slices, p.target_slices, {{"subject", j.id}, {"session", T}, {"layout", layout}});
  write_hvol(source_slices, p.source_slices, {{"subject", j.id}, {"session", S}, {"layout", layout}});
  rec["slices"] = {{"target", bids::slices_relative(j.id, T)},
                   {"source", bids::slices_relative(j.id, S, T)},
                   {"count", p.layout.has_brain.size()},
                   {"with_brain", std::count(p.layout.has_brain.begin(), p.layout.has_brain.end(), 1)},
                   {"clipped", p.layout.clipped}};
  times["write"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rec["inputs"] = {{"source", j.source_scan}, {"target", j.target_scan}};
  rec["seconds"] = times_json(times);
  return rec;
}

nlohmann::json dataset_header(const DatasetOptions& o, const nlohmann::json& versions) {
  return {{"format", "harmonize-preprocessed"},
          {"version", 1},
          {"harmonize", versions},
          {"parameters", to_json(o.prep)},
          {"source_session", o.source_session},
          {"target_session", o.target_session}};
}

void write_dataset_files(const std::string& work_dir, const nlohmann::json& dataset) {
  write_text_atomically(work_dir + "/dataset.json", dataset.dump(2) + "\n");
  const nlohmann::json desc = {{"Name", "harmonize preprocessed"},
                               {"BIDSVersion", "1.8.0"},
                               {"DatasetType", "derivative"},
                               {"GeneratedBy", {{{"Name", "harmonize"}, {"Version", kVersion}}}}};
  write_text_atomically(work_dir + "/dataset_description.json", desc.dump(2) + "\n");
}

}  // namespace

std::vector<PairJob> find_pairs(const std::string& bids, const DatasetOptions& o) {
  validate(o.prep);
  if (!fs::is_directory(bids)) throw InputError(bids, "BIDS folder does not exist");
  const std::vector<std::string> paired = bids::paired_subjects(bids, o.source_session, o.target_session);
  std::vector<PairJob> jobs;
  for (const auto& sub : bids::subjects(bids)) {
    if (!o.subjects.empty() && std::find(o.subjects.begin(), o.subjects.end(), sub) == o.subjects.end()) continue;
    if (!std::binary_search(paired.begin(), paired.end(), sub)) {
      log::warn(sub + ": no " + o.source_session + "/" + o.target_session + " pair of T1w scans; skipped");
      continue;
    }
    PairJob j;
    j.id = sub;
    j.source_scan = bids::t1w(bids, sub, o.source_session);
    j.target_scan = bids::t1w(bids, sub, o.target_session);
    if (!o.mask_dir.empty()) {
      j.source_mask = bids::brain_mask(o.mask_dir, sub, o.source_session);
      j.target_mask = bids::brain_mask(o.mask_dir, sub, o.target_session);
    }
    jobs.push_back(j);
  }
  if (jobs.empty())
    throw InputError(bids,
                     "holds no subject with both " + o.source_session + " and " + o.target_session + " T1w scans");
  return jobs;
}

nlohmann::json preprocess_pairs(const std::vector<PairJob>& jobs, const BrainTemplate* tmpl,
                                const std::string& work_dir, const DatasetOptions& o, const nlohmann::json& versions) {
  nlohmann::json dataset = dataset_header(o, versions);
  // Subjects in parallel; ITK's own threads share what is left.
  const int workers = std::max(1, std::min<int>(threads(), int(jobs.size())));
  set_itk_threads(std::max(1, threads() / workers));
  std::vector<nlohmann::json> recs(jobs.size());
  Progress progress("preprocess", jobs.size());
  parallel_for(
      0, jobs.size(),
      [&](std::size_t i) {
        recs[i] = run_pair(o, jobs[i], tmpl, work_dir);
        progress.advance(1, jobs[i].id);
      },
      workers);
  progress.finish();
  set_itk_threads(threads());
  nlohmann::json subjects = nlohmann::json::object();
  StepTimes total;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    subjects[jobs[i].id] = recs[i];
    for (const auto& [k, v] : recs[i]["seconds"].items()) total[k] += v.get<double>();
  }
  dataset["subjects"] = subjects;
  nlohmann::json mean = nlohmann::json::object();
  std::string table = "seconds per pair (mean over " + std::to_string(jobs.size()) + "):";
  for (const auto& [k, v] : total) {
    mean[k] = v / double(jobs.size());
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s %.1f", k.c_str(), v / double(jobs.size()));
    table += buf;
  }
  dataset["mean_seconds_per_pair"] = mean;
  log::info(table);
  write_dataset_files(work_dir, dataset);
  return dataset;
}

nlohmann::json preprocess_dataset(const std::string& bids, const std::string& work_dir, const DatasetOptions& o,
                                  const nlohmann::json& versions) {
  const std::vector<PairJob> jobs = find_pairs(bids, o);
  std::unique_ptr<BrainTemplate> tmpl;
  if (needs_template(o)) tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));
  return preprocess_pairs(jobs, tmpl.get(), work_dir, o, versions);
}

void check_scan_inputs(const std::string& scan, const std::string& mask) {
  read_nifti(scan);
  if (!mask.empty()) read_nifti_mask(mask);
}

nlohmann::json preprocess_scan(const std::string& scan, const std::string& mask, const std::string& work_dir,
                               const DatasetOptions& o, const nlohmann::json& versions, const BrainTemplate* tmpl) {
  validate(o.prep);
  std::unique_ptr<BrainTemplate> loaded;
  if (mask.empty() && !tmpl) {
    loaded = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));
    tmpl = loaded.get();
  }
  nlohmann::json dataset = dataset_header(o, versions);
  StepTimes times;
  const Volume raw = read_nifti(scan);
  std::unique_ptr<Mask> m;
  if (!mask.empty()) m = std::make_unique<Mask>(read_nifti_mask(mask));
  const PreparedScan s = prepare_scan(scan, raw, m.get(), tmpl, o.prep, times);
  std::string stem = nifti_stem(scan);
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, "_T1w") == 0) stem.resize(stem.size() - 4);
  nlohmann::json rec = write_scan(work_dir, stem, s);
  const SliceLayout layout = plan_slices(s.image.geom, s.brain, o.prep.slice_height, o.prep.slice_width);
  const std::string slices = bids::file_name(stem, "slices", {}, ".hvol");
  write_hvol(work_dir + "/" + slices, to_slices(s.image, layout), {{"layout", layout.to_json()}});
  rec["slices"] = slices;
  rec["input"] = scan;
  rec["seconds"] = times_json(times);
  dataset["scan"] = rec;
  write_dataset_files(work_dir, dataset);
  return dataset;
}

}  // namespace harmonize
