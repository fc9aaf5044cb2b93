// harmonize preprocess: a raw scan, or every raw pair of a BIDS dataset, into
// what the model is trained and applied on (PAPER.md, "Preprocessing").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "core/volfile.hpp"
#include "harmonize/version.hpp"
#include "io/nifti.hpp"
#include "pipeline/preprocess.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

struct Options {
  GlobalOptions global;
  PreprocessOptions prep;
  std::vector<std::string> paths;
  std::string input, mask, mask_dir;
  std::string source_session = "ses-1p5T", target_session = "ses-3T";
  std::vector<std::string> subjects;
  bool affine_only = false, no_n4 = false;
  std::string init = "moments";
};

std::string strip_ses(const std::string& s) { return s.rfind("ses-", 0) == 0 ? s.substr(4) : s; }

// Writes a scan's normalised image and mask; returns their names.
nlohmann::json write_scan(const std::string& dir, const std::string& stem, const PreparedScan& s) {
  fs::create_directories(dir);
  write_nifti(dir + "/" + stem + "_desc-preproc_T1w.nii.gz", s.image);
  write_nifti(dir + "/" + stem + "_desc-brain_mask.nii.gz", s.brain);
  return {{"image", stem + "_desc-preproc_T1w.nii.gz"},
          {"mask", stem + "_desc-brain_mask.nii.gz"},
          {"window", {s.window.lo, s.window.hi}},
          {"input_geometry", geometry_to_json(s.input_grid)}};
}

nlohmann::json times_json(const StepTimes& t) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : t) j[k] = v;
  return j;
}

struct SubjectJob {
  std::string id, source_scan, target_scan, source_mask, target_mask;
};

std::vector<SubjectJob> find_pairs(const Options& o, const std::string& bids) {
  if (!fs::is_directory(bids)) throw InputError(bids, "BIDS folder does not exist");
  std::vector<SubjectJob> jobs;
  std::vector<std::string> subs;
  for (const auto& e : fs::directory_iterator(bids))
    if (e.is_directory() && e.path().filename().string().rfind("sub-", 0) == 0)
      subs.push_back(e.path().filename().string());
  std::sort(subs.begin(), subs.end());
  for (const auto& sub : subs) {
    if (!o.subjects.empty() && std::find(o.subjects.begin(), o.subjects.end(), sub) == o.subjects.end()) continue;
    SubjectJob j;
    j.id = sub;
    auto scan = [&](const std::string& ses) {
      return bids + "/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_T1w.nii.gz";
    };
    j.source_scan = scan(o.source_session);
    j.target_scan = scan(o.target_session);
    if (!fs::exists(j.source_scan) || !fs::exists(j.target_scan)) {
      log::warn(sub + ": no " + o.source_session + "/" + o.target_session + " pair of T1w scans; skipped");
      continue;
    }
    if (!o.mask_dir.empty()) {
      auto mask = [&](const std::string& ses) {
        return o.mask_dir + "/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_desc-brain_mask.nii.gz";
      };
      j.source_mask = mask(o.source_session);
      j.target_mask = mask(o.target_session);
    }
    jobs.push_back(j);
  }
  if (jobs.empty())
    throw InputError(bids,
                     "holds no subject with both " + o.source_session + " and " + o.target_session + " T1w scans");
  return jobs;
}

