// harmonize crossval: the paper's experiment on a paired BIDS dataset.
// Preprocess every pair, make k folds over subjects (groups mixed in every
// fold), train one model per fold and direction, harmonize each fold's test
// subjects, histogram-match them as the baseline, evaluate everything against
// the target scans (and the truth, for simulated data) and write the report.
// Every stage writes its outputs atomically and is skipped when they exist, so
// a rerun of a killed job continues where it stopped.
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/png.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "crossval/folds.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/histogram_matching.hpp"
#include "evaluate/metrics_table.hpp"
#include "evaluate/noise_fit.hpp"
#include "io/nifti.hpp"
#include "prep/intensity.hpp"
#include "prep/slicing.hpp"
#include "preprocess/resample.hpp"
#include "report/report.hpp"
#include "train/apply.hpp"
#include "train/checkpoint.hpp"
#include "train/slice_dataset.hpp"

extern char** environ;
namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

struct Options {
  GlobalOptions global;
  std::string bids, out;
  int folds = 4;
  std::vector<std::string> directions{"3T-to-1p5T", "1p5T-to-3T"};
  std::string source_session = "ses-1p5T", target_session = "ses-3T";
  // preprocessing
  double spacing = 1.0;
  int slice_size = 224;
  bool affine_only = false;
  std::string mask_dir, truth_dir;
  // training
  std::string preset = "cpu";
  int64_t train_steps = 20000;
  int batch = 4;
  double lr = 1e-4, ema = 0.9999;
  std::string lr_schedule = "constant";
  int64_t warmup_steps = 0;
  double grad_clip = 0;
  std::string prediction = "eps";
  // sampling
  std::string sampler = "ddpm";
  int steps = 100;
  double eta = 0.0;
  std::string step_spacing = "uniform";
  std::string end_noise = "none";
  bool calibrate = false;
  bool volume_fit = false;
  int sample_batch = 16;
  std::string model_name = "harmonize DM";
  std::string device = "cpu";  // not part of the configuration: a job may move between machines

  // What must not change between a run and its resumption.
  nlohmann::json config() const {
    return {{"bids", bids},
            {"folds", folds},
            {"directions", directions},
            {"source_session", source_session},
            {"target_session", target_session},
            {"spacing_mm", spacing},
            {"slice_size", slice_size},
            {"deformable", !affine_only},
            {"mask_dir", mask_dir},
            {"truth_dir", truth_dir},
            {"preset", preset},
            {"train_steps", train_steps},
            {"batch", batch},
            {"lr", lr},
            {"lr_schedule", lr_schedule},
            {"warmup_steps", warmup_steps},
            {"grad_clip", grad_clip},
            {"ema", ema},
            {"prediction", prediction},
            {"sampler", sampler},
            {"eta", eta},
            {"step_spacing", step_spacing},
            {"end_noise", end_noise},
            {"calibrate", calibrate},
            {"volume_fit", volume_fit},
            {"steps", steps},
            {"model_name", model_name},
            {"seed", global.seed}};
  }
};

std::string fitted_method_name(const Options& o) { return o.model_name + " (noise fitted to volumes)"; }

std::string ses_tag(const std::string& ses) { return ses.rfind("ses-", 0) == 0 ? ses.substr(4) : ses; }

// Runs this executable with `args` (a stage that is its own subcommand, with
// its own run record); throws when it fails.
void run_self(const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> full{"/proc/self/exe"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string line = "harmonize";
  for (const auto& a : args) line += " " + a;
  log::debug("running: " + line);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0)
    throw Error(what + ": cannot start '" + line + "'");
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) throw Error(what + ": lost '" + line + "'");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(what + " failed (" +
                (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                   : "signal " + std::to_string(WTERMSIG(status))) +
                "): " + line);
}

