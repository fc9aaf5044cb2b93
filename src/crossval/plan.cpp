#include "crossval/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace harmonize {

namespace {
constexpr const char* kPlanFormat = "harmonize-crossval-plan";
constexpr int kPlanVersion = 1;

std::string fixed(double v, std::size_t chars) { return std::to_string(v).substr(0, chars); }
}  // namespace

void CrossvalPlan::validate() const {
  if (folds < 2) throw UsageError("a cross-validation needs at least 2 folds");
  if (directions.empty()) throw UsageError("no direction to evaluate");
  if (train.max_steps < 1) throw UsageError("the training steps must be positive");
  if (sampling.steps < 1) throw UsageError("the sampling steps must be positive");
  if (sampling.batch < 1) throw UsageError("the sampling batch must be positive");
  if (volume_fit && !calibrate) throw UsageError("the volume-fitted output needs the calibration");
  for (const auto& b : baselines)
    if (b != kRegressionObjective && b != kGanObjective)
      throw UsageError("a baseline is regression (DeepHarmony-like) or gan (pGAN-like), not '" + b + "'");
  if (!(preprocess.spacing_mm > 0.2 && preprocess.spacing_mm <= 4))
    throw UsageError("the spacing must be in (0.2, 4] mm");
  if (preprocess.slice_height < 8 || preprocess.slice_width < 8) throw UsageError("slices must be at least 8x8");
  TrainOptions t = train;  // the recipe, as one fold's run will hold it
  t.data_dir = "plan";
  t.unet = t.resolved_unet();
  t.validate();
  sampling.validate(t.diffusion.steps);
}

nlohmann::json to_json(const CrossvalPlan& p) {
  nlohmann::json train = to_json(p.train);
  train.erase("device");  // not part of the plan: a run may move between machines
  return {{"format", kPlanFormat},
          {"version", kPlanVersion},
          {"data",
           {{"bids", p.bids},
            {"mask_dir", p.mask_dir},
            {"truth_dir", p.truth_dir},
            {"source_session", p.source_session},
            {"target_session", p.target_session},
            {"directions", p.directions},
            {"folds", p.folds},
            {"seed", p.seed}}},
          {"preprocess", to_json(p.preprocess)},
          {"train", train},
          {"harmonize",
           {{"sampling", p.sampling},
            {"end_noise", p.end_noise.to_string()},
            {"calibrate", p.calibrate},
            {"volume_fit", p.volume_fit}}},
          {"evaluate", {{"model_name", p.model_name}}},
          {"baselines", p.baselines}};
}

int64_t equal_time_steps(int64_t model_steps, double model_s_per_step, double baseline_s_per_step) {
  if (!(model_s_per_step > 0) || !(baseline_s_per_step > 0)) return model_steps;
  return std::max<int64_t>(1, std::llround(double(model_steps) * model_s_per_step / baseline_s_per_step));
}

CrossvalPlan plan_from_json(const nlohmann::json& j, const std::string& path) {
  CrossvalPlan p;
  try {
    if (j.value("format", "") != kPlanFormat || j.value("version", 0) != kPlanVersion)
      throw InputError(path, "is not a harmonize cross-validation plan of version " + std::to_string(kPlanVersion));
    const auto& d = j.at("data");
    p.bids = d.at("bids").get<std::string>();
    p.mask_dir = d.at("mask_dir").get<std::string>();
    p.truth_dir = d.at("truth_dir").get<std::string>();
    p.source_session = d.at("source_session").get<std::string>();
    p.target_session = d.at("target_session").get<std::string>();
    p.directions = d.at("directions").get<std::vector<std::string>>();
    p.folds = d.at("folds").get<int>();
    p.seed = d.at("seed").get<std::uint64_t>();
    from_json(j.at("preprocess"), p.preprocess);
    p.train = train_options_from_json(j.at("train"));
    const auto& h = j.at("harmonize");
    p.sampling = h.at("sampling").get<SamplingOptions>();
    p.end_noise = EndNoise::parse(h.at("end_noise").get<std::string>());
    p.calibrate = h.at("calibrate").get<bool>();
    p.volume_fit = h.at("volume_fit").get<bool>();
    p.model_name = j.at("evaluate").at("model_name").get<std::string>();
    p.baselines = j.value("baselines", std::vector<std::string>{});
  } catch (const InputError&) {
    throw;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("invalid cross-validation plan: ") + e.what());
  } catch (const Error& e) {
    throw InputError(path, std::string("invalid cross-validation plan: ") + e.what());
  }
  return p;
}

