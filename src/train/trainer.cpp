#include "train/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "model/checkpoint.hpp"
#include "model/conditional.hpp"
#include "model/gan.hpp"
#include "model/noise.hpp"
#include "model/tensor.hpp"
#include "train/slice_dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize {

namespace {
const char* const kCsvHeader = "step,loss,mse,vb,seconds,lr,val_loss,val_ema_loss\n";
constexpr int kMaxContextSlices = 8;

void require(bool ok, const std::string& what) {
  if (!ok) throw UsageError("invalid training option: " + what);
}
}  // namespace

void TrainOptions::validate() const {
  require(!data_dir.empty(), "no dataset folder");
  parse_direction(direction);
  unet.validate();
  diffusion.validate();
  validate_objective(objective);
  require(context_slices >= 0 && context_slices <= kMaxContextSlices,
          "context_slices must be in [0, " + std::to_string(kMaxContextSlices) + "]");
  require(context_slices == 0 || objective == kDiffusionObjective,
          "context slices are for the diffusion objective only (the baselines see one slice)");
  require(min_train_timestep >= 0 && min_train_timestep < diffusion.steps,
          "min_train_timestep must be in [0, " + std::to_string(diffusion.steps - 1) + "]");
  require(min_train_timestep == 0 || objective == kDiffusionObjective,
          "min_train_timestep is for the diffusion objective only");
  require(unet.in_channels == conditional_in_channels(context_slices),
          "the conditional model needs unet in_channels " + std::to_string(conditional_in_channels(context_slices)) +
              " (source slice, " + std::to_string(2 * context_slices) + " context slices, noisy target)");
  require(unet.out_channels == diffusion.output_channels(),
          "unet out_channels must be " + std::to_string(diffusion.output_channels()) +
              " (1, +1 for the learned-range variance, +1 for a spread)");
  require(gan_l1_weight >= 0 && std::isfinite(gan_l1_weight), "gan_l1_weight must be >= 0");
  require(discriminator_channels >= 1, "discriminator_channels must be at least 1");
  require(lr > 0 && std::isfinite(lr), "lr must be positive");
  require(lr_schedule == "constant" || lr_schedule == "cosine",
          "lr_schedule must be constant or cosine, not '" + lr_schedule + "'");
  require(warmup_steps >= 0, "warmup_steps must be >= 0");
  require(grad_clip >= 0 && std::isfinite(grad_clip), "grad_clip must be >= 0");
  require(batch >= 1, "batch must be at least 1");
  require(ema_rate >= 0 && ema_rate < 1, "ema_rate must be in [0, 1)");
  require(max_steps >= 1, "max_steps must be at least 1");
  require(max_minutes >= 0, "max_minutes must be >= 0");
  require(save_every >= 1, "save_every must be at least 1");
  require(log_every >= 1, "log_every must be at least 1");
  require(validate_every >= 0, "validate_every must be >= 0");
  require(validation_batch >= 1, "validation batch must be at least 1");
  require(val_fraction >= 0 && val_fraction < 1, "val_fraction must be in [0, 1)");
  require(device == "cpu" || device == "cuda", "device must be cpu or cuda, not '" + device + "'");
  parse_views(orientations);
  require(patch_size == 0 || (patch_size >= 8 && patch_size % unet.size_multiple() == 0),
          "patch_size must be 0 (whole slices) or a multiple of " + std::to_string(unet.size_multiple()) +
              " (the network's levels) of at least 8");
}

UNetConfig TrainOptions::resolved_unet() const {
  UNetConfig u = unet_preset(preset, diffusion);
  u.in_channels = conditional_in_channels(context_slices);
  return u;
}

nlohmann::json to_json(const TrainOptions& o) {
  return {{"data_dir", o.data_dir},
          {"direction", o.direction},
          {"preset", o.preset},
          {"unet", o.unet},
          {"diffusion", o.diffusion},
          {"objective", o.objective},
          {"gan_l1_weight", o.gan_l1_weight},
          {"discriminator_channels", o.discriminator_channels},
          {"lr", o.lr},
          {"lr_schedule", o.lr_schedule},
          {"warmup_steps", o.warmup_steps},
          {"grad_clip", o.grad_clip},
          {"batch", o.batch},
          {"ema_rate", o.ema_rate},
          {"max_steps", o.max_steps},
          {"max_minutes", o.max_minutes},
          {"save_every", o.save_every},
          {"log_every", o.log_every},
          {"validate_every", o.validate_every},
          {"validation_batch", o.validation_batch},
          {"val_fraction", o.val_fraction},
          {"training_subjects", o.training_subjects},
          {"validation_subjects", o.validation_subjects},
          {"flip", o.flip},
          {"orientations", o.orientations},
          {"patch_size", o.patch_size},
          {"context_slices", o.context_slices},
          {"min_train_timestep", o.min_train_timestep},
          {"device", o.device},
          {"seed", o.seed},
          {"preprocessing", o.preprocessing},
          {"recipe", o.recipe}};
}

