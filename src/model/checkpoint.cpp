#include "model/checkpoint.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {

InputError wrong_kind(const std::string& path, const std::string& why) {
  return InputError(path, "model file of the wrong kind or version (" + why + ")");
}

torch::serialize::InputArchive open_archive(const std::string& path, torch::Device device) {
  if (!fs::exists(path)) throw InputError(path, "model file missing");
  torch::serialize::InputArchive a;
  try {
    a.load_from(path, device);
  } catch (const c10::Error&) {
    throw wrong_kind(path, "not a LibTorch archive, or truncated");
  }
  return a;
}

ModelHeader header_of(torch::serialize::InputArchive& a, const std::string& path) {
  c10::IValue v;
  try {
    a.read("header", v);
  } catch (const c10::Error&) {
    throw wrong_kind(path, "no harmonize header");
  }
  if (!v.isString()) throw wrong_kind(path, "header is not text");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(v.toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw wrong_kind(path, "header is not JSON");
  }
  return model_header_from_json(j, path);
}

void write_module(torch::serialize::OutputArchive& root, const std::string& key, const UNet& m) {
  torch::serialize::OutputArchive sub(root.compilation_unit());
  m->save(sub);
  root.write(key, sub);
}

void read_module(torch::serialize::InputArchive& root, const std::string& key, UNet m, const std::string& path) {
  torch::serialize::InputArchive sub;
  try {
    root.read(key, sub);
    m->load(sub);
  } catch (const c10::Error&) {
    throw InputError(path, "cannot read the " + key + " weights (does the file match its configuration?)");
  }
}

}  // namespace

nlohmann::json to_json(const ModelHeader& h) {
  nlohmann::json j = {{"format", kModelFormat}, {"version", h.version},     {"kind", h.kind},
                      {"unet", h.unet},         {"diffusion", h.diffusion}, {"direction", h.direction},
                      {"step", h.step},         {"elapsed_s", h.elapsed_s}, {"training", h.training}};
  if (h.target_noise_sd >= 0) j["data"] = {{"target_noise_sd", h.target_noise_sd}};
  return j;
}

ModelHeader model_header_from_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object() || j.value("format", "") != kModelFormat) throw wrong_kind(path, "not a harmonize-model file");
  ModelHeader h;
  h.version = j.value("version", -1);
  if (h.version != kModelFormatVersion)
    throw wrong_kind(path, "format version " + std::to_string(h.version) + ", this build reads version " +
                               std::to_string(kModelFormatVersion));
  h.kind = j.value("kind", "");
  if (h.kind != kCheckpointKind && h.kind != kModelKind) throw wrong_kind(path, "unknown kind '" + h.kind + "'");
  try {
    h.unet = j.at("unet").get<UNetConfig>();
    h.diffusion = j.at("diffusion").get<DiffusionConfig>();
    h.direction = j.at("direction").get<std::string>();
    h.step = j.at("step").get<int64_t>();
    h.elapsed_s = j.value("elapsed_s", 0.0);
    h.training = j.value("training", nlohmann::json::object());
    if (j.contains("data")) h.target_noise_sd = j.at("data").value("target_noise_sd", -1.0);
  } catch (const nlohmann::json::exception& e) {
    throw wrong_kind(path, std::string("invalid header: ") + e.what());
  }
  return h;
}

void save_checkpoint(const std::string& path, const ModelHeader& header, const TrainingState& s) {
  ModelHeader h = header;
  h.kind = kCheckpointKind;
  torch::serialize::OutputArchive a;
  a.write("header", c10::IValue(to_json(h).dump()));
  write_module(a, "model", s.model);
  write_module(a, "ema", s.ema);
  torch::serialize::OutputArchive opt(a.compilation_unit());
  s.optimizer->save(opt);
  a.write("optimizer", opt);
  torch::serialize::OutputArchive rng(a.compilation_unit());
  rng.write("trainer", s.generator->get_state());
  rng.write("default_cpu", torch::globalContext().defaultGenerator(torch::kCPU).get_state());
  a.write("rng", rng);
  write_atomically(path, [&](const std::string& tmp) { a.save_to(tmp); });
}

ModelHeader read_model_header(const std::string& path, const std::string& kind) {
  auto a = open_archive(path, torch::kCPU);
  ModelHeader h = header_of(a, path);
  if (!kind.empty() && h.kind != kind) throw wrong_kind(path, "a " + h.kind + ", expected a " + kind);
  return h;
}

void load_checkpoint(const std::string& path, TrainingState s, torch::Device device) {
  auto a = open_archive(path, device);
  const ModelHeader h = header_of(a, path);
  if (h.kind != kCheckpointKind) throw wrong_kind(path, "a " + h.kind + ", expected a checkpoint");
  read_module(a, "model", s.model, path);
  read_module(a, "ema", s.ema, path);
  try {
    torch::serialize::InputArchive opt;
    a.read("optimizer", opt);
    s.optimizer->load(opt);
    torch::serialize::InputArchive rng;
    a.read("rng", rng);
    torch::Tensor trainer, global;
    rng.read("trainer", trainer);
    rng.read("default_cpu", global);
    s.generator->set_state(trainer.to(torch::kCPU));
    torch::Generator cpu = torch::globalContext().defaultGenerator(torch::kCPU);  // a handle
    cpu.set_state(global.to(torch::kCPU));
  } catch (const c10::Error&) {
    throw InputError(path, "cannot read the optimizer or random-number state of the checkpoint");
  }
}

void save_model(const std::string& path, ModelHeader header, const UNet& ema) {
  header.kind = kModelKind;
  torch::serialize::OutputArchive a;
  a.write("header", c10::IValue(to_json(header).dump()));
  write_module(a, "ema", ema);
  write_atomically(path, [&](const std::string& tmp) { a.save_to(tmp); });
}

LoadedModel load_model(const std::string& path, torch::Device device) {
  auto a = open_archive(path, device);
  LoadedModel m{header_of(a, path), nullptr};
  m.model = UNet(m.header.unet);
  m.model->to(device);
  read_module(a, "ema", m.model, path);
  m.model->eval();
  return m;
}

void copy_weights(const UNet& from, const UNet& to) {
  torch::NoGradGuard no_grad;
  auto src = from->named_parameters(), dst = to->named_parameters();
  for (auto& p : dst) p.value().copy_(src[p.key()]);
  auto sb = from->named_buffers(), db = to->named_buffers();
  for (auto& b : db) b.value().copy_(sb[b.key()]);
}

}  // namespace harmonize