std::vector<std::string> bids_subjects(const Options& o) {
  if (!fs::is_directory(o.bids)) throw InputError(o.bids, "BIDS folder does not exist");
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(o.bids)) {
    const std::string id = e.path().filename().string();
    if (!e.is_directory() || id.rfind("sub-", 0) != 0) continue;
    auto scan = [&](const std::string& ses) {
      return fs::exists(o.bids + "/" + id + "/" + ses + "/anat/" + id + "_" + ses + "_T1w.nii.gz");
    };
    if (scan(o.source_session) && scan(o.target_session)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

struct Paths {
  const Options& o;
  std::string prep() const { return o.out + "/prep"; }
  std::string model_dir(int fold, const std::string& dir) const {
    return o.out + "/models/fold-" + std::to_string(fold + 1) + "_" + dir;
  }
  std::string harmonized(const std::string& dir, const std::string& sub, const std::string& desc) const {
    return o.out + "/harmonized/" + dir + "/" + sub + "_desc-" + desc + "_T1w.nii.gz";
  }
  std::string metrics(const std::string& dir, const std::string& sub) const {
    return o.out + "/metrics/" + dir + "/" + sub + "_metrics.csv";
  }
  // Preprocessed image of a session, on the pair's target-session grid.
  std::string image(const std::string& sub, const std::string& ses) const {
    if (ses == o.target_session)
      return prep() + "/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_desc-preproc_T1w.nii.gz";
    return prep() + "/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_space-ses" + ses_tag(o.target_session) +
           "_desc-preproc_T1w.nii.gz";
  }
  std::string brain(const std::string& sub) const {
    return prep() + "/" + sub + "/" + o.target_session + "/anat/" + sub + "_" + o.target_session +
           "_desc-brain_mask.nii.gz";
  }
};

// The simulated truth of the target-session scan carried onto `grid` (same
// world space): CSF/GM/WM fractions resampled linearly, each brain voxel
// labelled by its largest fraction. Empty when the truth is not there.
std::optional<Mask> truth_on(const Options& o, const std::string& sub, const Geometry& grid, const Mask& brain) {
  if (o.truth_dir.empty()) return std::nullopt;
  const std::string base = o.truth_dir + "/" + sub + "/" + o.target_session + "/anat/" + sub + "_" + o.target_session;
  std::array<Volume, 3> frac;
  const char* names[3] = {"CSF", "GM", "WM"};
  for (int c = 0; c < 3; ++c) {
    const std::string path = base + "_label-" + names[c] + "_probseg.nii.gz";
    if (!fs::exists(path)) return std::nullopt;
    frac[c] = resample(read_nifti(path), grid);
  }
  Mask dseg(grid, 0);
  for (std::size_t n = 0; n < dseg.data.size(); ++n) {
    if (!brain.data[n]) continue;
    int best = 0;
    for (int c = 1; c < 3; ++c)
      if (frac[c].data[n] > frac[best].data[n]) best = c;
    if (frac[best].data[n] > 0.0f) dseg.data[n] = std::uint8_t(best + 1);
  }
  return dseg;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The calibration of one fold's model (--calibrate, --volume-fit): the model
// harmonizes every third brain slice of the fold's training subjects, without
// end noise. The main output's noise (--end-noise) is added and the quantile
// map from those slices to the same subjects' target scans (brain voxels of
// the harmonized slices: the same anatomy on both sides) is saved as
// calibration.json in the model folder. With --volume-fit, the model also
// harmonizes every slice of every fourth training subject; the end noise whose
// outputs (through the map refitted on the slices with that noise) give those
// subjects the tissue volumes of their target scans' segmentations, and its
// map, are saved as calibration-volumes.json. A rerun reads them back.
struct Calibration {
  QuantileMap map;                   // of the main output
  std::optional<EndNoiseFit> fitted;  // of the volume-fitted output (sd and map)
};

Calibration calibrate(const Options& o, const Paths& p, int f, const std::string& dir, const LoadedModel& model,
                      HarmonizeOptions h, double end_noise, const std::vector<std::string>& test) {
  const std::string path = p.model_dir(f, dir) + "/calibration.json";
  const std::string fitted_path = p.model_dir(f, dir) + "/calibration-volumes.json";
  Calibration c;
  if (fs::exists(path) && (!o.volume_fit || fs::exists(fitted_path))) {
    c.map = read_quantile_map(path);
    if (o.volume_fit)
      c.fitted = EndNoiseFit{read_calibration_end_noise(fitted_path).value_or(0.0), read_quantile_map(fitted_path), {}};
    return c;
  }
  std::vector<std::string> training, scored;
  for (const auto& s : bids_subjects(o))
    if (std::find(test.begin(), test.end(), s) == test.end()) training.push_back(s);
  for (std::size_t i = 0; i < training.size(); i += 4) scored.push_back(training[i]);
  const Direction d = parse_direction(dir);
  h.end_noise = 0.0;
  h.progress = nullptr;
  h.seed += 1;
  log::info("calibrating fold " + std::to_string(f + 1) + " " + dir + " on every third slice of " +
            std::to_string(training.size()) + " training subjects" +
            (o.volume_fit ? " and all slices of " + std::to_string(scored.size()) + " of them" : ""));
  HarmonizeOptions thirds = h;
  thirds.slice_stride = 3;
  NoiseFitData slices{harmonize_prepared(model, p.prep(), training, thirds), {}, {}};
  for (std::size_t i = 0; i < training.size(); ++i) {
    slices.target.push_back(read_nifti(p.image(training[i], d.target_session)));
    if (slices.target[i].data.size() != slices.produced[i].data.size())
      throw InputError(p.image(training[i], d.target_session), "grid differs from its harmonized slices");
    slices.region.push_back(harmonized_slices(slices.produced[i], read_nifti_mask(p.brain(training[i]))));
  }
  c.map = fit_noisy_map(slices, end_noise, h.seed);
  write_quantile_map(path, c.map, {{"training_subjects", training}, {"end_noise", end_noise}});
  if (o.volume_fit) {
    NoiseFitData whole{harmonize_prepared(model, p.prep(), scored, h), {}, {}};
    for (const auto& s : scored) {
      whole.target.push_back(read_nifti(p.image(s, d.target_session)));
      whole.region.push_back(read_nifti_mask(p.brain(s)));
    }
    const EndNoiseFit fit = fit_end_noise_to_volumes(slices, whole, derive_seed(h.seed, 1u << 20));
    std::string tried;
    nlohmann::json table = nlohmann::json::array();
    for (const auto& [sd, score] : fit.tried) {
      tried += (tried.empty() ? "" : ", ") + std::to_string(sd).substr(0, 5) + ": " + std::to_string(int(score));
      table.push_back({{"end_noise", sd}, {"mean_abs_volume_difference_mm3", score}});
    }
    log::info("volume-fitted end noise of fold " + std::to_string(f + 1) + " " + dir + ": sd " +
              std::to_string(fit.sd).substr(0, 5) + " (mean |volume difference| mm3 per sd: " + tried + ")");
    c.fitted = fit;
    write_quantile_map(fitted_path, fit.map,
                       {{"training_subjects", training}, {"scored_subjects", scored}, {"end_noise", fit.sd},
                        {"tried", table}});
  }
  return c;
}

void run_crossval(Options& o) {
  const Paths p{o};
  const auto t_start = std::chrono::steady_clock::now();
  fs::create_directories(o.out);
  check_output_path(o.out + "/crossval.json", true);

  // The configuration and folds of this folder (fixed at the first run).
  const std::string state_path = o.out + "/crossval.json";
  nlohmann::json state;
  const std::vector<std::string> subjects = bids_subjects(o);
  if (fs::exists(state_path)) {
    state = nlohmann::json::parse(read_text_file(state_path));
    // Folders from before --end-noise, --calibrate and --volume-fit existed ran with their defaults.
    auto& stored = state.at("config");
    if (!stored.contains("end_noise")) stored["end_noise"] = "none";
    if (!stored.contains("calibrate")) stored["calibrate"] = false;
    if (!stored.contains("volume_fit")) stored["volume_fit"] = false;
    if (stored != o.config())
      throw UsageError(o.out + " holds a cross-validation with other options (" + state_path +
                       "); use another OUT_DIR, or the same options to continue it");
    log::info("continuing the cross-validation in " + o.out);
  } else {
    if (subjects.size() < std::size_t(o.folds))
      throw InputError(o.bids, "has " + std::to_string(subjects.size()) + " subjects with both sessions; " +
                                   std::to_string(o.folds) + " folds need at least as many");
    const auto groups = read_participant_groups(o.bids + "/participants.tsv");
    state = {{"config", o.config()},
             {"folds", make_folds(subjects, groups, o.folds, o.global.seed)},
             {"seconds", nlohmann::json::object()}};
    write_text_atomically(state_path, state.dump(2) + "\n");
  }
  const auto folds = state.at("folds").get<std::vector<std::vector<std::string>>>();
  auto add_seconds = [&](const std::string& stage, double s) {
    state["seconds"][stage] = state["seconds"].value(stage, 0.0) + s;
    write_text_atomically(state_path, state.dump(2) + "\n");
  };
  const std::string threads_arg = std::to_string(threads()), seed_arg = std::to_string(o.global.seed);

  // 1. Preprocessing (its own command and record).
  if (!fs::exists(p.prep() + "/dataset.json")) {
    log::info("[1/5] preprocessing " + std::to_string(subjects.size()) + " pairs");
    const auto t0 = std::chrono::steady_clock::now();
    fs::remove_all(p.prep() + ".partial");
    std::vector<std::string> args{"preprocess",       o.bids,
                                  p.prep(),           "--force",
                                  "--spacing",        std::to_string(o.spacing),
                                  "--slice-size",     std::to_string(o.slice_size),
                                  "--source-session", o.source_session,
                                  "--target-session", o.target_session,
                                  "--threads",        threads_arg,
                                  "--seed",           seed_arg};
    if (o.affine_only) args.push_back("--no-deformable");
    if (!o.mask_dir.empty()) args.insert(args.end(), {"--mask-dir", o.mask_dir});
    if (o.global.quiet) args.push_back("--quiet");
    run_self(args, "preprocessing");
    add_seconds("preprocess", seconds_since(t0));
  } else {
    log::info("[1/5] preprocessing: done before");
  }

  // 2. One model per fold and direction.
  for (int f = 0; f < o.folds; ++f)
    for (const auto& dir : o.directions) {
      const std::string run = p.model_dir(f, dir);
      const std::string label = "fold " + std::to_string(f + 1) + "/" + std::to_string(o.folds) + " " + dir;
      if (fs::exists(run + "/model.pt") && read_model_header(run + "/model.pt").step >= o.train_steps) {
        log::info("[2/5] training " + label + ": done before");
        continue;
      }
      log::info("[2/5] training " + label);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::string> args;
      if (fs::exists(run + "/checkpoints/last.pt")) {
        args = {"train", "--resume", run, "--max-steps", std::to_string(o.train_steps)};
      } else {
        std::vector<std::string> train;
        for (int g = 0; g < o.folds; ++g)
          if (g != f) train.insert(train.end(), folds[g].begin(), folds[g].end());
        std::sort(train.begin(), train.end());
        args = {"train",
                p.prep(),
                "--direction",
                dir,
                "--out",
                run,
                "--force",
                "--preset",
                o.preset,
                "--batch",
                std::to_string(o.batch),
                "--lr",
                std::to_string(o.lr),
                "--lr-schedule",
                o.lr_schedule,
                "--warmup-steps",
                std::to_string(o.warmup_steps),
                "--grad-clip",
                std::to_string(o.grad_clip),
                "--ema",
                std::to_string(o.ema),
                "--prediction",
                o.prediction,
                "--max-steps",
                std::to_string(o.train_steps),
                "--validate-every",
                "0",
                "--save-every",
                std::to_string(std::max<int64_t>(100, o.train_steps / 10)),
                "--subjects"};
        args.insert(args.end(), train.begin(), train.end());
        args.push_back("--val-subjects");
        args.insert(args.end(), folds[f].begin(), folds[f].end());
        args.insert(args.end(), {"--seed", std::to_string(o.global.seed + 1000 * f)});
      }
      args.insert(args.end(), {"--threads", threads_arg, "--device", o.device});
      if (o.global.quiet) args.push_back("--quiet");
      run_self(args, "training " + label);
      add_seconds("train", seconds_since(t0));
    }

  // 3. Harmonize each fold's test subjects with its models; histogram matching
  //    to a training subject's target scan of the same fold as the baseline.
  for (int f = 0; f < o.folds; ++f)
    for (const auto& dir : o.directions) {
      const Direction d = parse_direction(dir);
      std::vector<std::string> todo;
      for (const auto& sub : folds[f])
        if (!fs::exists(p.harmonized(dir, sub, "harmonized")) ||
            (o.volume_fit && !fs::exists(p.harmonized(dir, sub, "volumefit"))))
          todo.push_back(sub);
      const std::string label = "fold " + std::to_string(f + 1) + " " + dir;
      if (!todo.empty()) {
        log::info("[3/5] harmonizing " + std::to_string(todo.size()) + " subjects, " + label + " (" + o.sampler + ", " +
                  std::to_string(o.steps) + " steps)");
        const auto t0 = std::chrono::steady_clock::now();
        HarmonizeOptions h;
        h.device = o.device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
        const LoadedModel model = load_model(p.model_dir(f, dir) + "/model.pt", h.device);
        h.sampler = o.sampler;
        h.steps = o.steps;
        h.eta = o.eta;
        h.spacing = o.step_spacing;
        // The network's output is sampled once, without end noise; each output
        // (the main one, the volume-fitted one) adds its own white noise.
        const double end_noise = resolve_end_noise(o.end_noise, model.header, p.model_dir(f, dir) + "/model.pt");
        if (end_noise > 0) log::info("sampling ends at noise sd " + std::to_string(end_noise).substr(0, 6));
        h.end_noise = 0.0;
        h.batch = o.sample_batch;
        h.seed = o.global.seed + 7919 * std::uint64_t(f + 1);
        std::unique_ptr<Progress> progress;
        std::size_t last = 0;
        h.progress = [&](std::size_t done, std::size_t all) {
          if (!progress) progress = std::make_unique<Progress>("sample", all);
          progress->advance(done - last);
          last = done;
        };
        std::optional<Calibration> calibration;
        if (o.calibrate) calibration = calibrate(o, p, f, dir, model, h, end_noise, folds[f]);
        if (calibration && calibration->fitted)
          log::info("volume-fitted output: end noise sd " + std::to_string(calibration->fitted->sd).substr(0, 5));
        const auto volumes = harmonize_prepared(model, p.prep(), todo, h);
        if (progress) progress->finish();
        for (std::size_t i = 0; i < todo.size(); ++i) {
          const Mask brain = read_nifti_mask(p.brain(todo[i]));
          // The noise of a subject depends on its place among all subjects, not on this run's to-do list.
          const std::uint64_t k = std::uint64_t(std::find(subjects.begin(), subjects.end(), todo[i]) - subjects.begin());
          auto finish = [&](double sd, const QuantileMap* map, std::uint64_t stream, const std::string& desc) {
            Volume v = volumes[i];
            for (std::size_t n = 0; n < v.data.size(); ++n)
              if (!brain.data[n]) v.data[n] = 0.0f;
            add_end_noise(v, brain, sd, derive_seed(h.seed, stream));
            if (map) apply_quantile_map(v, brain, *map);
            write_nifti(p.harmonized(dir, todo[i], desc), v);
          };
          finish(end_noise, calibration ? &calibration->map : nullptr, 2 * k, "harmonized");
          if (o.volume_fit) finish(calibration->fitted->sd, &calibration->fitted->map, 2 * k + 1, "volumefit");
        }
        add_seconds("harmonize", seconds_since(t0));
      }
      // The baseline's reference: the first training subject of this fold.
      std::string ref_sub;
      for (const auto& s : subjects)
        if (std::find(folds[f].begin(), folds[f].end(), s) == folds[f].end()) {
          ref_sub = s;
          break;
        }
      for (const auto& sub : folds[f]) {
        const std::string out = p.harmonized(dir, sub, "histmatch");
        if (fs::exists(out)) continue;
        const Mask brain = read_nifti_mask(p.brain(sub)), ref_brain = read_nifti_mask(p.brain(ref_sub));
        write_nifti(out, histogram_match(read_nifti(p.image(sub, d.condition_session)), brain,
                                         read_nifti(p.image(ref_sub, d.target_session)), ref_brain));
      }
    }

  // 4. Metrics per subject and direction.
  std::vector<MetricRow> rows;
  std::vector<std::pair<std::string, std::string>> cases;  // (direction, subject)
  for (const auto& dir : o.directions)
    for (const auto& f : folds)
      for (const auto& sub : f) cases.emplace_back(dir, sub);
  {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < cases.size(); ++i)
      if (!fs::exists(p.metrics(cases[i].first, cases[i].second))) todo.push_back(i);
    if (!todo.empty()) {
      log::info("[4/5] evaluating " + std::to_string(todo.size()) + " subject x direction cases");
      const auto t0 = std::chrono::steady_clock::now();
      Progress progress("evaluate", todo.size());
      for (std::size_t i : todo) {
        const auto& [dir, sub] = cases[i];
        const Direction d = parse_direction(dir);
        EvaluateInput in;
        in.subject = sub;
        in.direction = dir;
        in.source = read_nifti(p.image(sub, d.condition_session));
        in.target = read_nifti(p.image(sub, d.target_session));
        in.brain = read_nifti_mask(p.brain(sub));
        in.methods.emplace_back("Histogram matching", read_nifti(p.harmonized(dir, sub, "histmatch")));
        in.methods.emplace_back(o.model_name, read_nifti(p.harmonized(dir, sub, "harmonized")));
        if (o.volume_fit)
          in.methods.emplace_back(fitted_method_name(o), read_nifti(p.harmonized(dir, sub, "volumefit")));
        in.truth_dseg = truth_on(o, sub, in.target.geom, in.brain);
        fs::create_directories(fs::path(p.metrics(dir, sub)).parent_path());
        write_metrics_csv(p.metrics(dir, sub), evaluate_subject(in, EvaluateOptions{}));
        progress.advance(1, dir + " " + sub);
      }
      progress.finish();
      add_seconds("evaluate", seconds_since(t0));
    } else {
      log::info("[4/5] evaluation: done before");
    }
    for (const auto& [dir, sub] : cases) {
      const auto r = read_metrics_csv(p.metrics(dir, sub));
      rows.insert(rows.end(), r.begin(), r.end());
    }
    write_metrics_csv(o.out + "/metrics.csv", rows);
  }

  // 5. Figures and the report.
  log::info("[5/5] report");
  const auto t0 = std::chrono::steady_clock::now();
  ReportInput report;
  report.out_dir = o.out;
  report.rows = rows;
  fs::create_directories(o.out + "/figures");
  for (const auto& [dir, sub] : cases) {
    const Direction d = parse_direction(dir);
    const std::string stem = "figures/" + dir + "_" + sub;
    if (!fs::exists(o.out + "/" + stem + "_slices.png") || !fs::exists(o.out + "/" + stem + "_histogram.png")) {
      const Volume source = read_nifti(p.image(sub, d.condition_session));
      const Volume target = read_nifti(p.image(sub, d.target_session));
      const Volume harmonized = read_nifti(p.harmonized(dir, sub, "harmonized"));
      const Mask brain = read_nifti_mask(p.brain(sub));
      const std::string title = sub + "  " + dir;
      write_png(o.out + "/" + stem + "_slices.png", comparison_figure(source, target, harmonized, brain, title));
      write_png(o.out + "/" + stem + "_histogram.png", histogram_figure(source, target, harmonized, brain, title));
    }
    report.figures.push_back(
        {sub, dir, sub + ", " + dir + ": source / target / harmonized / |difference|", stem + "_slices.png"});
    report.figures.push_back({sub, dir, sub + ", " + dir + ": brain intensity histograms", stem + "_histogram.png"});
  }
  add_seconds("report", seconds_since(t0));
  const auto& secs = state["seconds"];
  double work = 0;
  for (const char* k : {"preprocess", "train", "harmonize", "evaluate", "report"}) work += secs.value(k, 0.0);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Time on %d thread%s: %.1f min of stage work (preprocess %.1f, train %.1f, harmonize %.1f, evaluate "
                "%.1f, report %.1f min; summed over resumed invocations); this invocation %.1f min",
                threads(), threads() == 1 ? "" : "s", work / 60, secs.value("preprocess", 0.0) / 60,
                secs.value("train", 0.0) / 60, secs.value("harmonize", 0.0) / 60, secs.value("evaluate", 0.0) / 60,
                secs.value("report", 0.0) / 60, seconds_since(t_start) / 60);
  std::size_t n_train = subjects.size() - folds[0].size();
  std::string fitted_line;
  if (o.volume_fit) {
    fitted_line = "Volume-fitted output (`" + fitted_method_name(o) +
                  "`, `--volume-fit`): the same samples with the white noise, chosen per model from sd 0-0.1, "
                  "whose outputs on every fourth training subject of the fold, after their own quantile map, give "
                  "tissue volumes closest to those of their target scans' segmentations; noise sd per model:";
    for (const auto& dir : o.directions)
      for (int f = 0; f < o.folds; ++f) {
        const auto sd = read_calibration_end_noise(p.model_dir(f, dir) + "/calibration-volumes.json");
        char b[96];
        std::snprintf(b, sizeof b, " %s fold %d %.3f%s", dir.c_str(), f + 1, sd.value_or(0.0),
                      f + 1 < o.folds || dir != o.directions.back() ? "," : "");
        fitted_line += b;
      }
  }
  report.settings = {
      "Data: `" + o.bids + "`, " + std::to_string(subjects.size()) + " subjects with " + o.source_session + " and " +
          o.target_session + " scans",
      std::to_string(o.folds) + " folds over subjects (groups of participants.tsv mixed in every fold); about " +
          std::to_string(n_train) + " training subjects per fold" + (o.folds != 4 ? " (the paper uses 4 folds)" : ""),
      "Preprocessing: " + std::string(o.mask_dir.empty() ? "template brain masks" : "given brain masks") + ", N4, " +
          std::to_string(o.spacing).substr(0, 4) + " mm, " + std::to_string(o.slice_size) + "x" +
          std::to_string(o.slice_size) + " sagittal slices, " + (o.affine_only ? "affine" : "affine + B-spline") +
          " pair registration",
      "Model: preset `" + o.preset + "`, " + std::to_string(o.train_steps) +
          " training steps per fold and direction, batch " + std::to_string(o.batch) + ", Adam lr " +
          std::to_string(o.lr).substr(0, 6) +
          (o.lr_schedule == "cosine" ? " (cosine decay, " + std::to_string(o.warmup_steps) + " warm-up steps)" : "") +
          (o.grad_clip > 0 ? ", gradient norm clipped to " + std::to_string(o.grad_clip).substr(0, 4) : "") + ", EMA " +
          std::to_string(o.ema).substr(0, 6) + ", predicting " + o.prediction +
          " (the paper: 300,000 steps, lr 1e-4, EMA 0.9999, predicting eps)",
      "Sampling: " + o.sampler + " with " + std::to_string(o.steps) + " respaced steps (" + o.step_spacing +
          " spacing)" + (o.sampler == "ddim" ? ", eta " + std::to_string(o.eta).substr(0, 4) : "") +
          (o.end_noise == "none" ? std::string()
           : o.end_noise == "auto"
               ? ", ending at the target scanner's noise level measured on each model's training targets (`--end-noise "
                 "auto`)"
               : ", ending at noise sd " + o.end_noise) +
          (o.calibrate ? "; outputs calibrated by a quantile map fitted on each fold's training subjects "
                         "(`--calibrate`)"
                       : "") +
          " (the paper: 1000 DDPM steps)",
      fitted_line,
      "Histogram matching: ITK's filter, each test subject's source scan matched to the target-contrast scan of the "
      "first training subject of its fold",
      buf,
  };
  report.settings.erase(std::remove(report.settings.begin(), report.settings.end(), std::string()),
                        report.settings.end());
  write_report(report);
  std::printf("Report: %s/report.html and report.md\n", o.out.c_str());
}

}  // namespace

void register_crossval(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "crossval",
      "The paper's experiment on a paired BIDS dataset: preprocess, k folds over subjects (groups mixed), one model\n"
      "per fold and direction, harmonize each fold's test subjects, histogram matching as a baseline, metrics\n"
      "(MSE, AHD, tissue volumes, Dice, Hausdorff) and OUT_DIR/report.html + report.md. Resumable: run the same\n"
      "command again and finished stages are skipped.\n"
      "  harmonize crossval BIDS_DIR OUT_DIR [--folds 4] [--train-steps N] [--spacing 1] ...");
  cmd->add_option("bids", opt->bids, "Paired BIDS dataset (harmonize simulate, or your own)")->required();
  cmd->add_option("out", opt->out, "Output folder (created; rerun to continue)")->required();
  cmd->add_option("--folds", opt->folds, "Number of folds")->capture_default_str();
  cmd->add_option("--directions", opt->directions, "Directions to evaluate")->capture_default_str();
  cmd->add_option("--source-session", opt->source_session, "Session registered onto the other")->capture_default_str();
  cmd->add_option("--target-session", opt->target_session, "Session whose grid a pair shares")->capture_default_str();
  cmd->add_option("--spacing", opt->spacing, "Isotropic voxel size after preprocessing, mm")->capture_default_str();
  cmd->add_option("--slice-size", opt->slice_size, "Sagittal slice size")->capture_default_str();
  cmd->add_flag("--no-deformable", opt->affine_only, "Affine pair registration only");
  cmd->add_option("--mask-dir", opt->mask_dir, "Brain masks per scan (default: template registration)");
  cmd->add_option("--truth-dir", opt->truth_dir,
                  "Ground truth (CSF/GM/WM probseg per scan) to evaluate segmentations against; default: "
                  "BIDS_DIR/derivatives/truth when it exists");
  cmd->add_option("--preset", opt->preset, "Network preset (paper, cpu, tiny, ...)")->capture_default_str();
  cmd->add_option("--train-steps", opt->train_steps, "Training steps per fold and direction")->capture_default_str();
  cmd->add_option("--batch", opt->batch, "Training batch")->capture_default_str();
  cmd->add_option("--lr", opt->lr, "Adam learning rate")->capture_default_str();
  add_lr_schedule_options(cmd, opt->lr_schedule, opt->warmup_steps, opt->grad_clip);
  cmd->add_option("--ema", opt->ema, "EMA rate of the weights")->capture_default_str();
  add_prediction_option(cmd, opt->prediction);
  cmd->add_option("--sampler", opt->sampler, "ddpm or ddim")->capture_default_str();
  cmd->add_option("--steps", opt->steps, "Sampling steps")->capture_default_str();
  cmd->add_option("--eta", opt->eta, "DDIM eta: 0 deterministic, 1 the DDPM posterior variance")->capture_default_str();
  add_step_spacing_option(cmd, opt->step_spacing);
  add_end_noise_option(cmd, opt->end_noise);
  cmd->add_flag("--calibrate", opt->calibrate,
                "Correct each model's systematic intensity bias: a quantile map from its outputs on the fold's "
                "training subjects (every third slice) to their target scans, applied to the test subjects");
  cmd->add_flag("--volume-fit", opt->volume_fit,
                "Also evaluate each model's volume-fitted output, as a method of its own: the same samples with the "
                "white noise (sd 0-0.1) that, on every fourth training subject of the fold, gives tissue volumes "
                "closest to the target scans' segmentations, then its own quantile map (needs --calibrate). A "
                "briefly trained model's outputs are smoother than real scans, which biases tissue volumes");
  cmd->add_option("--sample-batch", opt->sample_batch, "Slices per network call when sampling")->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu or cuda (training and sampling)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  add_global_options(cmd, opt->global);
  cmd->callback([opt] {
    apply_global_options(opt->global);
    Options& o = *opt;
    o.bids = fs::absolute(o.bids).lexically_normal().string();
    o.out = fs::absolute(o.out).lexically_normal().string();
    if (o.truth_dir.empty() && fs::is_directory(o.bids + "/derivatives/truth"))
      o.truth_dir = o.bids + "/derivatives/truth";
    if (!o.mask_dir.empty()) o.mask_dir = fs::absolute(o.mask_dir).lexically_normal().string();
    if (!o.truth_dir.empty()) o.truth_dir = fs::absolute(o.truth_dir).lexically_normal().string();
    for (const auto& d : o.directions) parse_direction(d);
    if (o.train_steps < 1) throw UsageError("--train-steps must be positive");
    if (o.steps < 1) throw UsageError("--steps must be positive");
    if (o.volume_fit && !o.calibrate) throw UsageError("--volume-fit needs --calibrate");
    fs::create_directories(o.out);
    RunRecord record(o.out, "harmonize_crossval", o.config(), o.global);
    run_crossval(o);
    record.finish();
  });
}

}  // namespace harmonize::cli
