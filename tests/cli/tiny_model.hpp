#pragma once
// A tiny untrained model for the end-to-end tests of apply and bids: their
// plumbing, not the model's quality, is under test.
#include <nlohmann/json.hpp>
#include <string>

#include "model/checkpoint.hpp"
#include "model/config.hpp"
#include "model/unet.hpp"

namespace harmonize::test {

// preprocessing: the record of the training data's preprocessing (empty: none,
// apply then uses its defaults, 1 mm and 224x224 slices).
inline void save_tiny_model(const std::string& path, const std::string& direction,
                            const nlohmann::json& recipe = nlohmann::json::object(),
                            const nlohmann::json& preprocessing = nlohmann::json::object()) {
  ModelHeader h;
  h.unet = unet_preset("tiny");
  h.unet.channel_mult = {1, 1, 1, 1};  // four levels: the middle attention runs on 28x28 tokens, not 112x112
  h.unet.model_channels = 8;
  h.direction = direction;
  h.recipe = recipe;
  h.training = {{"preprocessing", preprocessing}};
  torch::manual_seed(0);
  save_model(path, h, UNet(h.unet));
}

}  // namespace harmonize::test
