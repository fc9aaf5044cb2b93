// Stages 1 and 2 of a cross-validation: preprocessing and training.
#include "crossval/stages.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "crossval/seeds.hpp"
#include "model/checkpoint.hpp"
#include "preprocess/dataset.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::vector<std::string> CrossvalRun::training_subjects(int fold) const {
  std::vector<std::string> out;
  for (const auto& s : subjects)
    if (std::find(folds[fold].begin(), folds[fold].end(), s) == folds[fold].end()) out.push_back(s);
  return out;
}

void preprocess_stage(const CrossvalRun& r) {
  const std::string prep = r.layout.prep();
  if (fs::exists(prep + "/dataset.json")) {
    log::info("[1/5] preprocessing: done before");
    return;
  }
  log::info("[1/5] preprocessing " + std::to_string(r.subjects.size()) + " pairs");
  const auto t0 = std::chrono::steady_clock::now();
  DatasetOptions d;
  d.prep = r.plan.preprocess;
  d.source_session = r.plan.source_session;
  d.target_session = r.plan.target_session;
  d.mask_dir = r.plan.mask_dir;
  PartialFolder folder(prep);
  preprocess_dataset(r.plan.bids, folder.path(), d, r.versions);
  folder.commit();
  r.add_seconds("preprocess", seconds_since(t0));
}

namespace {

// The options of fold f's run for `dir` of `objective` (the model's: "diffusion").
TrainOptions fold_options(const CrossvalRun& r, int f, const std::string& dir, const std::string& objective,
                          int64_t steps) {
  const CrossvalPlan& p = r.plan;
  TrainOptions t = p.train;
  t.data_dir = r.layout.prep();
  t.direction = dir;
  t.objective = objective;
  t.max_steps = steps;
  if (one_pass_objective(objective)) {
    t.context_slices = 0;      // the baselines see one slice
    t.min_train_timestep = 0;  // and have no timesteps
  }
  t.unet = t.resolved_unet();
  t.training_subjects = r.training_subjects(f);
  t.validation_subjects = r.folds[f];
  t.validate_every = 0;
  t.save_every = std::max<int64_t>(100, steps / 10);
  t.seed = crossval_seeds::training(p.seed, f);
  t.device = r.device;
  return t;
}

// Trains (or resumes, or skips when done) one run of the cross-validation.
void train_run(const CrossvalRun& r, int f, const std::string& dir, const std::string& objective, int64_t steps,
               const std::string& stage_key) {
  const CrossvalPlan& p = r.plan;
  const std::string run = r.layout.model_dir(f, dir, objective);
  const std::string label = "fold " + std::to_string(f + 1) + "/" + std::to_string(p.folds) + " " + dir +
                            (objective == kDiffusionObjective ? "" : " " + objective_method_name(objective));
  if (fs::exists(run + "/model.pt") && read_model_header(run + "/model.pt").step >= steps) {
    log::info("[2/5] training " + label + ": done before");
    return;
  }
  log::info("[2/5] training " + label + " (" + std::to_string(steps) + " steps)");
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Trainer> trainer;
  if (fs::exists(run + "/checkpoints/last.pt")) {
    trainer = std::make_unique<Trainer>(Trainer::resume(run, [&](TrainOptions& o) {
      o.max_steps = steps;
      o.device = r.device;
    }));
  } else {
    trainer = std::make_unique<Trainer>(Trainer::start(fold_options(r, f, dir, objective, steps), run, true));
  }
  Progress progress("train", std::size_t(std::max<int64_t>(0, trainer->options().max_steps - trainer->step())));
  trainer->run([&](const TrainReport&) { progress.advance(1); });
  progress.finish();
  r.add_seconds(stage_key, seconds_since(t0));
}

// Seconds per training step of fold 1's first run of `objective`: `steps`
// steps after 5 unmeasured ones, in a scratch folder that is removed.
double seconds_per_step(const CrossvalRun& r, const std::string& objective, int64_t steps) {
  const std::string scratch = r.layout.out + "/models/timing.partial";
  TrainOptions t = fold_options(r, 0, r.plan.directions.front(), objective, 5 + steps);
  t.save_every = t.max_steps;
  double at5 = 0, at_end = 0;
  {
    Trainer trainer = Trainer::start(t, scratch, true);
    trainer.run([&](const TrainReport& x) { (x.step == 5 ? at5 : at_end) = x.elapsed_s; });
  }
  fs::remove_all(scratch);
  return (at_end - at5) / double(steps);
}

// The steps of a baseline that take the model's time per run, measured once
// per run folder (models/baseline-budget_<objective>.json) so that a
// resumed or extended run keeps them: the two objectives timed in turn, twice.
BaselineBudget baseline_budget(const CrossvalRun& r, const std::string& objective) {
  if (auto stored = recorded_baseline_budget(r.layout, objective)) return *stored;
  const std::string path = r.layout.baseline_budget(objective);
  BaselineBudget b;
  b.objective = objective;
  log::info("[2/5] timing the model and the " + objective_method_name(objective) + " baseline per training step");
  const int64_t n = 20;
  for (int round = 0; round < 2; ++round) {
    b.model_s_per_step += seconds_per_step(r, kDiffusionObjective, n) / 2;
    b.baseline_s_per_step += seconds_per_step(r, objective, n) / 2;
  }
  b.steps = equal_time_steps(r.plan.train.max_steps, b.model_s_per_step, b.baseline_s_per_step);
  fs::create_directories(fs::path(path).parent_path());
  write_text_atomically(path, nlohmann::json{{"objective", objective},
                                             {"model_s_per_step", b.model_s_per_step},
                                             {"baseline_s_per_step", b.baseline_s_per_step},
                                             {"model_steps", r.plan.train.max_steps},
                                             {"steps", b.steps},
                                             {"threads", threads()}}
                                      .dump(2) +
                                  "\n");
  char line[200];
  std::snprintf(line, sizeof line, "%s: %.3f s per step against the model's %.3f: %lld steps",
                objective_method_name(objective).c_str(), b.baseline_s_per_step, b.model_s_per_step,
                (long long)b.steps);
  log::info(line);
  return b;
}

}  // namespace

std::optional<BaselineBudget> recorded_baseline_budget(const CrossvalLayout& layout, const std::string& objective) {
  const std::string path = layout.baseline_budget(objective);
  if (!fs::exists(path)) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(read_text_file(path));
    return BaselineBudget{objective, j.at("model_s_per_step").get<double>(), j.at("baseline_s_per_step").get<double>(),
                          j.at("steps").get<int64_t>()};
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("is not a baseline budget: ") + e.what());
  }
}

void train_stage(const CrossvalRun& r) {
  const CrossvalPlan& p = r.plan;
  for (int f = 0; f < p.folds; ++f)
    for (const auto& dir : p.directions) train_run(r, f, dir, kDiffusionObjective, p.train.max_steps, "train");
  for (const auto& objective : p.baselines) {
    const BaselineBudget b = baseline_budget(r, objective);
    for (int f = 0; f < p.folds; ++f)
      for (const auto& dir : p.directions) train_run(r, f, dir, b.objective, b.steps, "train_baselines");
  }
}

}  // namespace harmonize
