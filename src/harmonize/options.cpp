#include "harmonize/options.hpp"

#include "core/error.hpp"

namespace harmonize {

std::string to_string(Sampler s) { return s == Sampler::Ddim ? "ddim" : "ddpm"; }
std::string to_string(StepSpacing s) {
  return s == StepSpacing::Quadratic ? "quadratic" : s == StepSpacing::Trailing ? "trailing" : "uniform";
}

std::string to_string(StartNoise s) { return s == StartNoise::Volume ? "volume" : "slice"; }

StartNoise start_noise_from_string(const std::string& s) {
  if (s == "slice") return StartNoise::Slice;
  if (s == "volume") return StartNoise::Volume;
  throw UsageError("the start noise must be slice or volume, not '" + s + "'");
}

Sampler sampler_from_string(const std::string& s) {
  if (s == "ddpm") return Sampler::Ddpm;
  if (s == "ddim") return Sampler::Ddim;
  throw UsageError("the sampler must be ddpm or ddim, not '" + s + "'");
}

StepSpacing step_spacing_from_string(const std::string& s) {
  if (s == "uniform") return StepSpacing::Uniform;
  if (s == "quadratic") return StepSpacing::Quadratic;
  if (s == "trailing") return StepSpacing::Trailing;
  throw UsageError("the step spacing must be uniform, quadratic or trailing, not '" + s + "'");
}

void SamplingOptions::validate(int model_steps) const {
  if (steps < 1 || steps > model_steps)
    throw UsageError("sampling steps must be in 1.." + std::to_string(model_steps) +
                     " (the model's diffusion steps), not " + std::to_string(steps));
  if (spacing == StepSpacing::Quadratic && steps < 2 && steps != model_steps)
    throw UsageError("quadratic step spacing needs at least 2 sampling steps");
  if (!timesteps.empty()) {
    if (std::size_t(steps) != timesteps.size())
      throw UsageError("sampling steps (" + std::to_string(steps) + ") and the " + std::to_string(timesteps.size()) +
                       " timesteps given disagree: give one or the other");
    for (std::size_t i = 0; i < timesteps.size(); ++i)
      if (timesteps[i] < 0 || timesteps[i] >= model_steps || (i > 0 && timesteps[i] <= timesteps[i - 1]))
        throw UsageError("timesteps must be increasing and within 0.." + std::to_string(model_steps - 1) +
                         " (the model's diffusion steps), not " + nlohmann::json(timesteps).dump());
  }
  if (!(eta >= 0.0)) throw UsageError("DDIM eta must be >= 0");
  if (batch < 1) throw UsageError("the sampling batch must be positive");
}

std::string SamplingOptions::spacing_text() const {
  if (timesteps.empty()) return to_string(spacing) + " spacing";
  std::string s = "timesteps ";
  for (std::size_t i = 0; i < timesteps.size(); ++i) s += (i ? "," : "") + std::to_string(timesteps[i]);
  return s;
}

void to_json(nlohmann::json& j, const SamplingOptions& o) {
  j = {{"sampler", to_string(o.sampler)},
       {"steps", o.steps},
       {"eta", o.eta},
       {"step_spacing", to_string(o.spacing)},
       {"batch", o.batch}};
  if (!o.timesteps.empty()) j["timesteps"] = o.timesteps;
  if (o.start_noise != StartNoise::Slice) j["start_noise"] = to_string(o.start_noise);
}

void from_json(const nlohmann::json& j, SamplingOptions& o) {
  try {
    o.sampler = sampler_from_string(j.at("sampler").get<std::string>());
    o.steps = j.at("steps").get<int>();
    o.eta = j.at("eta").get<double>();
    o.spacing = step_spacing_from_string(j.at("step_spacing").get<std::string>());
    o.batch = j.at("batch").get<int>();
    o.timesteps = j.value("timesteps", std::vector<int>{});  // absent in files written before it existed
    o.start_noise = start_noise_from_string(j.value("start_noise", std::string("slice")));  // absent: the default
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("sampling options: ") + e.what());
  }
}

EndNoise EndNoise::of(double sd) {
  if (!valid_sd(sd))
    throw UsageError("the end noise sd must lie in [0, 0.5) on the [0, 1] scale, not " + nlohmann::json(sd).dump());
  return {Kind::Sd, sd};
}

EndNoise EndNoise::parse(const std::string& spec) {
  if (spec == "none") return {};
  if (spec == "auto") return {Kind::Auto, 0.0};
  std::size_t used = 0;
  double v = -1;
  try {
    v = std::stod(spec, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != spec.size() || !valid_sd(v))
    throw UsageError("the end noise must be none, auto or a number in [0, 0.5), not '" + spec + "'");
  return {Kind::Sd, v};
}

std::string EndNoise::to_string() const {
  if (kind == Kind::None) return "none";
  if (kind == Kind::Auto) return "auto";
  return nlohmann::json(sd).dump();  // the shortest text that reads back as the same double
}

double EndNoise::resolve(double model_noise_sd, const std::string& model_path) const {
  if (kind == Kind::None) return 0.0;
  if (kind == Kind::Sd) return sd;
  if (model_noise_sd < 0)
    throw InputError(model_path,
                     "records no target noise level for an automatic end noise (trained by an older harmonize); "
                     "give the level as a number");
  return model_noise_sd;
}

}  // namespace harmonize
