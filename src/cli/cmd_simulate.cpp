// harmonize simulate: a paired 1.5 T / 3 T MPRAGE cohort from real anatomy,
// written as a BIDS dataset with the truth under derivatives/truth.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "bids/layout.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "harmonize/version.hpp"
#include "io/nifti.hpp"
#include "simulate/cohort.hpp"
#include "simulate/preview.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

constexpr const char* kDefaultTemplates = "/usr/share/mricron/templates";

// Anatomies: FreeSurfer-style label maps from a folder, or Colin27.
class AnatomyLibrary {
 public:
  AnatomyLibrary(const std::string& label_dir, const std::string& template_dir) {
    if (!label_dir.empty()) {
      if (!fs::is_directory(label_dir)) throw InputError(label_dir, "anatomy folder does not exist");
      for (const auto& e : fs::directory_iterator(label_dir))
        if (e.is_regular_file() && is_nifti_path(e.path().string())) files_.push_back(e.path().string());
      std::sort(files_.begin(), files_.end());
      if (files_.empty()) throw InputError(label_dir, "holds no label maps (.nii/.nii.gz)");
      source_ = "label maps from " + label_dir;
    } else {
      brain_ = template_dir + "/ch2better.nii.gz";
      head_ = template_dir + "/ch2.nii.gz";
      for (const auto& f : {brain_, head_})
        if (!fs::exists(f))
          throw InputError(f,
                           "Colin27 template missing: install Debian's mricron-data (scripts/install-deps.sh) "
                           "or pass --anatomy DIR with label maps");
      source_ = "Colin27 (" + template_dir + "/ch2better.nii.gz + ch2.nii.gz, intensity model)";
    }
  }
  int size() const { return files_.empty() ? 1 : int(files_.size()); }
  std::string name(int i) const { return files_.empty() ? "colin27" : fs::path(files_[i]).filename().string(); }
  const std::string& source() const { return source_; }

  std::shared_ptr<const LabelVolume> get(int i) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = cache_[i];
    if (!slot) {
      if (files_.empty()) {
        log::info("building Colin27 anatomy from " + brain_);
        slot = std::make_shared<LabelVolume>(colin_labels(read_nifti(brain_), read_nifti(head_)));
      } else {
        slot = std::make_shared<LabelVolume>(read_nifti_labels(files_[i]));
      }
    }
    return slot;
  }

 private:
  std::vector<std::string> files_;
  std::string brain_, head_, source_;
  std::mutex mutex_;
  std::map<int, std::shared_ptr<const LabelVolume>> cache_;
};

void write_subject(const std::string& root, const SubjectResult& r) {
  const std::string sub = "sub-" + r.plan.id, truth = bids::truth_root(root);
  for (int s = 0; s < 2; ++s) {
    const std::string ses = std::string("ses-") + kSessionNames[s];
    fs::create_directories(bids::anat_dir(root, sub, ses));
    fs::create_directories(bids::anat_dir(truth, sub, ses));
    const SessionImages& im = r.images[s];
    const MprageProtocol& p = r.sessions[s].protocol;
    write_nifti(bids::t1w(root, sub, ses), im.t1w);
    const nlohmann::json sidecar = {{"Manufacturer", "harmonize simulation"},
                                    {"MagneticFieldStrength", p.field_tesla},
                                    {"MRAcquisitionType", "3D"},
                                    {"PulseSequenceType", "MPRAGE"},
                                    {"RepetitionTime", p.tr_ms / 1000},
                                    {"InversionTime", p.ti_ms / 1000},
                                    {"EchoTime", p.te_ms / 1000},
                                    {"FlipAngle", p.flip_deg},
                                    {"EchoSpacing", p.echo_spacing_ms / 1000},
                                    {"SimulatedSNR", r.sessions[s].snr}};
    write_text_atomically(bids::file(root, sub, ses, "T1w", {}, ".json"), sidecar.dump(2) + "\n");
    write_nifti(bids::brain_mask(truth, sub, ses), im.brain);
    write_nifti(bids::lesion_mask(truth, sub, ses), im.lesion);
    write_nifti(bids::probseg(truth, sub, ses, "CSF"), im.csf);
    write_nifti(bids::probseg(truth, sub, ses, "GM"), im.gm);
    write_nifti(bids::probseg(truth, sub, ses, "WM"), im.wm);
    write_nifti(bids::file(truth, sub, ses, "dseg"), im.dseg);
  }
  // The head positions, so registration can be checked against the truth.
  nlohmann::json pose = nlohmann::json::object();
  for (int s = 0; s < 2; ++s)
    pose[std::string("ses-") + kSessionNames[s]] = {{"rotation_matrix", r.sessions[s].head_rotation},
                                                    {"translation_mm", r.sessions[s].head_translation}};
  write_text_atomically(bids::pose(truth, sub), pose.dump(2) + "\n");
}

