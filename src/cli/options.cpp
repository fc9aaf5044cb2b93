#include "cli/options.hpp"

#include <map>

namespace harmonize::cli {

// CLI11's NonNegativeNumber names the largest double in its message; this says "must be >= 0".
CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& in) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v) || !(v >= 0)) return "must be a number >= 0, not '" + in + "'";
        return {};
      },
      "NONNEGATIVE");
}

void add_sampling_options(CLI::App* cmd, SamplingOptions& s, const std::string& batch_flag) {
  cmd->add_option("--sampler", s.sampler, "ddpm (ancestral, the paper's) or ddim")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, Sampler>{{"ddpm", Sampler::Ddpm}, {"ddim", Sampler::Ddim}}))
      ->default_str(to_string(s.sampler));
  cmd->add_option("--steps", s.steps,
                  "Sampling steps (respaced; the model's own count, 1000, is the paper's full chain)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--eta", s.eta, "DDIM eta: 0 deterministic, 1 the DDPM posterior variance")
      ->check(non_negative())
      ->capture_default_str();
  cmd->add_option(
         "--step-spacing", s.spacing,
         "Timesteps kept by the respaced sampler: uniform (an even stride, the reference code's) or "
         "quadratic (dense at low noise, where the target's fine texture is drawn) or trailing (an even stride "
         "that starts at the last timestep: the few-step choice; --steps 1 is a one-pass x0 estimate)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, StepSpacing>{{"uniform", StepSpacing::Uniform},
                                                                             {"quadratic", StepSpacing::Quadratic},
                                                                             {"trailing", StepSpacing::Trailing}}))
      ->default_str(to_string(s.spacing));
  cmd->add_option_function<std::vector<int>>(
         "--timesteps",
         [&s](const std::vector<int>& t) {
           s.timesteps = t;
           s.steps = static_cast<int>(t.size());
         },
         "The kept timesteps themselves, ascending and comma-separated (0-based, e.g. 24,999: one pass from pure "
         "noise, then one at low noise where the target's texture is drawn); replaces --steps and --step-spacing")
      ->delimiter(',')
      ->excludes("--steps")
      ->excludes("--step-spacing");
  cmd->add_option("--start-noise", s.start_noise,
                  "Where each slice's chain starts: slice (its own noise, the paper's) or volume (one noise volume "
                  "per scan, sliced in every orientation: the texture a few-step chain keeps from it agrees across "
                  "orientations, so fusing them keeps it instead of averaging three independent ones away)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, StartNoise>{{"slice", StartNoise::Slice}, {"volume", StartNoise::Volume}}))
      ->default_str(to_string(s.start_noise));
  cmd->add_option(batch_flag, s.batch, "Slices per network call when sampling")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

CLI::Option* add_end_noise_option(CLI::App* cmd, EndNoise& e) {
  return cmd
      ->add_option_function<std::string>(
          "--end-noise", [&e](const std::string& v) { e = EndNoise::parse(v); },
          "White noise added to the harmonized brain after sampling: none (the paper's chain ends at x0), auto "
          "(the target scanner's noise sd, measured on the training targets and kept in the model file) or an sd "
          "on the [0,1] scale. A briefly trained model returns noise-free slices; auto gives them the target's "
          "noise texture")
      ->check([](const std::string& in) -> std::string {
        try {
          EndNoise::parse(in);
        } catch (const std::exception&) {
          return "must be none, auto or a number in [0, 0.5), not '" + in + "'";
        }
        return {};
      })
      ->default_str(e.to_string());
}

#if HARMONIZE_WITH_TORCH
std::vector<CLI::Option*> add_train_options(CLI::App* cmd, TrainOptions& t) {
  return {
      cmd->add_option("--preset", t.preset, "Network: paper, cpu, medium, small or tiny (see README)")
          ->capture_default_str(),
      cmd->add_option("--batch", t.batch, "Training slices per batch")
          ->check(CLI::PositiveNumber)
          ->capture_default_str(),
      cmd->add_option("--lr", t.lr, "Adam learning rate")->capture_default_str(),
      cmd->add_option("--lr-schedule", t.lr_schedule, "constant (the paper's) or cosine (decays to 0 at the last step)")
          ->check(CLI::IsMember({"constant", "cosine"}))
          ->capture_default_str(),
      cmd->add_option("--warmup-steps", t.warmup_steps, "Linear learning-rate warm-up, steps")
          ->check(non_negative())
          ->capture_default_str(),
      cmd->add_option("--grad-clip", t.grad_clip, "Clip the gradients' global norm to this (0: off)")
          ->check(non_negative())
          ->capture_default_str(),
      cmd->add_option("--ema", t.ema_rate, "EMA rate of the weights")->capture_default_str(),
      cmd->add_option("--prediction", t.diffusion.prediction,
                      "What the network predicts: eps (the noise, the paper's), x0 (the target slice; learns in far "
                      "fewer steps) or v (x0-like at high noise, eps-like at low noise, so the target's fine texture "
                      "is kept)")
          ->check(CLI::IsMember({"eps", "x0", "v"}))
          ->capture_default_str(),
      cmd->add_option("--loss-norm", t.diffusion.loss_norm,
                      "Norm of the prediction loss: l2 (the paper's; the conditional mean) or l1 (the conditional "
                      "median: sharper edges where the source leaves the target in doubt)")
          ->check(CLI::IsMember({"l2", "l1"}))
          ->capture_default_str(),
      cmd->add_option("--spread", t.diffusion.spread,
                      "none (the paper's: the network gives an estimate of the target) or gaussian (x0 prediction "
                      "only: one more output channel learns how far the target scatters around that estimate, by "
                      "likelihood; apply then draws the output from it, so it carries the target scanner's noise) or "
                      "white (the same, learned from the high-pass part of that scatter only: the scanner's noise "
                      "without the estimate's smooth errors)")
          ->check(CLI::IsMember({"none", "gaussian", "white"}))
          ->capture_default_str(),
      cmd->add_option("--histogram-loss", t.diffusion.histogram_weight,
                      "Weight of a loss on the intensity distribution of the network's target estimate in each "
                      "training slice or patch (its sorted intensities against the target's: their 1-D Wasserstein "
                      "distance) beside the voxel-wise loss; 0 (the paper's) learns the voxel-wise mean or median "
                      "only, smoother than a scan. With it the bare output carries the target scanner's histogram")
          ->check(non_negative())
          ->capture_default_str(),
      cmd->add_option("--gan-l1-weight", t.gan_l1_weight,
                      "gan objective: weight of the L1 term beside the adversarial one (pix2pix's and pGAN's 100)")
          ->check(non_negative())
          ->capture_default_str(),
      cmd->add_option("--discriminator-channels", t.discriminator_channels,
                      "gan objective: width of the PatchGAN discriminator's first layer (then 2x, 4x)")
          ->check(CLI::PositiveNumber)
          ->capture_default_str(),
      cmd->add_option("--orientations", t.orientations,
                      "Slice orientations trained on (one per batch) and, by default, sampled and fused by apply "
                      "(voxel-wise median): sagittal (the paper's), coronal, axial, comma-separated")
          ->delimiter(',')
          ->check(CLI::IsMember({"sagittal", "coronal", "axial"}))
          ->capture_default_str(),
      cmd->add_option("--patch-size", t.patch_size,
                      "Train on square patches of this size centred on brain voxels instead of whole slices (0); "
                      "a multiple of the network's size multiple. Apply still maps whole slices")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str(),
      cmd->add_option("--context-slices", t.context_slices,
                      "2.5D: give the network this many neighbouring slices on each side of the source slice "
                      "(same orientation) as extra input channels; 0 is the paper's single slice. Diffusion only")
          ->check(CLI::Range(0, 8))
          ->capture_default_str(),
      cmd->add_option("--min-train-timestep", t.min_train_timestep,
                      "Diffusion: draw the training timesteps from this one to the last (0: all, the paper's); "
                      "e.g. 900 trains the network only at the high noise levels a one-pass sampler visits")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str()};
}
#endif

#if HARMONIZE_WITH_ITK
void add_preprocess_options(CLI::App* cmd, PreprocessOptions& p) {
  cmd->add_option("--spacing", p.spacing_mm, "Isotropic voxel size after preprocessing, mm")
      ->check(CLI::Range(0.2, 4.0))
      ->capture_default_str();
  cmd->add_option("--slice-size", p.slice_height, "In-plane size of the square sagittal slices")
      ->check(CLI::Range(8, 4096))
      ->capture_default_str();
  cmd->add_flag("--no-deformable{false}", p.deformable, "Register pairs with an affine transform only");
}
#endif

void add_templates_option(CLI::App* cmd, std::string& dir) {
  cmd->add_option("--templates", dir, "Folder with Colin27 ch2.nii.gz and ch2better.nii.gz (or ch2bet.nii.gz)")
      ->capture_default_str();
}

}  // namespace harmonize::cli
