#pragma once
// Training of the conditional diffusion model on paired slices (the paper's
// sec. "Training": Adam, lr 1e-4, batch 4, uniform t, EMA 0.9999, hybrid loss).
// A run lives in one folder:
//   config.json            the resolved options (TrainOptions), rewritten on resume
//   train_log.csv          step,loss,mse,vb,seconds,lr,val_loss,val_ema_loss
//   checkpoints/last.pt    the newest checkpoint; previous.pt the one before
//   model.pt               EMA weights + configuration (checkpoint.hpp, kind "model")
// Resuming restores model, EMA, Adam state, step and generator states, so a run
// split in two continues exactly as one straight run. No LibTorch in this header.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/config.hpp"

namespace harmonize {

struct TrainOptions {
  std::string data_dir;                  // preprocessed dataset (absolute in config.json)
  std::string direction = "1p5T-to-3T";  // see slice_dataset.hpp
  std::string preset = "cpu";            // name of `unet` (informational once resolved)
  UNetConfig unet = unet_preset("cpu");
  DiffusionConfig diffusion;  // the loss is diffusion.loss (hybrid by default)
  // "diffusion" (the paper's), or "regression": the same network trained to map
  // the source slice to the target slice in one pass with an L1 loss, the
  // DeepHarmony-like baseline (model/conditional.hpp regression_loss); its
  // csv's mse column then holds that L1 and vb is 0. Or "gan": that one-pass
  // network trained against a PatchGAN discriminator (model/gan.hpp), loss =
  // adversarial + gan_l1_weight x L1; the csv's loss column holds that sum,
  // mse the L1 and vb the discriminator's loss. The discriminator and its
  // optimizer are saved in every checkpoint (model.pt holds the generator only).
  std::string objective = kDiffusionObjective;
  double gan_l1_weight = 100;  // pix2pix's and pGAN's lambda
  int discriminator_channels = 32;
  double lr = 1e-4;
  // Learning-rate schedule: "constant" (the paper's) or "cosine": linear warm-up
  // over warmup_steps, then a half cosine from lr down to 0 at max_steps (so a
  // resumed run must keep max_steps to keep its schedule).
  std::string lr_schedule = "constant";
  int64_t warmup_steps = 0;
  double grad_clip = 0;  // clip the gradients' global L2 norm to this (0: off)
  int batch = 4;
  double ema_rate = 0.9999;
  int64_t max_steps = 100000;    // total, counted from the start of the run
  double max_minutes = 0;        // per invocation; 0: no limit
  int64_t save_every = 1000;     // checkpoint interval (and at the end)
  int64_t log_every = 10;        // CSV row interval (means over the interval)
  int64_t validate_every = 500;  // validation loss interval (0: never)
  int validation_batch = 8;      // size of the fixed validation batch
  double val_fraction = 0.1;
  std::vector<std::string> training_subjects, validation_subjects;  // resolved at start
  bool flip = false;                                                // random left-right flips
  // What the network sees in training (slice_dataset.hpp): whole slices of
  // these orientations (core/views.hpp names; one orientation per batch), or
  // patch_size x patch_size patches of them centred on brain voxels (0: whole
  // slices). A fully convolutional network trained on patches is applied to
  // whole slices.
  std::vector<std::string> orientations{"sagittal"};
  int patch_size = 0;
  // 2.5D: the source slice is given with this many neighbouring slices of its
  // orientation on each side, as extra input channels (0: the paper's single
  // slice). Diffusion objective only; apply reads it from the network's input.
  int context_slices = 0;
  // Diffusion objective: the training timesteps are drawn uniformly from
  // min_train_timestep..T-1 (0: the whole process, the paper's). A sampler
  // that only visits high noise levels (one pass from t = T-1) can have its
  // network trained only there.
  int min_train_timestep = 0;
  std::string device = "cpu";  // cpu | cuda
  std::uint64_t seed = 1;
  nlohmann::json preprocessing = nlohmann::json::object();  // of the data (resolved at start; apply repeats it)
  // How `apply` uses the model by default (harmonize/recipe.hpp's JSON; train
  // does not read it): set after start (Trainer::set_recipe), kept in
  // config.json, written into every checkpoint and model.pt.
  nlohmann::json recipe = nlohmann::json::object();
  // Throws UsageError naming the first invalid option.
  void validate() const;
  // The network of `preset` fitted to the process (its output channels) and to
  // the conditioning (its input channels): what a new run trains.
  UNetConfig resolved_unet() const;
};
nlohmann::json to_json(const TrainOptions& o);
// The learning rate of step `step` (0-based: the step being taken) under o's schedule.
double learning_rate_at(const TrainOptions& o, int64_t step);
TrainOptions train_options_from_json(const nlohmann::json& j);  // throws Error

struct TrainReport {
  int64_t step = 0, max_steps = 0;   // step just done (1-based count)
  double loss = 0, mse = 0, vb = 0;  // this step's batch means
  double elapsed_s = 0;              // training time of the run so far
  double eta_s = 0;                  // to max_steps at this invocation's pace
  bool validated = false;            // val_loss, val_ema_loss set at this step
  double val_loss = 0, val_ema_loss = 0;
};
using TrainCallback = std::function<void(const TrainReport&)>;

struct TrainSummary {
  int64_t first_step = 0, last_step = 0;
  std::string stopped_by;  // "max_steps" | "max_minutes"
  double seconds = 0;
};

class Trainer {
 public:
  // A new run in run_dir (created; an existing folder is replaced only with
  // overwrite, else OutputError). Loads the data, splits it, writes config.json.
  static Trainer start(TrainOptions o, const std::string& run_dir, bool overwrite = false);
  // Continues the run in run_dir from checkpoints/last.pt (previous.pt when
  // last.pt is missing). `adjust` may change max_steps, max_minutes,
  // save_every, log_every, validate_every and device.
  static Trainer resume(const std::string& run_dir, const std::function<void(TrainOptions&)>& adjust = {});
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  const TrainOptions& options() const;
  int64_t step() const;
  int64_t training_slices() const;
  int64_t validation_slices() const;
  int64_t parameters() const;
  // Acquisition noise sd of the training targets, [0, 1] scale (learn/noise.hpp);
  // recorded in every checkpoint and model file for `apply --end-noise auto`.
  double target_noise_sd() const;

  // Trains until max_steps or max_minutes; checkpoints every save_every steps
  // and at the end, then writes model.pt.
  TrainSummary run(const TrainCallback& on_step = {});
  void save_checkpoint();
  void export_model();
  // Sets options().recipe and rewrites config.json (so a resumed run keeps it).
  void set_recipe(nlohmann::json recipe);

  struct State;  // opaque (trainer.cpp)

 private:
  explicit Trainer(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace harmonize