void write_dataset_files(const std::string& root, const std::vector<SubjectResult>& results,
                         const AnatomyLibrary& anatomy, const CohortOptions& o) {
  const nlohmann::json generated = {{{"Name", "harmonize"},
                                     {"Version", kVersion},
                                     {"Description", "harmonize simulate: MPRAGE physics on real anatomy"}}};
  const nlohmann::json desc = {
      {"Name", "harmonize simulated paired 1.5T/3T MPRAGE cohort"},
      {"BIDSVersion", "1.8.0"},
      {"DatasetType", "raw"},
      {"GeneratedBy", generated},
      {"SourceDatasets", {{{"Description", anatomy.source()}}}},
      {"HowToAcknowledge", "Anatomy: " + anatomy.source() + ". See the harmonize README for licences."}};
  write_text_atomically(root + "/dataset_description.json", desc.dump(2) + "\n");
  std::string tsv = "participant_id\tgroup\tanatomy\tlesion_count\tlesion_volume_mm3\tatrophy_csf_gain_mm3\n";
  for (const auto& r : results) {
    char line[256];
    std::snprintf(line, sizeof line, "sub-%s\t%s\t%s\t%d\t%.1f\t%.1f\n", r.plan.id.c_str(),
                  r.plan.patient ? "MS" : "HC", anatomy.name(r.plan.anatomy).c_str(), r.lesion_count,
                  r.lesion_volume_mm3, r.atrophy_csf_gain_mm3);
    tsv += line;
  }
  write_text_atomically(root + "/participants.tsv", tsv);
  const nlohmann::json pjson = {
      {"group", {{"Description", "HC: healthy control; MS: multiple-sclerosis patient (lesions and atrophy)"}}},
      {"anatomy", {{"Description", "anatomy the subject was made from (before its random deformation)"}}},
      {"lesion_count", {{"Description", "simulated T1-hypointense WM lesions"}}},
      {"lesion_volume_mm3", {{"Description", "lesion volume in the anatomy"}, {"Units", "mm^3"}}},
      {"atrophy_csf_gain_mm3", {{"Description", "CSF volume added by simulated atrophy"}, {"Units", "mm^3"}}}};
  write_text_atomically(root + "/participants.json", pjson.dump(2) + "\n");
  write_text_atomically(root + "/README",
                        "Simulated with harmonize " + std::string(kVersion) +
                            ": every subject scanned on a 1.5 T and a 3 T MPRAGE protocol (ses-1p5T, ses-3T).\n"
                            "Ground truth (brain and lesion masks, CSF/GM/WM fractions, hard segmentation, head "
                            "positions) is under derivatives/truth, in each session's space.\n"
                            "The resolved configuration, seed and log are under code/.\n");
  nlohmann::json tdesc = {{"Name", "harmonize simulation ground truth"},
                          {"BIDSVersion", "1.8.0"},
                          {"DatasetType", "derivative"},
                          {"GeneratedBy", generated}};
  write_text_atomically(bids::truth_root(root) + "/dataset_description.json", tdesc.dump(2) + "\n");
  write_text_atomically(bids::truth_root(root) + "/dseg.tsv",
                        "index\tname\tabbreviation\n0\tbackground\tBG\n1\tcerebrospinal fluid\tCSF\n"
                        "2\tgray matter\tGM\n3\twhite matter\tWM\n");
  (void)o;
}

}  // namespace

