#include "harmonize/recipe.hpp"

#include "core/error.hpp"
#include "core/views.hpp"

namespace harmonize {

nlohmann::json to_json(const Recipe& r) {
  nlohmann::json j = {{"version", kRecipeVersion},      {"sampling", r.sampling},
                      {"end_noise_sd", r.end_noise_sd}, {"seed", r.seed},
                      {"made_by", r.made_by},           {"method", r.method}};
  j["orientations"] = r.orientations;
  j["fusion"] = r.fusion;
  j["calibration"] = r.map ? nlohmann::json{{"from", r.map->from}, {"to", r.map->to}} : nlohmann::json(nullptr);
  return j;
}

Recipe recipe_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || j.value("version", -1) != kRecipeVersion)
    throw InputError(where, "the model's recipe is not of version " + std::to_string(kRecipeVersion) + " (found " +
                                (j.is_object() && j.contains("version") ? j.at("version").dump() : "none") + ")");
  Recipe r;
  try {
    r.sampling = j.at("sampling").get<SamplingOptions>();
    r.end_noise_sd = j.at("end_noise_sd").get<double>();
    r.seed = j.at("seed").get<std::uint64_t>();
    r.made_by = j.value("made_by", "");
    r.method = j.value("method", "");
    r.orientations = j.value("orientations", r.orientations);  // recipes written before it: sagittal
    r.fusion = j.value("fusion", r.fusion);
  } catch (const std::exception& e) {
    throw InputError(where, std::string("the model's recipe is damaged: ") + e.what());
  }
  try {
    parse_views(r.orientations);
    parse_fusion(r.fusion);
  } catch (const UsageError& e) {
    throw InputError(where, std::string("the model's recipe has invalid orientations or fusion: ") + e.what());
  }
  if (!EndNoise::valid_sd(r.end_noise_sd))
    throw InputError(where, "the model's recipe has an end noise sd outside [0, 0.5)");
  if (j.contains("calibration") && !j.at("calibration").is_null())
    r.map = quantile_map_from_json(j.at("calibration"), where + " (recipe)");
  return r;
}

std::string describe(const Recipe& r, const std::string& objective) {
  const bool one_pass = one_pass_objective(objective);
  std::string s = one_pass ? "one pass (" + objective + ")"
                           : to_string(r.sampling.sampler) + ", " + std::to_string(r.sampling.steps) + " steps";
  for (std::size_t i = 0; i < r.orientations.size(); ++i) s += (i ? "+" : " on ") + r.orientations[i];
  if (r.orientations.size() > 1) s += " (" + r.fusion + ")";
  if (!one_pass && r.sampling.sampler == Sampler::Ddim && r.sampling.eta > 0)
    s += ", eta " + nlohmann::json(r.sampling.eta).dump();
  if (!one_pass && (r.sampling.spacing != StepSpacing::Uniform || !r.sampling.timesteps.empty()))
    s += ", " + r.sampling.spacing_text();
  if (!one_pass && r.sampling.start_noise != StartNoise::Slice)
    s += ", start noise " + to_string(r.sampling.start_noise);
  s += ", end noise " + nlohmann::json(r.end_noise_sd).dump();
  if (r.map) s += ", quantile map (" + std::to_string(r.map->from.size()) + " points)";
  s += ", seed " + std::to_string(r.seed);
  return s;
}

}  // namespace harmonize
