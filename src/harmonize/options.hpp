#pragma once
// How a trained model is sampled and how its output is finished, as data: the
// typed options that `apply`, `crossval` (and the model's recipe) share, each
// with its JSON beside it. No LibTorch here.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace harmonize {

enum class Sampler {
  Ddpm,  // ancestral (Ho 2020), the paper's
  Ddim   // Song et al. 2021; eta 0 is deterministic
};
// Which timesteps a respaced process keeps.
enum class StepSpacing {
  Uniform,    // an even stride (guided-diffusion's space_timesteps; "ddimN" for DDIM)
  Quadratic,  // dense at low noise (model/schedule.hpp quadratic_timesteps)
  Trailing    // an even stride ending at the last timestep (trailing_timesteps): 1 step is a one-pass x0
};
// Where each slice's chain starts (its x_T).
enum class StartNoise {
  Slice,  // noise drawn per slice, in sampling order (the paper's)
  Volume  // one noise volume per scan, sliced like the scan in every orientation: what a chain
          // keeps of it (a texture) agrees across orientations and survives their fusion
};
std::string to_string(Sampler s);
std::string to_string(StepSpacing s);
std::string to_string(StartNoise s);
// Throw UsageError naming the accepted values.
Sampler sampler_from_string(const std::string& s);
StepSpacing step_spacing_from_string(const std::string& s);
StartNoise start_noise_from_string(const std::string& s);

struct SamplingOptions {
  Sampler sampler = Sampler::Ddpm;
  int steps = 100;   // network passes per slice (respaced; the model's own count = its full chain)
  double eta = 0.0;  // DDIM only: 0 deterministic, 1 the DDPM posterior variance
  StepSpacing spacing = StepSpacing::Uniform;
  // The kept timesteps given one by one (ascending, 0-based, e.g. {24, 999}: a
  // pass from pure noise, then one at low noise where the target's texture is
  // drawn). When given, `spacing` does not apply and `steps` is their count.
  std::vector<int> timesteps;
  int batch = 8;  // slices per network call
  StartNoise start_noise = StartNoise::Slice;
  // Throws UsageError in these terms; model_steps: the model's diffusion steps.
  void validate(int model_steps) const;
  // "trailing spacing" or "timesteps 24,999": which timesteps, in words.
  std::string spacing_text() const;
  bool operator==(const SamplingOptions&) const = default;
};
void to_json(nlohmann::json& j, const SamplingOptions& o);
void from_json(const nlohmann::json& j, SamplingOptions& o);

// The white noise added to a harmonized output (harmonize/correction.hpp): none
// (the paper's chain ends at x0), the target scanner's level that training
// measured and recorded in the model file, or a given sd on the [0, 1] scale.
struct EndNoise {
  enum class Kind { None, Auto, Sd };
  Kind kind = Kind::None;
  double sd = 0.0;                     // Kind::Sd
  static constexpr double kMax = 0.5;  // sd must lie in [0, kMax)
  static bool valid_sd(double sd) { return sd >= 0.0 && sd < kMax; }
  // "none", "auto" or a number in [0, 0.5); throws UsageError otherwise.
  static EndNoise parse(const std::string& spec);
  static EndNoise of(double sd);  // Kind::Sd; throws UsageError outside [0, 0.5)
  std::string to_string() const;  // parse(to_string()) == *this
  // The sd: 0, model_noise_sd (InputError naming model_path when the model
  // records none, i.e. model_noise_sd < 0) or sd.
  double resolve(double model_noise_sd, const std::string& model_path) const;
  bool operator==(const EndNoise&) const = default;
};

}  // namespace harmonize