void register_simulate(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    CohortOptions cohort;
    std::string out, anatomy, templates = kDefaultTemplates;
    bool preview = false;
  };
  auto opt = std::make_shared<Options>();
  CohortOptions& c = opt->cohort;
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Simulate a paired cohort: every subject scanned with the 1.5 T and the 3 T MPRAGE protocol of the study,\n"
      "from real anatomy, written as a BIDS dataset with the ground truth under derivatives/truth.");
  cmd->add_option("out", opt->out, "Output folder (BIDS dataset)")->required();
  cmd->add_option("--anatomy", opt->anatomy,
                  "Folder of FreeSurfer-style label maps (e.g. ../shared/data/labelmaps); default: Colin27")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--templates", opt->templates, "Folder with Colin27 ch2better.nii.gz and ch2.nii.gz")
      ->capture_default_str();
  auto* subjects = cmd->add_option("--subjects", c.subjects, "Number of subjects")->capture_default_str();
  auto* patients = cmd->add_option("--patients", c.patients,
                                   "How many of them are MS patients (default: 18 of 40, "
                                   "scaled to --subjects)");
  cmd->add_option("--resolution", c.resolution_mm, "Isotropic voxel size of the scans, mm")
      ->check(CLI::Range(0.5, 4.0))
      ->capture_default_str();
  cmd->add_option("--snr-1p5T", c.scanners[0].snr, "1.5 T: pure-WM signal / noise sd")->capture_default_str();
  cmd->add_option("--snr-3T", c.scanners[1].snr, "3 T: pure-WM signal / noise sd")->capture_default_str();
  cmd->add_option("--bias-1p5T", c.scanners[0].bias, "1.5 T: sd of the log receive-bias field")->capture_default_str();
  cmd->add_option("--bias-3T", c.scanners[1].bias, "3 T: sd of the log receive-bias field")->capture_default_str();
  cmd->add_option("--bias-scale", c.bias_scale_mm, "Bias field smoothness (control spacing), mm")
      ->capture_default_str();
  cmd->add_option("--echo-spacing-1p5T", c.scanners[0].protocol.echo_spacing_ms, "1.5 T echo spacing, ms")
      ->capture_default_str();
  cmd->add_option("--echo-spacing-3T", c.scanners[1].protocol.echo_spacing_ms, "3 T echo spacing, ms")
      ->capture_default_str();
  for (int s = 0; s < 2; ++s) {
    const std::string tag = s == 0 ? "1p5T" : "3T", name = s == 0 ? "1.5 T" : "3 T";
    auto& p = c.scanners[s].protocol;
    cmd->add_option("--ti-" + tag, p.ti_ms, name + " inversion time (inversion to k-space centre), ms")
        ->capture_default_str();
    cmd->add_option("--tr-" + tag, p.tr_ms, name + " time between inversions, ms")->capture_default_str();
    cmd->add_option("--flip-" + tag, p.flip_deg, name + " flip angle, degrees")->capture_default_str();
    cmd->add_option("--wm-t1-" + tag, c.wm_t1_ms[s], name + " cerebral white-matter T1, ms")->capture_default_str();
    cmd->add_option("--gm-t1-" + tag, c.cortex_t1_ms[s],
                    name + " cortex T1, ms (deep grey and cerebellum follow WM and cortex)")
        ->capture_default_str();
  }
  cmd->add_option("--deformation", c.deformation_mm, "sd of the smooth random displacement per subject, mm")
      ->capture_default_str();
  cmd->add_option("--deformation-scale", c.deformation_scale_mm, "Displacement smoothness (control spacing), mm")
      ->capture_default_str();
  cmd->add_option("--shape-sd", c.shape_sd, "sd of the global linear shape change per subject")->capture_default_str();
  cmd->add_option("--ventricle-sd", c.anatomy_sd.ventricles_mm,
                  "Each subject's ventricles grow into the WM by |a normal draw| of this sd, mm")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--pial-sd", c.anatomy_sd.pial_mm,
                  "Each subject's cortex thins (or thickens) at its outer surface by a normal draw of this sd, mm")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--grey-white-sd", c.anatomy_sd.grey_white_mm,
                  "Each subject's grey/white boundary moves into the WM (or the cortex) by a normal draw of this sd, mm")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--rotation", c.rotation_deg, "sd of the head rotation per session and axis, degrees")
      ->capture_default_str();
  cmd->add_option("--translation", c.translation_mm, "sd of the head translation per session and axis, mm")
      ->capture_default_str();
  cmd->add_option("--t1-variation", c.t1_variation, "sd of the smooth within-tissue T1 modulation (relative)")
      ->capture_default_str();
  cmd->add_option("--pd-variation", c.pd_variation, "sd of the smooth within-tissue PD modulation (relative)")
      ->capture_default_str();
  cmd->add_option("--lesion-count", c.patient.lesion_count, "Mean number of WM lesions per patient")
      ->capture_default_str();
  cmd->add_option("--lesion-radius", c.patient.lesion_radius_mm, "Mean lesion radius, mm")->capture_default_str();
  cmd->add_option("--lesion-t1-1p5T", c.lesion_t1_1p5T, "Lesion T1 at 1.5 T, ms")->capture_default_str();
  cmd->add_option("--lesion-t1-3T", c.lesion_t1_3T, "Lesion T1 at 3 T, ms")->capture_default_str();
  cmd->add_option("--atrophy", c.patient.atrophy_mm,
                  "Patients' atrophy: ventricles grow by this much, cortex thins by half of it, mm")
      ->capture_default_str();
  cmd->add_flag("--preview", opt->preview,
                "Also write derivatives/preview/sub-001_preview.png (mid-sagittal and mid-axial, both sessions)");
  add_global_options(cmd, opt->global);

  cmd->callback([opt, subjects, patients] {
    apply_global_options(opt->global);
    CohortOptions& c = opt->cohort;
    c.seed = opt->global.seed;
    if (patients->count() == 0 && subjects->count() > 0) c.patients = int(std::lround(c.subjects * 18.0 / 40.0));
    validate(c);
    const std::string out = fs::absolute(opt->out).lexically_normal().string();
    if (fs::exists(out) && !opt->global.force) throw OutputError(out, "already exists (use --force to replace it)");
    check_output_path(out, true);
    AnatomyLibrary anatomy(opt->anatomy, opt->templates);
    const auto plans = plan_cohort(c, anatomy.size());

    // Build under a temporary name; rename when complete.
    PartialFolder folder(out);
    const std::string& work = folder.path();
    fs::create_directories(work + "/code");
    std::vector<SubjectResult> summaries(plans.size());
    {
      nlohmann::json config = to_json(c);
      config["anatomy_source"] = anatomy.source();
      RunRecord record(work + "/code", "harmonize_simulate", config, opt->global);
      log::info("simulating " + std::to_string(c.subjects) + " subjects (" + std::to_string(c.patients) +
                " MS patients) from " + anatomy.source() + " at " + std::to_string(c.resolution_mm) + " mm, " +
                std::to_string(threads()) + " threads");
      const auto t0 = std::chrono::steady_clock::now();
      Progress progress("simulate", plans.size());
      parallel_for(0, plans.size(), [&](std::size_t i) {
        const auto labels = anatomy.get(plans[i].anatomy);
        SubjectResult r = simulate_subject(plans[i], *labels, c);
        write_subject(work, r);
        if (opt->preview && i == 0) {
          fs::create_directories(work + "/derivatives/preview");
          const std::string title = "SUB-" + r.plan.id + " (" + (r.plan.patient ? "MS" : "HC") + ") SIMULATED";
          write_png(work + "/derivatives/preview/sub-" + r.plan.id + "_preview.png",
                    preview_figure({{&r.images[0].t1w, "1.5T"}, {&r.images[1].t1w, "3T"}}, title));
        }
        for (auto& im : r.images) im = SessionImages{};  // keep only the summary
        summaries[i] = std::move(r);
        progress.advance(1, "sub-" + plans[i].id);
      });
      progress.finish();
      write_dataset_files(work, summaries, anatomy, c);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      record.set("wall_seconds", seconds);
      record.finish();
      log::info("done in " + std::to_string(int(seconds)) + " s");
    }
    folder.commit();
    int ms = 0;
    for (const auto& r : summaries) ms += r.plan.patient;
    std::printf(
        "Simulated cohort in %s\n  %d subjects (%d HC, %d MS), 2 sessions each (ses-1p5T, ses-3T), %g mm\n"
        "  scans:  sub-XXX/ses-*/anat/sub-XXX_ses-*_T1w.nii.gz\n"
        "  truth:  derivatives/truth (brain/lesion masks, CSF/GM/WM probseg, dseg, head poses)\n"
        "  record: code/harmonize_simulate.json, code/harmonize_simulate.log\n",
        out.c_str(), int(summaries.size()), int(summaries.size()) - ms, ms, c.resolution_mm);
    if (opt->preview) std::printf("  preview: derivatives/preview/sub-%s_preview.png\n", plans[0].id.c_str());
  });
}

}  // namespace harmonize::cli
