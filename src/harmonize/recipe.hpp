#pragma once
// A model's recipe: how its outputs were made where they were evaluated
// (crossval's main method), kept in the model file (ModelHeader::recipe) so
// that `harmonize apply --model M` repeats it without retyping options. The
// preprocessing a model expects is in its header already (training options).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/views.hpp"
#include "harmonize/correction.hpp"
#include "harmonize/options.hpp"
#include "model/config.hpp"

namespace harmonize {

inline constexpr int kRecipeVersion = 1;

struct Recipe {
  SamplingOptions sampling;
  // The slice orientations sampled (core/views.hpp names): the paper's
  // sagittal slices, or several, their volumes fused voxel-wise by `fusion`.
  std::vector<std::string> orientations{"sagittal"};
  std::string fusion = fusion_name(Fusion::Median);  // of several orientations (core/views.hpp)
  double end_noise_sd = 0.0;                         // white noise added after sampling, [0, 1] scale
  std::optional<QuantileMap> map;                    // then this quantile map (crossval --calibrate)
  std::uint64_t seed = 1;                            // the sampling seed (input i's end noise follows from it)
  std::string made_by;                               // where it was fitted, e.g. "crossval OUT, fold 1, 1p5T-to-3T"
  std::string method;                                // the report's name of the outputs it makes, e.g. "harmonize DM"
};

nlohmann::json to_json(const Recipe& r);
// Throws InputError naming `where` (the model file) when j is not a recipe of
// this version.
Recipe recipe_from_json(const nlohmann::json& j, const std::string& where);
// One line for logs and `harmonize info`: "ddim, 8 steps, end noise 0.02, quantile map (100 points), seed 7920";
// for a model of a one-pass objective (model/config.hpp) "one pass (regression), ..." or
// "one pass (gan), ..." instead of the sampler.
std::string describe(const Recipe& r, const std::string& objective = kDiffusionObjective);

}  // namespace harmonize
