// Stage 3 of a cross-validation: each fold's test subjects harmonized by the
// fold's models, and histogram matching to a training subject's target scan
// as the baseline.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "core/files.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "crossval/calibrate.hpp"
#include "crossval/seeds.hpp"
#include "crossval/stages.hpp"
#include "evaluate/histogram_matching.hpp"
#include "harmonize/correction.hpp"
#include "harmonize/recipe.hpp"
#include "harmonize/sample.hpp"
#include "harmonize/scan.hpp"
#include "io/nifti.hpp"
#include "model/tensor.hpp"
#include "train/slice_dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {

// The recipe of fold f's model for `dir` (no correction yet): what `apply
// --model` repeats of this run.
Recipe fold_recipe(const CrossvalRun& r, int f, const std::string& dir, std::uint64_t seed, const std::string& method) {
  Recipe recipe;
  recipe.sampling = r.plan.sampling;
  recipe.orientations = r.plan.train.orientations;
  recipe.seed = seed;
  recipe.made_by = "crossval " + r.layout.out + ", fold " + std::to_string(f + 1) + ", " + dir;
  recipe.method = method;
  return recipe;
}

// Writes the recipe into the model file when it differs from the one there.
void keep_recipe(const std::string& model_path, const LoadedModel& model, const Recipe& recipe) {
  ModelHeader header = model.header;
  header.recipe = to_json(recipe);
  if (header.recipe != model.header.recipe) save_model(model_path, header, model.model);
}

