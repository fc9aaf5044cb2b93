// A model's recipe (harmonize/recipe.hpp) survives its JSON form exactly, and
// a recipe of another version or a damaged one is refused naming the file.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "harmonize/recipe.hpp"

using namespace harmonize;

TEST(Recipe, RoundTripsThroughJson) {
  Recipe r;
  r.sampling.sampler = Sampler::Ddim;
  r.sampling.steps = 8;
  r.sampling.eta = 0.25;
  r.sampling.spacing = StepSpacing::Quadratic;
  r.sampling.batch = 16;
  r.end_noise_sd = 0.02;
  r.map = QuantileMap{{0.1, 0.5, 0.9}, {0.12, 0.45, 0.95}};
  r.seed = 7920;
  r.made_by = "crossval OUT, fold 1, 1p5T-to-3T";
  r.method = "harmonize DM";
  const Recipe back = recipe_from_json(nlohmann::json::parse(to_json(r).dump()), "m.pt");
  EXPECT_EQ(back.sampling, r.sampling);
  EXPECT_EQ(back.end_noise_sd, r.end_noise_sd);
  ASSERT_TRUE(back.map.has_value());
  EXPECT_EQ(back.map->from, r.map->from);
  EXPECT_EQ(back.map->to, r.map->to);
  EXPECT_EQ(back.seed, r.seed);
  EXPECT_EQ(back.made_by, r.made_by);
  EXPECT_EQ(back.method, r.method);
  EXPECT_EQ(back.orientations, std::vector<std::string>{"sagittal"});
  EXPECT_EQ(
      describe(back),
      "ddim, 8 steps on sagittal, eta 0.25, quadratic spacing, end noise 0.02, quantile map (3 points), seed 7920");
  r.map.reset();
  EXPECT_FALSE(recipe_from_json(to_json(r), "m.pt").map.has_value());
}

TEST(Recipe, AnotherVersionOrADamagedRecipeIsRefusedNamingTheFile) {
  Recipe r;
  auto refused = [](const nlohmann::json& j, const std::string& words) {
    try {
      recipe_from_json(j, "dir/model.pt");
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("dir/model.pt"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  nlohmann::json j = to_json(r);
  j["version"] = kRecipeVersion + 1;
  refused(j, "version");
  j = to_json(r);
  j.erase("sampling");
  refused(j, "damaged");
  j = to_json(r);
  j["end_noise_sd"] = 0.7;
  refused(j, "end noise");
  j = to_json(r);
  j["calibration"] = {{"from", {0.5, 0.1}}, {"to", {0.1, 0.2}}};
  refused(j, "increasing");
  j = to_json(r);
  j["orientations"] = {"sagittal", "oblique"};
  refused(j, "unknown slice orientation 'oblique'");
  j["orientations"] = {"axial", "axial"};
  refused(j, "given twice");
  j["orientations"] = nlohmann::json::array();
  refused(j, "no slice orientation");
  j["orientations"] = {"sagittal", "coronal", "axial"};  // fused: accepted as written
  EXPECT_EQ(recipe_from_json(j, "m.pt").orientations, (std::vector<std::string>{"sagittal", "coronal", "axial"}));
  j.erase("orientations");  // a recipe from before orientations were recorded
  EXPECT_EQ(recipe_from_json(j, "m.pt").orientations, std::vector<std::string>{"sagittal"});
}