std::vector<std::string> settings_text(const CrossvalPlan& p, const RunFacts& f) {
  const PreprocessOptions& pre = p.preprocess;
  const TrainOptions& t = p.train;
  const SamplingOptions& s = p.sampling;
  std::string fitted_line;
  if (p.volume_fit) {
    fitted_line = "Volume-fitted output (`" + p.fitted_method_name() +
                  "`, `--volume-fit`): the same samples with the white noise, chosen per model from sd 0-0.1, "
                  "whose outputs on every fourth training subject of the fold, after their own quantile map, give "
                  "tissue volumes closest to those of their target scans' segmentations; noise sd per model:";
    for (std::size_t i = 0; i < f.fitted_noise.size(); ++i) {
      char b[96];
      std::snprintf(b, sizeof b, " %s %.3f%s", f.fitted_noise[i].first.c_str(), f.fitted_noise[i].second,
                    i + 1 < f.fitted_noise.size() ? "," : "");
      fitted_line += b;
    }
  }
  const std::string end_noise =
      p.end_noise.kind == EndNoise::Kind::None ? std::string()
      : p.end_noise.kind == EndNoise::Kind::Auto
          ? ", ending at the target scanner's noise level measured on each model's training targets (`--end-noise "
            "auto`)"
          : ", ending at noise sd " + p.end_noise.to_string();
  std::string baselines_line;
  if (!f.baseline_budgets.empty()) {
    baselines_line =
        "Learned baselines, each trained per fold and direction like the model (the same network preset and "
        "parameters, slices, batch, optimizer, learning-rate schedule and EMA) for the model's training time, "
        "measured as seconds per step of both in one process, then applied in one pass without corrections:";
    for (std::size_t i = 0; i < f.baseline_budgets.size(); ++i) {
      const BaselineBudget& b = f.baseline_budgets[i];
      char buf[320];
      std::snprintf(buf, sizeof buf, " `%s` (%s) %lld steps (%.3f s per step against the model's %.3f)%s",
                    objective_method_name(b.objective).c_str(),
                    b.objective == kGanObjective
                        ? "conditional GAN: a PatchGAN discriminator, adversarial + L1 loss, no perceptual term"
                        : "L1 regression",
                    (long long)b.steps, b.baseline_s_per_step, b.model_s_per_step,
                    i + 1 < f.baseline_budgets.size() ? ";" : "");
      baselines_line += buf;
    }
  }
  std::string views;
  for (const auto& v : t.orientations) views += (views.empty() ? "" : ", ") + v;
  std::vector<std::string> lines = {
      "Data: `" + p.bids + "`, " + std::to_string(f.subjects) + " subjects with " + p.source_session + " and " +
          p.target_session + " scans",
      std::to_string(p.folds) + " folds over subjects (" + f.grouping + "); about " +
          std::to_string(f.training_subjects) + " training subjects per fold" +
          (p.folds != 4 ? " (the paper uses 4 folds)" : ""),
      "Preprocessing: " + std::string(p.mask_dir.empty() ? "template brain masks" : "given brain masks") + ", N4, " +
          fixed(pre.spacing_mm, 4) + " mm, " + std::to_string(pre.slice_height) + "x" +
          std::to_string(pre.slice_width) + " slices, " + (pre.deformable ? "affine + B-spline" : "affine") +
          " pair registration",
      "Model: preset `" + t.preset + "`, " + std::to_string(t.max_steps) +
          " training steps per fold and direction, batch " + std::to_string(t.batch) + ", Adam lr " + fixed(t.lr, 6) +
          (t.lr_schedule == "cosine" ? " (cosine decay, " + std::to_string(t.warmup_steps) + " warm-up steps)" : "") +
          (t.grad_clip > 0 ? ", gradient norm clipped to " + fixed(t.grad_clip, 4) : "") + ", EMA " +
          fixed(t.ema_rate, 6) + ", predicting " + t.diffusion.prediction +
          (t.diffusion.loss_norm == "l1" ? " with an L1 loss" : "") +
          (t.diffusion.spread == "gaussian" ? " and a Gaussian spread around it (each output voxel drawn from it)"
           : t.diffusion.spread == "white"  ? " and a Gaussian spread of the residual's high-pass part around it (each "
                                              "output voxel drawn from it)"
                                            : "") +
          (t.diffusion.histogram_weight > 0
               ? ", plus a histogram loss (sorted intensities, weight " + fixed(t.diffusion.histogram_weight, 4) + ")"
               : std::string()) +
          ", trained on " + views +
          (t.patch_size > 0 ? " patches of " + std::to_string(t.patch_size) + "x" + std::to_string(t.patch_size)
                            : std::string(" slices")) +
          (t.context_slices > 0 ? ", each source slice with " + std::to_string(t.context_slices) +
                                      " neighbouring slice(s) on each side as input (2.5D)"
                                : std::string()) +
          (t.min_train_timestep > 0 ? ", at timesteps " + std::to_string(t.min_train_timestep) + "-" +
                                          std::to_string(t.diffusion.steps - 1) + " only"
                                    : std::string()) +
          " (the paper: 300,000 steps, lr 1e-4, EMA 0.9999, predicting eps, sagittal slices)",
      "Sampling: " + to_string(s.sampler) + " with " + std::to_string(s.steps) + " respaced steps (" +
          s.spacing_text() + ")" + (s.sampler == Sampler::Ddim ? ", eta " + fixed(s.eta, 4) : "") + end_noise +
          (p.calibrate ? "; outputs calibrated by a quantile map fitted on each fold's training subjects "
                         "(`--calibrate`)"
                       : "") +
          (t.orientations.size() > 1 ? "; every brain slice of each orientation (" + views +
                                           ") sampled and their volumes fused by the voxel-wise median"
           : t.orientations != std::vector<std::string>{"sagittal"} ? "; " + views + " slices sampled and stacked"
                                                                    : std::string()) +
          " (the paper: 1000 DDPM steps)",
      p.corrected() ? "Bare output (`" + p.bare_method_name() +
                          "`): the same samples as the main output, without any correction (no end noise, no "
                          "quantile map): what the network does by itself"
                    : std::string(),
      fitted_line,
      baselines_line,
      "Histogram matching: ITK's filter, each test subject's source scan matched to the target-contrast scan of the "
      "first training subject of its fold",
      f.time_line,
  };
  lines.erase(std::remove(lines.begin(), lines.end(), std::string()), lines.end());
  return lines;
}

}  // namespace harmonize