// The fold's models sample its test subjects once, without end noise; each
// output (the main one, the bare one, the volume-fitted one) is finished from those samples.
void harmonize_fold(const CrossvalRun& r, int f, const std::string& dir, const std::vector<std::string>& todo) {
  const CrossvalPlan& p = r.plan;
  const CrossvalLayout& L = r.layout;
  log::info("[3/5] harmonizing " + std::to_string(todo.size()) + " subjects, fold " + std::to_string(f + 1) + " " +
            dir + " (" + to_string(p.sampling.sampler) + ", " + std::to_string(p.sampling.steps) + " steps)");
  const auto t0 = std::chrono::steady_clock::now();
  HarmonizeOptions h;
  h.device = device_from_name(r.device);
  const std::string model_path = L.model_dir(f, dir) + "/model.pt";
  const LoadedModel model = load_model(model_path, h.device);
  h.sampling = p.sampling;
  h.seed = crossval_seeds::sampling(p.seed, f);
  h.views = parse_views(p.train.orientations);  // those trained on, fused
  const double end_noise = p.end_noise.resolve(model.header.target_noise_sd, model_path);
  if (end_noise > 0) log::info("sampling ends at noise sd " + std::to_string(end_noise).substr(0, 6));
  std::unique_ptr<Progress> progress;
  std::size_t last = 0;
  h.progress = [&](std::size_t done, std::size_t all) {
    if (!progress) progress = std::make_unique<Progress>("sample", all);
    progress->advance(done - last);
    last = done;
  };
  ModelCalibration c;
  c.main.end_noise_sd = end_noise;
  if (p.calibrate) c = calibrate_model(p, L, f, dir, model, h, end_noise, r.training_subjects(f));
  if (c.fitted) log::info("volume-fitted output: end noise sd " + std::to_string(c.fitted->end_noise_sd).substr(0, 5));
  // The model file carries how its main output is made, so that `apply
  // --model` alone repeats what this report evaluates (harmonize/recipe.hpp).
  {
    Recipe recipe = fold_recipe(r, f, dir, h.seed, p.model_name);
    recipe.end_noise_sd = c.main.end_noise_sd;
    recipe.map = c.main.map;
    keep_recipe(model_path, model, recipe);
  }
  // How this model harmonized its test subjects, for `apply` to repeat it on
  // the same preprocessed images (a scan's end noise: output_noise(seed, scan_key, 0)).
  write_text_atomically(L.model_dir(f, dir) + "/harmonize.json",
                        nlohmann::json{{"seed", h.seed},
                                       {"sampling", h.sampling},
                                       {"end_noise", end_noise},
                                       {"calibration", p.calibrate ? "calibration.json" : ""},
                                       {"subjects", r.folds[f]}}
                                .dump(2) +
                            "\n");
  // The stage `apply` runs, on the preprocessed images: each subject sampled
  // once (seeded by its image, harmonize/scan.hpp scan_key: a resumed run
  // samples it as an uninterrupted one, and `apply` repeats it), finished per
  // output and written before the next one starts.
  const std::string condition = parse_direction(dir).condition_session;
  sample_scans(
      model, todo.size(), [&](std::size_t i) { return preprocessed_scan(L, todo[i], condition); }, nullptr,
      preprocessed_options(p, h),
      [&](std::size_t i, SampledScan&& sampled) {
        write_nifti(L.harmonized(dir, todo[i], "harmonized"),
                    finish_scan(sampled, c.main, crossval_seeds::output_noise(h.seed, sampled.key, 0)));
        if (p.corrected()) write_nifti(L.harmonized(dir, todo[i], "bare"), finish_scan(sampled, Correction{}, 0));
        if (p.volume_fit)
          write_nifti(L.harmonized(dir, todo[i], "volumefit"),
                      finish_scan(sampled, *c.fitted, crossval_seeds::output_noise(h.seed, sampled.key, 1)));
      });
  if (progress) progress->finish();
  r.add_seconds("harmonize", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// A baseline's fold model maps its test subjects in one pass, without
// corrections; its model file carries that recipe.
void harmonize_baseline(const CrossvalRun& r, int f, const std::string& dir, const std::string& objective,
                        const std::vector<std::string>& todo) {
  const CrossvalPlan& p = r.plan;
  const CrossvalLayout& L = r.layout;
  const std::string name = objective_method_name(objective);
  log::info("[3/5] harmonizing " + std::to_string(todo.size()) + " subjects, fold " + std::to_string(f + 1) + " " +
            dir + ", " + name + " (one pass)");
  const auto t0 = std::chrono::steady_clock::now();
  HarmonizeOptions h;
  h.device = device_from_name(r.device);
  h.sampling = p.sampling;
  h.seed = crossval_seeds::sampling(p.seed, f);
  h.views = parse_views(p.train.orientations);  // those trained on, fused
  const std::string model_path = L.model_dir(f, dir, objective) + "/model.pt";
  const LoadedModel model = load_model(model_path, h.device);
  keep_recipe(model_path, model, fold_recipe(r, f, dir, h.seed, name));
  const std::string condition = parse_direction(dir).condition_session;
  sample_scans(
      model, todo.size(), [&](std::size_t i) { return preprocessed_scan(L, todo[i], condition); }, nullptr,
      preprocessed_options(p, h),
      [&](std::size_t i, SampledScan&& sampled) {
        write_nifti(L.harmonized(dir, todo[i], objective), finish_scan(sampled, Correction{}, 0));
      });
  r.add_seconds("harmonize_baselines", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace

void harmonize_stage(const CrossvalRun& r) {
  const CrossvalPlan& p = r.plan;
  const CrossvalLayout& L = r.layout;
  for (int f = 0; f < p.folds; ++f)
    for (const auto& dir : p.directions) {
      std::vector<std::string> todo;
      for (const auto& sub : r.folds[f])
        if (!fs::exists(L.harmonized(dir, sub, "harmonized")) ||
            (p.corrected() && !fs::exists(L.harmonized(dir, sub, "bare"))) ||
            (p.volume_fit && !fs::exists(L.harmonized(dir, sub, "volumefit"))))
          todo.push_back(sub);
      if (!todo.empty()) harmonize_fold(r, f, dir, todo);
      for (const auto& objective : p.baselines) {
        std::vector<std::string> missing;
        for (const auto& sub : r.folds[f])
          if (!fs::exists(L.harmonized(dir, sub, objective))) missing.push_back(sub);
        if (!missing.empty()) harmonize_baseline(r, f, dir, objective, missing);
      }
      // The baseline's reference: the first training subject of this fold.
      const Direction d = parse_direction(dir);
      const std::string ref = r.training_subjects(f).front();
      for (const auto& sub : r.folds[f]) {
        const std::string out = L.harmonized(dir, sub, "histmatch");
        if (fs::exists(out)) continue;
        const Mask brain = read_nifti_mask(L.brain(sub)), ref_brain = read_nifti_mask(L.brain(ref));
        write_nifti(out, histogram_match(read_nifti(L.image(sub, d.condition_session)), brain,
                                         read_nifti(L.image(ref, d.target_session)), ref_brain));
      }
    }
}

}  // namespace harmonize