TrainOptions train_options_from_json(const nlohmann::json& j) {
  TrainOptions o;
  try {
    o.data_dir = j.at("data_dir").get<std::string>();
    o.direction = j.value("direction", o.direction);
    o.preset = j.value("preset", o.preset);
    o.unet = j.at("unet").get<UNetConfig>();
    o.diffusion = j.at("diffusion").get<DiffusionConfig>();
    o.objective = j.value("objective", o.objective);
    o.gan_l1_weight = j.value("gan_l1_weight", o.gan_l1_weight);
    o.discriminator_channels = j.value("discriminator_channels", o.discriminator_channels);
    o.lr = j.value("lr", o.lr);
    o.lr_schedule = j.value("lr_schedule", o.lr_schedule);
    o.warmup_steps = j.value("warmup_steps", o.warmup_steps);
    o.grad_clip = j.value("grad_clip", o.grad_clip);
    o.batch = j.value("batch", o.batch);
    o.ema_rate = j.value("ema_rate", o.ema_rate);
    o.max_steps = j.value("max_steps", o.max_steps);
    o.max_minutes = j.value("max_minutes", o.max_minutes);
    o.save_every = j.value("save_every", o.save_every);
    o.log_every = j.value("log_every", o.log_every);
    o.validate_every = j.value("validate_every", o.validate_every);
    o.validation_batch = j.value("validation_batch", o.validation_batch);
    o.val_fraction = j.value("val_fraction", o.val_fraction);
    o.training_subjects = j.value("training_subjects", o.training_subjects);
    o.validation_subjects = j.value("validation_subjects", o.validation_subjects);
    o.flip = j.value("flip", o.flip);
    o.orientations = j.value("orientations", o.orientations);  // runs from before: sagittal
    o.patch_size = j.value("patch_size", o.patch_size);
    o.context_slices = j.value("context_slices", o.context_slices);              // runs from before: 0
    o.min_train_timestep = j.value("min_train_timestep", o.min_train_timestep);  // runs from before: 0
    o.device = j.value("device", o.device);
    o.seed = j.value("seed", o.seed);
    o.preprocessing = j.value("preprocessing", o.preprocessing);
    o.recipe = j.value("recipe", o.recipe);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("invalid training configuration: ") + e.what());
  }
  return o;
}

