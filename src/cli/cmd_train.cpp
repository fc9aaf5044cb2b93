// harmonize train: trains the conditional diffusion model on a preprocessed
// dataset for one direction, or continues a run (--resume).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "harmonize/recipe.hpp"
#include "train/trainer.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {

void register_train(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    TrainOptions train;
    std::string data, out, resume;
    SamplingOptions sampling;  // the recipe: how apply uses the model by default
    EndNoise end_noise;
  };
  auto opt = std::make_shared<Options>();
  TrainOptions& t = opt->train;
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train the conditional diffusion model (paper: Adam 1e-4, batch 4, EMA 0.9999, hybrid loss) on the\n"
      "slices of a preprocessed dataset (sagittal, or --orientations), for one direction; or continue a run\n"
      "with --resume RUN_DIR.\n"
      "RUN_DIR receives config.json, train_log.csv, checkpoints/{last,previous}.pt, model.pt and the run record.");
  cmd->add_option("data", opt->data, "Preprocessed dataset folder (harmonize preprocess)");
  auto* direction = cmd->add_option("--direction", t.direction, "1p5T-to-3T or 3T-to-1p5T");
  cmd->add_option("--out", opt->out, "Run folder (must not exist, unless --force)");
  cmd->add_option("--resume", opt->resume, "Continue the run in this folder from its last checkpoint");
  const std::vector<CLI::Option*> recipe = add_train_options(cmd, t);
  cmd->add_option("--max-steps", t.max_steps, "Train up to this step (counted from the start of the run)")
      ->capture_default_str();
  cmd->add_option("--max-minutes", t.max_minutes, "Stop after this many minutes (0: no limit)")->capture_default_str();
  cmd->add_option("--save-every", t.save_every, "Checkpoint interval, steps")->capture_default_str();
  cmd->add_option("--log-every", t.log_every, "train_log.csv row interval, steps")->capture_default_str();
  cmd->add_option("--validate-every", t.validate_every, "Validation-loss interval, steps (0: never)")
      ->capture_default_str();
  auto* val = cmd->add_option("--val-fraction", t.val_fraction, "Fraction of the subjects held out for validation")
                  ->capture_default_str();
  auto* train_subjects =
      cmd->add_option("--subjects", t.training_subjects, "Train on these subjects only (default: all but validation)");
  auto* val_subjects =
      cmd->add_option("--val-subjects", t.validation_subjects,
                      "Validation subjects (default: --val-fraction of them, or all not in --subjects)");
  auto* flip = cmd->add_flag("--flip", t.flip, "Augment with random left-right flips");
  cmd->add_option("--device", t.device, "cpu or cuda")->capture_default_str();
  auto* objective =
      cmd->add_option("--objective", t.objective,
                      "diffusion (the paper's conditional diffusion model), regression (a DeepHarmony-like\n"
                      "baseline: the same network maps the source slice to the target slice in one pass, L1 loss)\n"
                      "or gan (a pGAN-like baseline: that one-pass network against a PatchGAN discriminator,\n"
                      "adversarial + --gan-l1-weight x L1 loss). `apply` maps a baseline's slices in one pass and\n"
                      "ignores the sampling options")
          ->check(CLI::IsMember({"diffusion", "regression", "gan"}))
          ->capture_default_str();
  // The model's recipe (harmonize/recipe.hpp): what `apply --model` does
  // without options. Given here since training knows the model best.
  CLI::App* recipe_group =
      cmd->add_option_group("Recipe", "How `harmonize apply --model` samples this model unless told otherwise");
  add_sampling_options(recipe_group, opt->sampling, "--sample-batch");
  add_end_noise_option(recipe_group, opt->end_noise);
  const std::vector<CLI::Option*> sampling_recipe = recipe_group->get_options();
  add_global_options(cmd, opt->global);

  // Options a resumed run takes from its config.json.
  std::vector<CLI::Option*> fixed{direction, val, flip, train_subjects, val_subjects, objective};
  fixed.insert(fixed.end(), recipe.begin(), recipe.end());
  fixed.insert(fixed.end(), sampling_recipe.begin(), sampling_recipe.end());
  cmd->callback([opt, cmd, direction, fixed] {
    apply_global_options(opt->global);
    TrainOptions& t = opt->train;
    std::unique_ptr<Trainer> trainer;
    std::string run_dir, record_name = "harmonize_train";
    if (!opt->resume.empty()) {
      for (auto* o : fixed)
        if (o->count()) throw UsageError(o->get_name() + " cannot change when resuming (see RUN_DIR/config.json)");
      if (!opt->data.empty() || !opt->out.empty()) throw UsageError("--resume takes no DATA and no --out");
      run_dir = fs::absolute(opt->resume).lexically_normal().string();
      auto set = [cmd, &t](TrainOptions& o) {
        for (const char* name :
             {"--max-steps", "--max-minutes", "--save-every", "--log-every", "--validate-every", "--device"})
          if (cmd->get_option(name)->count()) {
            const std::string n = name;
            if (n == "--max-steps") o.max_steps = t.max_steps;
            if (n == "--max-minutes") o.max_minutes = t.max_minutes;
            if (n == "--save-every") o.save_every = t.save_every;
            if (n == "--log-every") o.log_every = t.log_every;
            if (n == "--validate-every") o.validate_every = t.validate_every;
            if (n == "--device") o.device = t.device;
          }
      };
      trainer = std::make_unique<Trainer>(Trainer::resume(run_dir, set));
      record_name += "_resume-step" + std::to_string(trainer->step());
    } else {
      if (opt->data.empty()) throw UsageError("train: give DATA (a preprocessed dataset) or --resume RUN_DIR");
      if (opt->out.empty()) throw UsageError("train: --out RUN_DIR is required");
      if (!direction->count()) throw UsageError("train: --direction is required (1p5T-to-3T or 3T-to-1p5T)");
      t.data_dir = opt->data;
      t.unet = t.resolved_unet();
      t.seed = opt->global.seed;
      opt->sampling.validate(t.diffusion.steps);
      run_dir = fs::absolute(opt->out).lexically_normal().string();
      trainer = std::make_unique<Trainer>(Trainer::start(t, run_dir, opt->global.force));
      Recipe r;
      r.sampling = opt->sampling;
      r.end_noise_sd = opt->end_noise.resolve(trainer->target_noise_sd(), run_dir);
      r.seed = opt->global.seed;
      r.orientations = t.orientations;
      r.made_by = "train " + run_dir;
      r.method = objective_method_name(t.objective);
      trainer->set_recipe(to_json(r));
      log::info("model recipe: " + describe(r, t.objective));
    }
    const TrainOptions& o = trainer->options();
    RunRecord record(run_dir, record_name, to_json(o), opt->global);
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s: %lld training slices (%zu subjects), %lld validation (%zu), %lld parameters, %s",
                  o.direction.c_str(), (long long)trainer->training_slices(), o.training_subjects.size(),
                  (long long)trainer->validation_slices(), o.validation_subjects.size(),
                  (long long)trainer->parameters(), o.device.c_str());
    log::info(line);
    std::snprintf(line, sizeof line, "noise sd of the training targets: %.4f (of [0, 1])", trainer->target_noise_sd());
    log::info(line);
    record.set("target_noise_sd", trainer->target_noise_sd());
    Progress progress("train", std::size_t(o.max_steps - trainer->step()));
    const TrainSummary s = trainer->run([&](const TrainReport& r) {
      char d[96];
      std::snprintf(d, sizeof d, "loss %.4f", r.loss);
      progress.advance(1, d);
      if (r.validated) {
        std::snprintf(line, sizeof line, "step %lld: validation loss %.5f (EMA %.5f)", (long long)r.step, r.val_loss,
                      r.val_ema_loss);
        log::debug(line);
      }
    });
    progress.finish();
    std::snprintf(line, sizeof line,
                  "trained steps %lld..%lld in %.1f s (stopped by %s); checkpoint %s/checkpoints/last.pt",
                  (long long)s.first_step, (long long)s.last_step, s.seconds, s.stopped_by.c_str(), run_dir.c_str());
    log::info(line);
    record.set("steps", {{"first", s.first_step}, {"last", s.last_step}, {"stopped_by", s.stopped_by}});
    record.finish();
  });
}

}  // namespace harmonize::cli