nlohmann::json run_pair(const Options& o, const SubjectJob& j, const BrainTemplate* tmpl, const std::string& root) {
  StepTimes times;
  const Volume source = read_nifti(j.source_scan), target = read_nifti(j.target_scan);
  std::unique_ptr<Mask> sm, tm;
  if (!j.source_mask.empty()) sm = std::make_unique<Mask>(read_nifti_mask(j.source_mask));
  if (!j.target_mask.empty()) tm = std::make_unique<Mask>(read_nifti_mask(j.target_mask));
  const PreparedPair p =
      prepare_pair(j.source_scan, source, sm.get(), j.target_scan, target, tm.get(), tmpl, o.prep, times);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string S = strip_ses(o.source_session), T = strip_ses(o.target_session);
  const std::string sub_dir = root + "/" + j.id;
  nlohmann::json rec;
  rec["target"] = write_scan(sub_dir + "/ses-" + T + "/anat", j.id + "_ses-" + T, p.target);
  rec["source"] = write_scan(sub_dir + "/ses-" + S + "/anat", j.id + "_ses-" + S, p.source);
  const std::string reg_name = j.id + "_ses-" + S + "_space-ses" + T + "_desc-preproc_T1w.nii.gz";
  write_nifti(sub_dir + "/ses-" + S + "/anat/" + reg_name, p.source_on_target);
  rec["source"]["registered"] = reg_name;
  fs::create_directories(sub_dir + "/xfm");
  const std::string xfm = sub_dir + "/xfm/" + j.id + "_from-ses" + S + "_to-ses" + T;
  save_transform(p.source_to_target, xfm);
  rec["transform"] = {{"prefix", "xfm/" + j.id + "_from-ses" + S + "_to-ses" + T},
                      {"deformable", p.source_to_target.has_deformable()},
                      {"convention", "maps target-grid points (LPS mm) to source points"}};
  fs::create_directories(sub_dir + "/slices");
  const nlohmann::json layout = p.layout.to_json();
  write_hvol(sub_dir + "/slices/" + j.id + "_ses-" + T + "_slices.hvol", p.target_slices,
             {{"subject", j.id}, {"session", "ses-" + T}, {"layout", layout}});
  write_hvol(sub_dir + "/slices/" + j.id + "_ses-" + S + "_space-ses" + T + "_slices.hvol", p.source_slices,
             {{"subject", j.id}, {"session", "ses-" + S}, {"layout", layout}});
  rec["slices"] = {{"target", "slices/" + j.id + "_ses-" + T + "_slices.hvol"},
                   {"source", "slices/" + j.id + "_ses-" + S + "_space-ses" + T + "_slices.hvol"},
                   {"count", p.layout.has_brain.size()},
                   {"with_brain", std::count(p.layout.has_brain.begin(), p.layout.has_brain.end(), 1)},
                   {"clipped", p.layout.clipped}};
  times["write"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rec["inputs"] = {{"source", j.source_scan}, {"target", j.target_scan}};
  rec["seconds"] = times_json(times);
  return rec;
}

nlohmann::json run_single(const Options& o, const BrainTemplate* tmpl, const std::string& root) {
  StepTimes times;
  const Volume raw = read_nifti(o.input);
  std::unique_ptr<Mask> m;
  if (!o.mask.empty()) m = std::make_unique<Mask>(read_nifti_mask(o.mask));
  const PreparedScan s = prepare_scan(o.input, raw, m.get(), tmpl, o.prep, times);
  std::string stem = nifti_stem(o.input);
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, "_T1w") == 0) stem.resize(stem.size() - 4);
  nlohmann::json rec = write_scan(root, stem, s);
  const SliceLayout layout = plan_slices(s.image.geom, s.brain, o.prep.slice_height, o.prep.slice_width);
  write_hvol(root + "/" + stem + "_slices.hvol", to_slices(s.image, layout), {{"layout", layout.to_json()}});
  rec["slices"] = stem + "_slices.hvol";
  rec["input"] = o.input;
  rec["seconds"] = times_json(times);
  return rec;
}

}  // namespace

