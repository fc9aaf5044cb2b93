#pragma once
// Model files. One file per checkpoint, written atomically (temporary name,
// then rename), in LibTorch's archive format (a zip, torch::serialize):
//   "header"     JSON string: {"format":"harmonize-model","version":1,
//                "kind":"checkpoint"|"model","unet":{..},"diffusion":{..},
//                "objective":"diffusion"|"regression" (absent: diffusion),
//                "direction":"1p5T-to-3T","step":N,"training":{..},"elapsed_s":..,
//                "data":{"target_noise_sd":..},"weights_crc32":{"model":..,"ema":..}}
//   "model"      the network's parameters and buffers (checkpoint only)
//   "ema"        the exponential moving average of the parameters
//   "optimizer"  Adam's state (checkpoint only)
//   "discriminator", "discriminator_optimizer"  the gan objective's PatchGAN
//                and its Adam state (checkpoint of a gan run only)
//   "rng"        generator states: "trainer" (the training generator) and
//                "default_cpu" (LibTorch's default CPU generator) (checkpoint only)
// A "model" file (for harmonize apply) holds the header and the EMA weights only.
// On load every weight set is checked against the header: the shapes the
// header's network needs, finite values, and the CRC-32 recorded at saving.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "model/config.hpp"
#include "model/unet.hpp"

namespace harmonize {

inline constexpr const char* kModelFormat = "harmonize-model";
inline constexpr int kModelFormatVersion = 1;
inline constexpr const char* kCheckpointKind = "checkpoint";
inline constexpr const char* kModelKind = "model";

struct ModelHeader {
  std::string kind = kCheckpointKind;
  int version = kModelFormatVersion;
  UNetConfig unet;
  DiffusionConfig diffusion;
  std::string objective = kDiffusionObjective;  // what the network was trained for (config.hpp)
  std::string direction;
  int64_t step = 0;
  double elapsed_s = 0.0;                              // training time so far
  nlohmann::json training = nlohmann::json::object();  // the run's options, as written to config.json
  // Acquisition noise sd of the training targets on their [0, 1] scale
  // (learn/noise.hpp); < 0: not recorded (files written before it was).
  double target_noise_sd = -1.0;
  // CRC-32 of each weight set ("model", "ema") as saved: a file whose weights
  // were changed after saving is refused on load. Empty in files written
  // before it was recorded (they load unchecked).
  nlohmann::json weights_crc32 = nlohmann::json::object();
  // How the model's outputs are made (harmonize/recipe.hpp), written by
  // crossval once it has evaluated them; empty in a model from `train`.
  nlohmann::json recipe = nlohmann::json::object();
};
nlohmann::json to_json(const ModelHeader& h);
// Throws InputError(path, "model file of the wrong kind or version ...").
ModelHeader model_header_from_json(const nlohmann::json& j, const std::string& path);

// What a checkpoint restores. model/ema must be built from header.unet.
struct TrainingState {
  UNet model{nullptr}, ema{nullptr};
  torch::optim::Adam* optimizer = nullptr;
  torch::Generator* generator = nullptr;  // CPU generator of the trainer
  // The gan objective's discriminator and its optimizer (model/gan.hpp);
  // null for the other objectives.
  torch::nn::Module* discriminator = nullptr;
  torch::optim::Adam* discriminator_optimizer = nullptr;
};

void save_checkpoint(const std::string& path, const ModelHeader& header, const TrainingState& s);
// Reads the header only (cheap validation). `kind` empty: any kind.
ModelHeader read_model_header(const std::string& path, const std::string& kind = {});
// Restores s from a checkpoint whose header read_model_header already returned;
// tensors go to `device` (generator states stay on the CPU).
void load_checkpoint(const std::string& path, TrainingState s, torch::Device device = torch::kCPU);

// The EMA weights and the configuration, for applying the model.
void save_model(const std::string& path, ModelHeader header, const UNet& ema);
struct LoadedModel {
  ModelHeader header;
  UNet model{nullptr};  // in eval mode
};
// Reads a model file, or the EMA weights of a checkpoint.
LoadedModel load_model(const std::string& path, torch::Device device = torch::kCPU);

// CRC-32 over the names and bytes of a network's parameters and buffers.
std::uint32_t weights_crc32(const torch::nn::Module& m);
inline std::uint32_t weights_crc32(const UNet& m) { return weights_crc32(*m); }

// Copies parameters and buffers of `from` into `to` (same configuration).
void copy_weights(const UNet& from, const UNet& to);

}  // namespace harmonize