double learning_rate_at(const TrainOptions& o, int64_t step) {
  if (step < o.warmup_steps) return o.lr * double(step + 1) / double(o.warmup_steps);
  if (o.lr_schedule == "constant") return o.lr;
  const int64_t span = o.max_steps - o.warmup_steps;
  if (span <= 0) return o.lr;
  const double progress = std::min(1.0, double(step - o.warmup_steps) / double(span));
  return o.lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

struct Trainer::State {
  TrainOptions o;
  std::string run_dir;
  PairedSlices data;
  torch::Device device{torch::kCPU};
  GaussianDiffusion diffusion{DiffusionConfig{}};
  UNet model{nullptr}, ema{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  PatchDiscriminator discriminator{nullptr};  // gan objective only
  std::unique_ptr<torch::optim::Adam> discriminator_optimizer;
  torch::Generator gen;
  int64_t step = 0;
  double elapsed_before = 0;  // training seconds of earlier invocations
  double session_s = 0;       // of this invocation, up to the last step
  SliceBatch val;             // fixed validation batch (empty: no validation)
  torch::Tensor val_t, val_noise;
  // CSV accumulation since the last row
  double sum_loss = 0, sum_mse = 0, sum_vb = 0;
  int64_t n_sum = 0;
  double current_lr = 0;        // of the last step taken
  double target_noise_sd = -1;  // of the training targets (learn/noise.hpp)

  std::string checkpoint_dir() const { return run_dir + "/checkpoints"; }
  std::string csv_path() const { return run_dir + "/train_log.csv"; }

  ModelHeader header() const {
    ModelHeader h;
    h.unet = o.unet;
    h.diffusion = o.diffusion;
    h.objective = o.objective;
    h.direction = o.direction;
    h.step = step;
    h.elapsed_s = elapsed_before + session_s;
    h.training = to_json(o);
    h.target_noise_sd = target_noise_sd;
    h.recipe = o.recipe;
    return h;
  }

  TrainingState training_state() {
    return {model,
            ema,
            optimizer.get(),
            &gen,
            discriminator.is_empty() ? nullptr : discriminator.ptr().get(),
            discriminator_optimizer.get()};
  }
};

namespace {

// Everything but the saved state: data, networks, optimizer, generators.
std::unique_ptr<Trainer::State> build(TrainOptions o, const std::string& run_dir) {
  o.validate();
  auto s = std::make_unique<Trainer::State>();
  s->device = device_from_name(o.device);
  SliceDatasetOptions d;
  d.direction = o.direction;
  d.validation_fraction = o.val_fraction;
  d.seed = o.seed;
  d.training_subjects = o.training_subjects;
  d.validation_subjects = o.validation_subjects;
  d.views = parse_views(o.orientations);
  d.patch = o.patch_size;
  d.context = o.context_slices;
  s->data = load_paired_slices(o.data_dir, d);
  o.training_subjects = s->data.training.subjects();
  o.validation_subjects = s->data.validation.subjects();
  o.preprocessing = s->data.preprocessing;
  const int64_t m = o.unet.size_multiple();
  if (s->data.height % m || s->data.width % m)
    throw UsageError("slices of " + std::to_string(s->data.height) + "x" + std::to_string(s->data.width) +
                     " do not fit the network: height and width must be multiples of " + std::to_string(m));
  s->diffusion = GaussianDiffusion(o.diffusion);
  s->target_noise_sd = estimate_noise_sd(s->data.training.target());
  torch::manual_seed(derive_seed(o.seed, 1));  // weight initialisation
  s->model = UNet(o.unet);
  s->model->to(s->device);
  s->ema = UNet(o.unet);
  s->ema->to(s->device);
  copy_weights(s->model, s->ema);
  for (auto& p : s->ema->parameters()) p.requires_grad_(false);
  s->ema->eval();
  s->optimizer = std::make_unique<torch::optim::Adam>(s->model->parameters(), torch::optim::AdamOptions(o.lr));
  if (o.objective == kGanObjective) {
    // pix2pix's Adam for both networks: beta1 0.5.
    static_cast<torch::optim::AdamOptions&>(s->optimizer->param_groups()[0].options()).betas({0.5, 0.999});
    s->discriminator = PatchDiscriminator(o.discriminator_channels);
    s->discriminator->to(s->device);
    s->discriminator_optimizer = std::make_unique<torch::optim::Adam>(
        s->discriminator->parameters(), torch::optim::AdamOptions(o.lr).betas({0.5, 0.999}));
  }
  s->gen = at::make_generator<at::CPUGeneratorImpl>(derive_seed(o.seed, 2));
  if (!s->data.validation.empty() && o.validate_every > 0) {
    auto vgen = at::make_generator<at::CPUGeneratorImpl>(derive_seed(o.seed, 3));
    const int64_t b = o.validation_batch;
    s->val = s->data.validation.sample(b, vgen);
    s->val_t = s->diffusion.sample_timesteps(b, vgen, o.min_train_timestep);
    s->val_noise = torch::randn(s->val.target.sizes(), vgen);
  }
  s->o = std::move(o);
  s->run_dir = run_dir;
  return s;
}

void write_config(const Trainer::State& s) {
  write_text_atomically(s.run_dir + "/config.json", to_json(s.o).dump(2) + "\n");
}

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

double validation_loss(Trainer::State& s, UNet& net) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const auto terms = one_pass_objective(s.o.objective)
                         ? regression_loss(net, s.val.source.to(s.device), s.val.target.to(s.device))
                         : training_loss(net, s.diffusion, s.val.source.to(s.device), s.val.target.to(s.device),
                                         s.val_t.to(s.device), s.val_noise.to(s.device));
  if (was_training) net->train();
  return terms.loss.mean().item<double>();
}

void append_row(Trainer::State& s, const std::string& val_loss, const std::string& val_ema_loss) {
  if (s.n_sum == 0 && val_loss.empty()) return;
  std::ofstream f(s.csv_path(), std::ios::app);
  const double n = double(std::max<int64_t>(s.n_sum, 1));
  f << s.step << ',' << fmt(s.sum_loss / n) << ',' << fmt(s.sum_mse / n) << ',' << fmt(s.sum_vb / n) << ','
    << fmt(s.elapsed_before + s.session_s) << ',' << fmt(s.current_lr) << ',' << val_loss << ',' << val_ema_loss
    << '\n';
  if (!f) throw OutputError(s.csv_path(), "cannot append to the training log");
  s.sum_loss = s.sum_mse = s.sum_vb = 0;
  s.n_sum = 0;
}

// Keeps the rows up to `step` (a resumed run repeats the steps after its checkpoint).
void truncate_csv(const std::string& path, int64_t step) {
  std::string kept = kCsvHeader;
  if (fs::exists(path)) {
    std::istringstream in(read_text_file(path));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line))
      if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
  }
  write_text_atomically(path, kept);
}

}  // namespace

