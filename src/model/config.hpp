#pragma once
// Configuration of the denoising network and of the diffusion process, as data:
// written next to every checkpoint (JSON) so a run can be rebuilt from its folder.
// No LibTorch here, so configuration code compiles fast and is usable anywhere.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace harmonize {

// The OpenAI guided-diffusion UNet (Dhariwal & Nichol 2021), as used by the
// paper's reference code. Learned variance is implied by out_channels: a model
// whose output has twice the channels of the denoised image also predicts the
// variance interpolation (Nichol & Dhariwal 2021 eq. 15).
struct UNetConfig {
  int in_channels = 2;                        // clean source slice (+) noisy target slice
  int out_channels = 2;                       // eps and variance interpolation v
  int model_channels = 128;                   // base width
  std::vector<int> channel_mult{1, 1, 1, 1};  // one entry per resolution level
  int num_res_blocks = 2;                     // per level on the way down (up: +1)
  std::vector<int> attention_resolutions;     // downsample factors ds with attention;
                                              // the middle block always has attention
  int num_heads = 1;
  double dropout = 0.0;
  bool use_scale_shift_norm = false;
  int norm_groups = 32;  // GroupNorm groups (guided-diffusion: 32)

  int levels() const { return static_cast<int>(channel_mult.size()); }
  // Height and width must be multiples of this (one factor 2 per downsampling).
  int size_multiple() const { return 1 << (levels() - 1); }
  // Throws UsageError naming the first invalid field.
  void validate() const;
  bool operator==(const UNetConfig&) const = default;
};

// Named presets: "paper" (the reference network, 11,402,370 parameters),
// "cpu" (same structure, narrow: a 224x224 forward pass in well under a second
// on two CPU cores), "small" (width 16, GroupNorm(8): about 4x cheaper than
// "cpu", for the 2 mm default job), "tiny" (for tests and smoke runs on small images).
UNetConfig unet_preset(const std::string& name);
struct DiffusionConfig;
// The preset with its output channels fitted to what the process needs
// (DiffusionConfig::output_channels).
UNetConfig unet_preset(const std::string& name, const DiffusionConfig& diffusion);
std::vector<std::string> unet_preset_names();

// The input of a conditional network (model/conditional.hpp): the source
// slice with `context` neighbouring slices on each side (2.5D; 0: the paper's
// single slice), then the noisy target slice.
inline int conditional_in_channels(int context) { return 2 * context + 2; }
// The neighbours on each side that a conditional network's input holds.
inline int context_slices(const UNetConfig& u) { return (u.in_channels - 2) / 2; }

// How the model's variance output is read (Nichol & Dhariwal 2021 sec. 3.1).
enum class ModelVariance {
  LearnedRange,  // output [eps, v]; log var = frac log(beta_t) + (1-frac) log(beta~_t), frac=(v+1)/2
  FixedLarge,    // output [eps]; var = beta_t (beta~_1 at t=0), Ho 2020 sigma^2 = beta
  FixedSmall     // output [eps]; var = beta~_t (posterior variance), Ho 2020 sigma^2 = beta~
};
enum class LossKind {
  Hybrid,  // L_simple + lambda L_vlb (Nichol & Dhariwal eq. 16); needs LearnedRange
  Mse      // L_simple (Ho 2020 eq. 14); needs a fixed variance
};

struct DiffusionConfig {
  int steps = 1000;                 // T
  std::string schedule = "linear";  // only "linear" (Ho 2020: 1e-4 .. 0.02)
  ModelVariance variance = ModelVariance::LearnedRange;
  LossKind loss = LossKind::Hybrid;
  // What the network's first output channels predict: "eps" (the noise; the
  // paper's, Ho 2020), "x0" (the clean target slice; the MSE term is then on
  // x0, which learns an image-to-image mapping in far fewer steps) or "v"
  // (sqrt(abar) eps - sqrt(1 - abar) x0, Salimans & Ho 2022: x0-like at high
  // noise, eps-like at low noise, where x0 prediction loses the fine texture).
  std::string prediction = "eps";
  // The norm of the prediction term (L_simple): "l2" (the paper's, Ho 2020:
  // the network learns the conditional mean) or "l1" (the conditional
  // median, whose edges stay sharper where the mean averages over doubt).
  std::string loss_norm = "l2";
  // What the network says about the target beyond its x0 estimate: "none"
  // (the paper's: a point estimate) or "gaussian" (one more output channel,
  // the log variance of the target around the x0 estimate given x_t and the
  // source: the scanner's noise and whatever the source cannot tell, learned
  // by the Gaussian likelihood of the target with the estimate held fixed),
  // or "white" (the same channel, learned from the residual's high-pass part
  // only: its 3x3 in-plane mean removed, scaled by 9/8 so that white noise
  // keeps its variance; the scanner's noise, not the estimate's smooth
  // errors, which a draw would only add to).
  // Sampling then draws the output voxel-wise from it, so it carries the
  // target scanner's noise without a correction fitted afterwards. x0
  // prediction only.
  std::string spread = "none";
  // Weight of a loss on the x0 estimate's intensity distribution beside the
  // voxel-wise one: the mean absolute difference between the sorted
  // intensities of the estimate and of the target in each training slice or
  // patch (their 1-D Wasserstein distance). 0 is the paper's. A voxel-wise
  // loss alone learns the conditional mean or median, smoother than any
  // scan; this term asks the estimate for the target's histogram as well
  // (its noise, from x_t at high noise), which the network then returns by
  // itself, without a correction fitted afterwards.
  double histogram_weight = 0;
  // Output channels of the network for a one-channel image
  // (network_output_channels).
  int output_channels() const;
  void validate() const;
  bool operator==(const DiffusionConfig&) const = default;
};

// Output channels of a network for images of `channels` channels: the
// prediction, the variance interpolation (learned_range), the spread's log
// variance (DiffusionConfig::spread other than none), `channels` each.
int64_t network_output_channels(ModelVariance variance, bool spread, int64_t channels);

// What a network is trained for: "diffusion" (the paper's conditional DDPM:
// denoise the target slice given the source), "regression" (a
// DeepHarmony-like baseline: the same network maps the source slice to the
// target slice in one pass, L1 loss; model/conditional.hpp) or "gan" (a
// pGAN-like baseline: that one-pass network trained against a PatchGAN
// discriminator, adversarial + L1 loss; model/gan.hpp). The two baselines
// map a slice in one pass (one_pass_objective). validate_objective throws
// UsageError naming the accepted values.
inline constexpr const char* kDiffusionObjective = "diffusion";
inline constexpr const char* kRegressionObjective = "regression";
inline constexpr const char* kGanObjective = "gan";
inline bool one_pass_objective(const std::string& objective) { return objective != kDiffusionObjective; }
// The name a report gives the method of a model of that objective:
// "harmonize DM", "DeepHarmony-like" or "pGAN-like".
std::string objective_method_name(const std::string& objective);
bool known_objective(const std::string& objective);
void validate_objective(const std::string& objective);

std::string to_string(ModelVariance v);
std::string to_string(LossKind k);
ModelVariance model_variance_from_string(const std::string& s);
LossKind loss_kind_from_string(const std::string& s);

// JSON (nlohmann ADL hooks). Reading rejects unknown keys and wrong types with a
// harmonize::Error; keys that are absent keep the defaults above (the paper's).
void to_json(nlohmann::json& j, const UNetConfig& c);
void from_json(const nlohmann::json& j, UNetConfig& c);
void to_json(nlohmann::json& j, const DiffusionConfig& c);
void from_json(const nlohmann::json& j, DiffusionConfig& c);

}  // namespace harmonize