void register_preprocess(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "preprocess",
      "Preprocess as the paper does: brain mask, N4, 1 mm, clip 0.1/99.9 % and scale to [0,1], register the pair\n"
      "(affine + deformable, mutual information), sagittal slices 224x224.\n"
      "  harmonize preprocess BIDS_DIR OUT_DIR [--source-session ses-1p5T --target-session ses-3T]\n"
      "  harmonize preprocess --input SCAN.nii.gz OUT_DIR [--mask MASK.nii.gz]");
  cmd->add_option("paths", opt->paths, "BIDS_DIR OUT_DIR, or OUT_DIR with --input")->required()->expected(1, 2);
  cmd->add_option("--input", opt->input, "A single raw scan instead of a BIDS dataset");
  cmd->add_option("--mask", opt->mask, "Brain mask of --input (default: by registering the Colin27 template)");
  cmd->add_option("--mask-dir", opt->mask_dir,
                  "BIDS-derivatives folder with sub-X/ses-Y/anat/sub-X_ses-Y_desc-brain_mask.nii.gz per scan");
  cmd->add_option("--source-session", opt->source_session, "Session registered onto the other")->capture_default_str();
  cmd->add_option("--target-session", opt->target_session, "Session whose grid the pair shares")->capture_default_str();
  cmd->add_option("--subjects", opt->subjects, "Only these subjects (sub-XXX ...)");
  cmd->add_option("--spacing", opt->prep.spacing_mm, "Isotropic voxel size after resampling, mm")
      ->capture_default_str();
  cmd->add_option("--clip-low", opt->prep.percentile_lo, "Lower clipping percentile of brain voxels")
      ->capture_default_str();
  cmd->add_option("--clip-high", opt->prep.percentile_hi, "Upper clipping percentile of brain voxels")
      ->capture_default_str();
  cmd->add_option("--slice-size", opt->prep.slice_height, "In-plane size of the square sagittal slices")
      ->capture_default_str();
  cmd->add_flag("--no-deformable", opt->affine_only, "Register pairs with an affine transform only");
  cmd->add_flag("--no-n4", opt->no_n4, "Skip N4 bias-field correction");
  cmd->add_option("--init", opt->init,
                  "Start of pair registration: moments (centres of mass aligned) or geometry "
                  "(scanner coordinates as they are)")
      ->check(CLI::IsMember({"moments", "geometry"}))
      ->capture_default_str();
  add_templates_option(cmd, opt->prep.template_dir);
  add_global_options(cmd, opt->global);

  cmd->callback([opt] {
    apply_global_options(opt->global);
    Options& o = *opt;
    o.prep.slice_width = o.prep.slice_height;
    o.prep.deformable = !o.affine_only;
    o.prep.n4 = !o.no_n4;
    o.prep.align_centres = o.init == "moments";
    const bool single = !o.input.empty();
    if (single != (o.paths.size() == 1))
      throw UsageError(single ? "with --input give only OUT_DIR"
                              : "give BIDS_DIR and OUT_DIR (or --input SCAN OUT_DIR)");
    if (!(o.prep.spacing_mm > 0.2 && o.prep.spacing_mm <= 4)) throw UsageError("--spacing must be in (0.2, 4] mm");
    if (!(o.prep.percentile_lo >= 0 && o.prep.percentile_lo < o.prep.percentile_hi && o.prep.percentile_hi <= 100))
      throw UsageError("need 0 <= --clip-low < --clip-high <= 100");
    const std::string out = fs::absolute(o.paths.back()).lexically_normal().string();
    if (fs::exists(out) && !o.global.force) throw OutputError(out, "already exists (use --force to replace it)");
    check_output_path(out, true);

    // Validate every input before heavy work.
    std::vector<SubjectJob> jobs;
    if (single) {
      read_nifti(o.input);
      if (!o.mask.empty()) read_nifti_mask(o.mask);
    } else {
      jobs = find_pairs(o, o.paths[0]);
    }
    std::unique_ptr<BrainTemplate> tmpl;
    const bool need_template = single ? o.mask.empty() : o.mask_dir.empty();
    if (need_template) tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));

    PartialFolder folder(out);
    const std::string& work = folder.path();
    fs::create_directories(work + "/code");
    nlohmann::json dataset = {{"format", "harmonize-preprocessed"},
                              {"version", 1},
                              {"harmonize", versions()},
                              {"parameters", to_json(o.prep)},
                              {"source_session", o.source_session},
                              {"target_session", o.target_session}};
    {
      RunRecord record(work + "/code", "harmonize_preprocess", dataset["parameters"], o.global);
      if (single) {
        dataset["scan"] = run_single(o, tmpl.get(), work);
      } else {
        // Subjects in parallel; ITK's own threads share what is left.
        const int workers = std::max(1, std::min<int>(threads(), int(jobs.size())));
        set_itk_threads(std::max(1, threads() / workers));
        std::vector<nlohmann::json> recs(jobs.size());
        Progress progress("preprocess", jobs.size());
        parallel_for(
            0, jobs.size(),
            [&](std::size_t i) {
              recs[i] = run_pair(o, jobs[i], tmpl.get(), work);
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
      }
      write_text_atomically(work + "/dataset.json", dataset.dump(2) + "\n");
      const nlohmann::json desc = {{"Name", "harmonize preprocessed"},
                                   {"BIDSVersion", "1.8.0"},
                                   {"DatasetType", "derivative"},
                                   {"GeneratedBy", {{{"Name", "harmonize"}, {"Version", kVersion}}}}};
      write_text_atomically(work + "/dataset_description.json", desc.dump(2) + "\n");
      record.finish();
    }
    folder.commit();
    std::printf("Preprocessed %s into %s\n",
                single ? o.input.c_str() : (std::to_string(jobs.size()) + " pairs").c_str(), out.c_str());
  });
}

}  // namespace harmonize::cli
