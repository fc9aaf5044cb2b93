#include "model/checkpoint.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

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

// Saves through LibTorch's serializer into a file harmonize writes itself,
// then opens the file again and reads its header before it may take its
// name. (LibTorch's own file writer, save_to(filename), ends the process when
// a write fails: its destructor throws.) A short write (a full disk) or any
// error leaves nothing behind and names the file and the cause.
void save_archive(const std::string& path, torch::serialize::OutputArchive& a) {
  write_atomically(path, [&](const std::string& tmp) {
    errno = 0;
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw OutputError(path, std::string("cannot open for writing: ") + std::strerror(errno));
    int err = 0;
    try {
      a.save_to([&](const void* data, std::size_t n) -> std::size_t {
        if (!err && n > 0 && std::fwrite(data, 1, n, f) != n) err = errno ? errno : EIO;
        return n;  // the serializer goes on; the failure is reported below
      });
    } catch (const c10::Error& e) {
      std::fclose(f);
      throw OutputError(path, "cannot serialize the model (" + std::string(e.what_without_backtrace()) + ")");
    }
    if (std::fflush(f) != 0 && !err) err = errno ? errno : EIO;
    if (std::fclose(f) != 0 && !err) err = errno ? errno : EIO;
    if (err)
      throw OutputError(path, "cannot write the model file: " + std::string(std::strerror(err)) + space_hint(path));
    try {
      torch::serialize::InputArchive back;
      back.load_from(tmp, torch::kCPU);
      c10::IValue header;
      back.read("header", header);
    } catch (const c10::Error&) {
      throw OutputError(path, "the model file came out incomplete" + space_hint(path));
    }
  });
}

void write_module(torch::serialize::OutputArchive& root, const std::string& key, const torch::nn::Module& m) {
  torch::serialize::OutputArchive sub(root.compilation_unit());
  m.save(sub);
  root.write(key, sub);
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// Loads one weight set into m (built from the header) and checks it: the
// shapes the header's network needs (LibTorch's loader would silently take
// any shape), finite values, and the CRC-32 recorded when the file was saved.
void read_module(torch::serialize::InputArchive& root, const std::string& key, torch::nn::Module& m,
                 const ModelHeader& h, const std::string& path) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : m.named_parameters()) expected.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : m.named_buffers()) expected.emplace_back(b.key(), b.value().sizes().vec());
  torch::serialize::InputArchive sub;
  try {
    root.read(key, sub);
    m.load(sub);
  } catch (const c10::Error&) {
    throw InputError(path, "cannot read the " + key + " weights (damaged, or not the network its header describes)");
  }
  auto params = m.named_parameters();
  auto buffers = m.named_buffers();
  for (const auto& [name, sizes] : expected) {
    const torch::Tensor* t = params.find(name);
    if (!t) t = buffers.find(name);
    if (!t || t->sizes().vec() != sizes)
      throw InputError(path, "the " + key + " weights do not fit the network its header describes: " + name + " is " +
                                 (t ? shape_of(*t) : std::string("missing")) + " in the file, the header's " +
                                 "network needs " + shape_of(torch::empty(sizes)));
  }
  for (const auto& p : params)
    if (!torch::isfinite(p.value()).all().item<bool>())
      throw InputError(path, "the " + key + " weights contain NaN or Inf (" + p.key() +
                                 "): the model is damaged or its training diverged");
  if (h.weights_crc32.contains(key)) {
    const auto recorded = h.weights_crc32.at(key).get<std::uint32_t>();
    if (const auto found = weights_crc32(m); found != recorded)
      throw InputError(path, "the " + key + " weights are damaged (CRC-32 " + std::to_string(found) +
                                 ", the file recorded " + std::to_string(recorded) + " when it was saved)");
  }
}

}  // namespace