Trainer::Trainer(std::unique_ptr<State> s) : s_(std::move(s)) {}
Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

Trainer Trainer::start(TrainOptions o, const std::string& run_dir, bool overwrite) {
  if (fs::exists(run_dir) && !overwrite)
    throw OutputError(run_dir, "already exists (resume its run, or replace it: train --resume, --force)");
  o.data_dir = fs::absolute(o.data_dir).lexically_normal().string();
  auto s = build(std::move(o), run_dir);  // validates before anything is written
  fs::remove_all(run_dir);
  fs::create_directories(run_dir + "/checkpoints");
  write_config(*s);
  write_text_atomically(s->csv_path(), kCsvHeader);
  return Trainer(std::move(s));
}

Trainer Trainer::resume(const std::string& run_dir, const std::function<void(TrainOptions&)>& adjust) {
  const std::string config = run_dir + "/config.json";
  if (!fs::exists(config)) throw InputError(config, "missing: " + run_dir + " is not a training run folder");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(config));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(config, std::string("invalid JSON: ") + e.what());
  }
  TrainOptions o = train_options_from_json(j);
  const int64_t planned_steps = o.max_steps;
  if (adjust) adjust(o);
  o.validate();  // a config.json edited by hand is refused in the options' own terms
  if (o.lr_schedule == "cosine" && o.max_steps != planned_steps)
    log::warn("the cosine learning-rate schedule of " + run_dir + " was planned for " + std::to_string(planned_steps) +
              " steps; with max_steps " + std::to_string(o.max_steps) + " the remaining steps follow the new length");
  std::string ckpt = run_dir + "/checkpoints/last.pt";
  if (!fs::exists(ckpt)) ckpt = run_dir + "/checkpoints/previous.pt";
  if (!fs::exists(ckpt))
    throw InputError(run_dir + "/checkpoints/last.pt",
                     "no checkpoint to resume from: the run stopped before its first checkpoint (--save-every); "
                     "start it again from the beginning with the same options and --force");
  const ModelHeader h = read_model_header(ckpt, kCheckpointKind);
  if (!(h.unet == o.unet) || !(h.diffusion == o.diffusion) || h.direction != o.direction ||
      h.objective != o.objective ||
      (o.objective == kGanObjective &&
       h.training.value("discriminator_channels", o.discriminator_channels) != o.discriminator_channels))
    throw InputError(ckpt, "checkpoint does not match " + config +
                               " (network, discriminator, diffusion, objective or direction differ)");
  auto s = build(std::move(o), run_dir);
  load_checkpoint(ckpt, s->training_state(), s->device);
  s->step = h.step;
  s->elapsed_before = h.elapsed_s;
  if (s->step > s->o.max_steps)
    throw UsageError("the run is at step " + std::to_string(s->step) + ", beyond max_steps " +
                     std::to_string(s->o.max_steps));
  write_config(*s);
  truncate_csv(s->csv_path(), s->step);
  log::info("resuming " + run_dir + " from " + ckpt + " at step " + std::to_string(s->step));
  return Trainer(std::move(s));
}

const TrainOptions& Trainer::options() const { return s_->o; }
int64_t Trainer::step() const { return s_->step; }
int64_t Trainer::training_slices() const { return s_->data.training.size(); }
int64_t Trainer::validation_slices() const { return s_->data.validation.size(); }
int64_t Trainer::parameters() const { return parameter_count(*s_->model); }
double Trainer::target_noise_sd() const { return s_->target_noise_sd; }

void Trainer::save_checkpoint() {
  State& s = *s_;
  append_row(s, "", "");  // flush the partial interval, so rows do not depend on where runs were split
  const std::string last = s.checkpoint_dir() + "/last.pt", previous = s.checkpoint_dir() + "/previous.pt";
  fs::create_directories(s.checkpoint_dir());
  if (fs::exists(last)) fs::rename(last, previous);
  harmonize::save_checkpoint(last, s.header(), s.training_state());
}

