#include "model/config.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"

namespace harmonize {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw UsageError("invalid configuration: " + what);
}

// Reads j[key] into `out` if present, turning type errors into harmonize errors.
template <typename T>
void read_key(const nlohmann::json& j, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("configuration key '") + key + "': " + e.what());
  }
}

void reject_unknown_keys(const nlohmann::json& j, const std::set<std::string>& known, const std::string& what) {
  if (!j.is_object()) throw Error(what + " configuration must be a JSON object");
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) throw Error(what + " configuration: unknown key '" + key + "'");
}

}  // namespace

void UNetConfig::validate() const {
  require(in_channels > 0 && out_channels > 0, "in_channels and out_channels must be positive");
  require(model_channels > 0, "model_channels must be positive");
  require(!channel_mult.empty() && levels() <= 8, "channel_mult needs 1 to 8 levels");
  require(num_res_blocks > 0, "num_res_blocks must be positive");
  require(num_heads > 0, "num_heads must be positive");
  require(norm_groups > 0, "norm_groups must be positive");
  require(dropout >= 0.0 && dropout < 1.0, "dropout must be in [0, 1)");
  for (int m : channel_mult) {
    require(m > 0, "channel_mult entries must be positive");
    const int ch = m * model_channels;
    require(ch % norm_groups == 0,
            "level width " + std::to_string(ch) + " is not divisible by norm_groups " + std::to_string(norm_groups));
  }
  const int ds_max = size_multiple();
  for (int ds : attention_resolutions)
    require(ds >= 1 && ds <= ds_max && (ds & (ds - 1)) == 0, "attention_resolutions entry " + std::to_string(ds) +
                                                                 " is not a downsample factor 1.." +
                                                                 std::to_string(ds_max));
  for (int l = 0; l < levels(); ++l) {
    const bool attn = std::count(attention_resolutions.begin(), attention_resolutions.end(), 1 << l) > 0;
    if (attn || l == levels() - 1)  // attention levels and the middle block
      require((channel_mult[l] * model_channels) % num_heads == 0, "num_heads must divide the width at attention");
  }
}

UNetConfig unet_preset(const std::string& name) {
  UNetConfig c;  // defaults are the paper's network
  if (name == "paper") return c;
  if (name == "cpu") {
    c.model_channels = 32;
    c.channel_mult = {1, 2, 2, 2};
    c.num_res_blocks = 1;
    return c;
  }
  if (name == "small") {
    c.model_channels = 16;
    c.channel_mult = {1, 2, 2, 2};
    c.num_res_blocks = 1;
    c.norm_groups = 8;
    return c;
  }
  if (name == "medium") {  // "small" 1.5x wider: about 2.2x its cost per step
    c.model_channels = 24;
    c.channel_mult = {1, 2, 2, 2};
    c.num_res_blocks = 1;
    c.norm_groups = 8;
    return c;
  }
  if (name == "tiny") {
    c.model_channels = 16;
    c.channel_mult = {1, 2};
    c.num_res_blocks = 1;
    c.norm_groups = 8;
    return c;
  }
  throw UsageError("unknown network preset '" + name + "' (known: paper, cpu, medium, small, tiny)");
}

UNetConfig unet_preset(const std::string& name, const DiffusionConfig& diffusion) {
  UNetConfig c = unet_preset(name);
  c.out_channels = diffusion.output_channels();
  return c;
}

int64_t network_output_channels(ModelVariance variance, bool spread, int64_t channels) {
  return (variance == ModelVariance::LearnedRange ? 2 : 1) * channels + (spread ? channels : 0);
}

int DiffusionConfig::output_channels() const { return int(network_output_channels(variance, spread != "none", 1)); }

std::vector<std::string> unet_preset_names() { return {"paper", "cpu", "medium", "small", "tiny"}; }

void DiffusionConfig::validate() const {
  require(steps >= 2, "diffusion steps must be at least 2");
  require(schedule == "linear", "unknown noise schedule '" + schedule + "' (known: linear)");
  require(prediction == "eps" || prediction == "x0" || prediction == "v",
          "prediction must be eps, x0 or v, not '" + prediction + "'");
  require(loss_norm == "l2" || loss_norm == "l1", "loss_norm must be l2 or l1, not '" + loss_norm + "'");
  require(spread == "none" || spread == "gaussian" || spread == "white",
          "spread must be none, gaussian or white, not '" + spread + "'");
  require(std::isfinite(histogram_weight) && histogram_weight >= 0, "histogram_weight must be a number >= 0");
  require(spread == "none" || prediction == "x0", "spread " + spread + " needs prediction x0, not " + prediction);
  if (loss == LossKind::Hybrid)
    require(variance == ModelVariance::LearnedRange, "the hybrid loss needs variance learned_range");
  else
    require(variance != ModelVariance::LearnedRange, "the mse loss needs a fixed variance");
}

