// Stages 1 and 2 of a cross-validation: preprocessing and training.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/files.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "crossval/seeds.hpp"
#include "crossval/stages.hpp"
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

void train_stage(const CrossvalRun& r) {
  const CrossvalPlan& p = r.plan;
  for (int f = 0; f < p.folds; ++f)
    for (const auto& dir : p.directions) {
      const std::string run = r.layout.model_dir(f, dir);
      const std::string label = "fold " + std::to_string(f + 1) + "/" + std::to_string(p.folds) + " " + dir;
      if (fs::exists(run + "/model.pt") && read_model_header(run + "/model.pt").step >= p.train.max_steps) {
        log::info("[2/5] training " + label + ": done before");
        continue;
      }
      log::info("[2/5] training " + label);
      const auto t0 = std::chrono::steady_clock::now();
      std::unique_ptr<Trainer> trainer;
      if (fs::exists(run + "/checkpoints/last.pt")) {
        trainer = std::make_unique<Trainer>(Trainer::resume(run, [&](TrainOptions& o) {
          o.max_steps = p.train.max_steps;
          o.device = r.device;
        }));
      } else {
        TrainOptions t = p.train;
        t.data_dir = r.layout.prep();
        t.direction = dir;
        t.unet = unet_preset(t.preset);
        t.training_subjects = r.training_subjects(f);
        t.validation_subjects = r.folds[f];
        t.validate_every = 0;
        t.save_every = std::max<int64_t>(100, p.train.max_steps / 10);
        t.seed = crossval_seeds::training(p.seed, f);
        t.device = r.device;
        trainer = std::make_unique<Trainer>(Trainer::start(t, run, true));
      }
      Progress progress("train", std::size_t(std::max<int64_t>(0, trainer->options().max_steps - trainer->step())));
      trainer->run([&](const TrainReport&) { progress.advance(1); });
      progress.finish();
      r.add_seconds("train", seconds_since(t0));
    }
}

}  // namespace harmonize