void Trainer::set_recipe(nlohmann::json recipe) {
  s_->o.recipe = std::move(recipe);
  write_config(*s_);
}

void Trainer::export_model() { save_model(s_->run_dir + "/model.pt", s_->header(), s_->ema); }

TrainSummary Trainer::run(const TrainCallback& on_step) {
  State& s = *s_;
  const TrainOptions& o = s.o;
  TrainSummary summary;
  summary.first_step = s.step;
  summary.stopped_by = "max_steps";
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t steps_at_start = s.step;
  const double rate = o.ema_rate;
  s.model->train();
  while (s.step < o.max_steps) {
    const SliceBatch b = s.data.training.sample(o.batch, s.gen, o.flip);
    const auto source = b.source.to(s.device), target = b.target.to(s.device);
    s.current_lr = learning_rate_at(o, s.step);
    for (auto* opt : {s.optimizer.get(), s.discriminator_optimizer.get()})
      if (opt)
        for (auto& group : opt->param_groups())
          static_cast<torch::optim::AdamOptions&>(group.options()).lr(s.current_lr);
    torch::Tensor loss, l1, d_loss;
    if (o.objective == kGanObjective) {
      // pix2pix's alternation: the discriminator learns from this batch's
      // real and generated slices, then the generator from the updated one.
      const auto generated = regression_output(s.model, source);
      d_loss = discriminator_loss(s.discriminator, source, target, generated.detach());
      s.discriminator_optimizer->zero_grad();
      d_loss.backward();
      s.discriminator_optimizer->step();
      l1 = (generated - to_model_range(target)).abs().mean();
      loss = generator_adversarial_loss(s.discriminator, source, generated) + o.gan_l1_weight * l1;
    } else {
      LossTerms terms;
      if (o.objective == kRegressionObjective) {
        terms = regression_loss(s.model, source, target);
      } else {
        const auto t = s.diffusion.sample_timesteps(o.batch, s.gen, o.min_train_timestep);
        const auto noise = torch::randn(b.target.sizes(), s.gen);
        terms = training_loss(s.model, s.diffusion, source, target, t.to(s.device), noise.to(s.device));
      }
      loss = terms.loss.mean();
      l1 = terms.mse.mean();
      d_loss = terms.vb.mean();
    }
    s.optimizer->zero_grad();
    loss.backward();
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(s.model->parameters(), o.grad_clip);
    s.optimizer->step();
    {
      torch::NoGradGuard no_grad;  // EMA: theta' <- rate theta' + (1 - rate) theta
      auto src = s.model->parameters(), dst = s.ema->parameters();
      for (std::size_t i = 0; i < dst.size(); ++i) dst[i].mul_(rate).add_(src[i].detach(), 1.0 - rate);
    }
    ++s.step;
    TrainReport r;
    r.step = s.step;
    r.max_steps = o.max_steps;
    r.loss = loss.item<double>();
    if (!std::isfinite(r.loss)) throw Error("training diverged: loss " + fmt(r.loss) + " at step " + fmt(s.step));
    r.mse = l1.item<double>();
    r.vb = d_loss.item<double>();
    s.sum_loss += r.loss, s.sum_mse += r.mse, s.sum_vb += r.vb, ++s.n_sum;
    s.session_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.elapsed_s = s.elapsed_before + s.session_s;
    r.eta_s = s.session_s / double(s.step - steps_at_start) * double(o.max_steps - s.step);
    if (s.val.source.defined() && o.validate_every > 0 && s.step % o.validate_every == 0) {
      r.validated = true;
      r.val_loss = validation_loss(s, s.model);
      r.val_ema_loss = validation_loss(s, s.ema);
      append_row(s, fmt(r.val_loss), fmt(r.val_ema_loss));
    } else if (s.step % o.log_every == 0) {
      append_row(s, "", "");
    }
    if (on_step) on_step(r);
    const bool out_of_time = o.max_minutes > 0 && s.session_s >= o.max_minutes * 60.0;
    if (s.step % o.save_every == 0 && s.step < o.max_steps && !out_of_time) save_checkpoint();
    if (out_of_time) {
      summary.stopped_by = "max_minutes";
      break;
    }
  }
  if (s.step > summary.first_step) save_checkpoint();  // (else last.pt is already this state)
  export_model();
  summary.last_step = s.step;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace harmonize