nlohmann::json to_json(const ModelHeader& h) {
  nlohmann::json j = {{"format", kModelFormat}, {"version", h.version},     {"kind", h.kind},
                      {"unet", h.unet},         {"diffusion", h.diffusion}, {"direction", h.direction},
                      {"step", h.step},         {"elapsed_s", h.elapsed_s}, {"training", h.training}};
  if (h.target_noise_sd >= 0) j["data"] = {{"target_noise_sd", h.target_noise_sd}};
  if (h.objective != kDiffusionObjective) j["objective"] = h.objective;
  if (!h.weights_crc32.empty()) j["weights_crc32"] = h.weights_crc32;
  if (!h.recipe.empty()) j["recipe"] = h.recipe;
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
    h.objective = j.value("objective", std::string(kDiffusionObjective));
    if (!known_objective(h.objective))
      throw wrong_kind(path, "a model trained for '" + h.objective + "', which this build cannot apply");
    // A conditional input is the source slab (1 + 2 context slices) and the noisy target: even, at least 2.
    if (h.unet.in_channels < 2 || h.unet.in_channels % 2 != 0 ||
        (one_pass_objective(h.objective) && h.unet.in_channels != 2))
      throw wrong_kind(path, "a network with " + std::to_string(h.unet.in_channels) +
                                 " input channels is not a conditional model of this build");
    h.step = j.at("step").get<int64_t>();
    h.elapsed_s = j.value("elapsed_s", 0.0);
    h.training = j.value("training", nlohmann::json::object());
    if (j.contains("data")) h.target_noise_sd = j.at("data").value("target_noise_sd", -1.0);
    h.weights_crc32 = j.value("weights_crc32", nlohmann::json::object());
    h.recipe = j.value("recipe", nlohmann::json::object());
    for (const auto& [k, v] : h.weights_crc32.items())
      if (!v.is_number_unsigned()) throw wrong_kind(path, "weights_crc32." + k + " is not a CRC-32");
  } catch (const nlohmann::json::exception& e) {
    throw wrong_kind(path, std::string("invalid header: ") + e.what());
  }
  return h;
}

void save_checkpoint(const std::string& path, const ModelHeader& header, const TrainingState& s) {
  ModelHeader h = header;
  h.kind = kCheckpointKind;
  h.weights_crc32 = {{"model", weights_crc32(s.model)}, {"ema", weights_crc32(s.ema)}};
  if (s.discriminator) h.weights_crc32["discriminator"] = weights_crc32(*s.discriminator);
  torch::serialize::OutputArchive a;
  a.write("header", c10::IValue(to_json(h).dump()));
  write_module(a, "model", *s.model);
  write_module(a, "ema", *s.ema);
  torch::serialize::OutputArchive opt(a.compilation_unit());
  s.optimizer->save(opt);
  a.write("optimizer", opt);
  if (s.discriminator) {
    write_module(a, "discriminator", *s.discriminator);
    torch::serialize::OutputArchive dopt(a.compilation_unit());
    s.discriminator_optimizer->save(dopt);
    a.write("discriminator_optimizer", dopt);
  }
  torch::serialize::OutputArchive rng(a.compilation_unit());
  rng.write("trainer", s.generator->get_state());
  rng.write("default_cpu", torch::globalContext().defaultGenerator(torch::kCPU).get_state());
  a.write("rng", rng);
  save_archive(path, a);
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
  read_module(a, "model", *s.model, h, path);
  read_module(a, "ema", *s.ema, h, path);
  if (s.discriminator) {
    if (!h.weights_crc32.contains("discriminator"))
      throw InputError(path, "the checkpoint holds no discriminator (it is not of a gan run)");
    read_module(a, "discriminator", *s.discriminator, h, path);
  }
  try {
    torch::serialize::InputArchive opt;
    a.read("optimizer", opt);
    s.optimizer->load(opt);
    if (s.discriminator_optimizer) {
      torch::serialize::InputArchive dopt;
      a.read("discriminator_optimizer", dopt);
      s.discriminator_optimizer->load(dopt);
    }
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
  header.weights_crc32 = {{"ema", weights_crc32(ema)}};
  torch::serialize::OutputArchive a;
  a.write("header", c10::IValue(to_json(header).dump()));
  write_module(a, "ema", *ema);
  save_archive(path, a);
}

LoadedModel load_model(const std::string& path, torch::Device device) {
  auto a = open_archive(path, device);
  LoadedModel m{header_of(a, path), nullptr};
  m.model = UNet(m.header.unet);
  m.model->to(device);
  read_module(a, "ema", *m.model, m.header, path);
  m.model->eval();
  return m;
}

std::uint32_t weights_crc32(const torch::nn::Module& m) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(name.data()), uInt(name.size()));
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    const auto* p = static_cast<const Bytef*>(c.data_ptr());
    std::size_t left = std::size_t(c.numel()) * c.element_size();
    while (left > 0) {
      const uInt n = uInt(std::min<std::size_t>(left, 1u << 30));
      crc = crc32(crc, p, n);
      p += n;
      left -= n;
    }
  };
  for (const auto& p : m.named_parameters()) add(p.key(), p.value());
  for (const auto& b : m.named_buffers()) add(b.key(), b.value());
  return std::uint32_t(crc);
}

void copy_weights(const UNet& from, const UNet& to) {
  torch::NoGradGuard no_grad;
  auto src = from->named_parameters(), dst = to->named_parameters();
  for (auto& p : dst) p.value().copy_(src[p.key()]);
  auto sb = from->named_buffers(), db = to->named_buffers();
  for (auto& b : db) b.value().copy_(sb[b.key()]);
}

}  // namespace harmonize