std::string to_string(ModelVariance v) {
  switch (v) {
    case ModelVariance::LearnedRange:
      return "learned_range";
    case ModelVariance::FixedLarge:
      return "fixed_large";
    case ModelVariance::FixedSmall:
      return "fixed_small";
  }
  return "?";
}

std::string to_string(LossKind k) { return k == LossKind::Hybrid ? "hybrid" : "mse"; }

ModelVariance model_variance_from_string(const std::string& s) {
  for (auto v : {ModelVariance::LearnedRange, ModelVariance::FixedLarge, ModelVariance::FixedSmall})
    if (to_string(v) == s) return v;
  throw UsageError("unknown model variance '" + s + "' (known: learned_range, fixed_large, fixed_small)");
}

LossKind loss_kind_from_string(const std::string& s) {
  if (s == "hybrid") return LossKind::Hybrid;
  if (s == "mse") return LossKind::Mse;
  throw UsageError("unknown loss '" + s + "' (known: hybrid, mse)");
}

void to_json(nlohmann::json& j, const UNetConfig& c) {
  j = nlohmann::json{{"in_channels", c.in_channels},
                     {"out_channels", c.out_channels},
                     {"model_channels", c.model_channels},
                     {"channel_mult", c.channel_mult},
                     {"num_res_blocks", c.num_res_blocks},
                     {"attention_resolutions", c.attention_resolutions},
                     {"num_heads", c.num_heads},
                     {"dropout", c.dropout},
                     {"use_scale_shift_norm", c.use_scale_shift_norm},
                     {"norm_groups", c.norm_groups}};
}

void from_json(const nlohmann::json& j, UNetConfig& c) {
  reject_unknown_keys(j,
                      {"in_channels", "out_channels", "model_channels", "channel_mult", "num_res_blocks",
                       "attention_resolutions", "num_heads", "dropout", "use_scale_shift_norm", "norm_groups"},
                      "network");
  UNetConfig r;
  read_key(j, "in_channels", r.in_channels);
  read_key(j, "out_channels", r.out_channels);
  read_key(j, "model_channels", r.model_channels);
  read_key(j, "channel_mult", r.channel_mult);
  read_key(j, "num_res_blocks", r.num_res_blocks);
  read_key(j, "attention_resolutions", r.attention_resolutions);
  read_key(j, "num_heads", r.num_heads);
  read_key(j, "dropout", r.dropout);
  read_key(j, "use_scale_shift_norm", r.use_scale_shift_norm);
  read_key(j, "norm_groups", r.norm_groups);
  r.validate();
  c = r;
}

void to_json(nlohmann::json& j, const DiffusionConfig& c) {
  j = nlohmann::json{{"steps", c.steps},
                     {"schedule", c.schedule},
                     {"variance", to_string(c.variance)},
                     {"loss", to_string(c.loss)},
                     {"prediction", c.prediction}};
  if (c.loss_norm != DiffusionConfig{}.loss_norm) j["loss_norm"] = c.loss_norm;  // files of l2 models stay as they were
  if (c.spread != DiffusionConfig{}.spread) j["spread"] = c.spread;              // and those of models without a spread
  if (c.histogram_weight != 0) j["histogram_weight"] = c.histogram_weight;       // or a histogram loss
}

void from_json(const nlohmann::json& j, DiffusionConfig& c) {
  reject_unknown_keys(
      j, {"steps", "schedule", "variance", "loss", "prediction", "loss_norm", "spread", "histogram_weight"},
      "diffusion");
  DiffusionConfig r;
  std::string variance = to_string(r.variance), loss = to_string(r.loss);
  read_key(j, "steps", r.steps);
  read_key(j, "schedule", r.schedule);
  read_key(j, "variance", variance);
  read_key(j, "loss", loss);
  read_key(j, "prediction", r.prediction);
  read_key(j, "loss_norm", r.loss_norm);
  read_key(j, "spread", r.spread);
  read_key(j, "histogram_weight", r.histogram_weight);
  r.variance = model_variance_from_string(variance);
  r.loss = loss_kind_from_string(loss);
  r.validate();
  c = r;
}

bool known_objective(const std::string& objective) {
  return objective == kDiffusionObjective || objective == kRegressionObjective || objective == kGanObjective;
}

std::string objective_method_name(const std::string& objective) {
  if (objective == kRegressionObjective) return "DeepHarmony-like";
  if (objective == kGanObjective) return "pGAN-like";
  return "harmonize DM";
}

void validate_objective(const std::string& objective) {
  if (!known_objective(objective))
    throw UsageError("the objective must be diffusion, regression or gan, not '" + objective + "'");
}

}  // namespace harmonize
