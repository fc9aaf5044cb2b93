// harmonize crossval: the paper's experiment on a paired BIDS dataset
// (crossval/run.hpp). This file maps the flags onto the plan's fields.
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "crossval/run.hpp"
#include "train/slice_dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {

void register_crossval(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    CrossvalPlan plan;
    std::string out, device = "cpu";
  };
  auto opt = std::make_shared<Options>();
  CrossvalPlan& p = opt->plan;
  // The command's defaults where they differ from the stages' own.
  p.train.max_steps = 20000;
  p.sampling.batch = 16;
  CLI::App* cmd = app.add_subcommand(
      "crossval",
      "The paper's experiment on a paired BIDS dataset: preprocess, k folds over subjects (groups mixed), one model\n"
      "per fold and direction, harmonize each fold's test subjects, histogram matching as a baseline, metrics\n"
      "(MSE, AHD, tissue volumes, Dice, Hausdorff) and OUT_DIR/report.html + report.md. Resumable: run the same\n"
      "command again and finished stages are skipped.\n"
      "  harmonize crossval BIDS_DIR OUT_DIR [--folds 4] [--train-steps N] [--spacing 1] ...");
  cmd->add_option("bids", p.bids, "Paired BIDS dataset (harmonize simulate, or your own)")->required();
  cmd->add_option("out", opt->out, "Output folder (created; rerun to continue)")->required();
  cmd->add_option("--folds", p.folds, "Number of folds")->check(CLI::Range(2, 1000))->capture_default_str();
  cmd->add_option("--directions", p.directions, "Directions to evaluate")->capture_default_str();
  cmd->add_option("--source-session", p.source_session, "Session registered onto the other")->capture_default_str();
  cmd->add_option("--target-session", p.target_session, "Session whose grid a pair shares")->capture_default_str();
  // Preprocessing.
  add_preprocess_options(cmd, p.preprocess);
  cmd->add_option("--mask-dir", p.mask_dir, "Brain masks per scan (default: template registration)");
  cmd->add_option("--truth-dir", p.truth_dir,
                  "Ground truth (CSF/GM/WM probseg per scan) to evaluate segmentations against; default: "
                  "BIDS_DIR/derivatives/truth when it exists");
  // Training.
  add_train_options(cmd, p.train);
  cmd->add_option("--train-steps", p.train.max_steps, "Training steps per fold and direction")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  // Harmonizing.
  add_sampling_options(cmd, p.sampling, "--sample-batch");
  add_end_noise_option(cmd, p.end_noise);
  cmd->add_flag("--calibrate", p.calibrate,
                "Correct each model's systematic intensity bias: a quantile map from its outputs on the fold's "
                "training subjects (every third slice) to their target scans, applied to the test subjects");
  cmd->add_flag("--volume-fit", p.volume_fit,
                "Also evaluate each model's volume-fitted output, as a method of its own: the same samples with the "
                "white noise (sd 0-0.1) that, on every fourth training subject of the fold, gives tissue volumes "
                "closest to the target scans' segmentations, then its own quantile map (needs --calibrate). A "
                "briefly trained model's outputs are smoother than real scans, which biases tissue volumes");
  cmd->add_option("--baselines", p.baselines,
                  "The paper's learned baselines beside the model, comma-separated: regression (DeepHarmony-like:\n"
                  "the same network maps source to target slices in one pass, L1 loss) and gan (pGAN-like: that\n"
                  "network against a PatchGAN discriminator, adversarial + L1 loss, no perceptual term). Each is\n"
                  "trained per fold and direction with the model's options for the model's training time, and\n"
                  "applied without corrections. Can be added to a finished OUT_DIR (only the new work is done)")
      ->delimiter(',')
      ->check(CLI::IsMember({"regression", "gan"}));
  cmd->add_option("--device", opt->device, "cpu or cuda (training and sampling)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  add_global_options(cmd, opt->global);
  cmd->callback([opt] {
    apply_global_options(opt->global);
    CrossvalPlan& p = opt->plan;
    auto absolute = [](const std::string& s) { return fs::absolute(s).lexically_normal().string(); };
    p.seed = opt->global.seed;
    p.train.unet = p.train.resolved_unet();
    p.preprocess.slice_width = p.preprocess.slice_height;
    p.bids = absolute(p.bids);
    if (p.truth_dir.empty() && fs::is_directory(p.bids + "/derivatives/truth"))
      p.truth_dir = p.bids + "/derivatives/truth";
    if (!p.mask_dir.empty()) p.mask_dir = absolute(p.mask_dir);
    if (!p.truth_dir.empty()) p.truth_dir = absolute(p.truth_dir);
    for (const auto& d : p.directions) parse_direction(d);
    if (p.volume_fit && !p.calibrate) throw UsageError("--volume-fit needs --calibrate");
    check_crossval_inputs(p);
    CrossvalContext ctx{absolute(opt->out), opt->device, versions()};
    fs::create_directories(ctx.out);
    RunRecord record(ctx.out, "harmonize_crossval", to_json(p), opt->global);
    run_crossval(p, ctx);
    record.finish();
  });
}

}  // namespace harmonize::cli
