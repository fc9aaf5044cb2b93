#include "crossval/calibrate.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "crossval/seeds.hpp"
#include "io/nifti.hpp"
#include "preprocess/slicing.hpp"
#include "train/slice_dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize {

ScanInput preprocessed_scan(const CrossvalLayout& layout, const std::string& subject, const std::string& session) {
  const std::string path = layout.image(subject, session);
  return {path, read_nifti(path), read_nifti_mask(layout.brain(subject))};
}

std::vector<ScanInput> preprocessed_scans(const CrossvalLayout& layout, const std::vector<std::string>& subjects,
                                          const std::string& session) {
  std::vector<ScanInput> in;
  for (const auto& sub : subjects) in.push_back(preprocessed_scan(layout, sub, session));
  return in;
}

ScanOptions preprocessed_options(const CrossvalPlan& plan, const HarmonizeOptions& h) {
  ScanOptions o;
  o.prep = plan.preprocess;
  o.preprocessed = true;
  o.harmonize = h;
  return o;
}

namespace {
std::vector<Volume> sampled_volumes(const LoadedModel& model, const std::vector<ScanInput>& in, const ScanOptions& o) {
  std::vector<Volume> v;
  for (auto& s : sample_scans(model, in, nullptr, o)) v.push_back(std::move(s.volume));
  return v;
}
}  // namespace

ModelCalibration calibrate_model(const CrossvalPlan& plan, const CrossvalLayout& layout, int f, const std::string& dir,
                                 const LoadedModel& model, const HarmonizeOptions& fold_h, double end_noise,
                                 const std::vector<std::string>& training) {
  const std::string path = layout.calibration(f, dir), fitted_path = layout.calibration_volumes(f, dir);
  ModelCalibration c;
  c.main.end_noise_sd = end_noise;
  if (fs::exists(path) && (!plan.volume_fit || fs::exists(fitted_path))) {
    c.main.map = read_quantile_map(path);
    if (plan.volume_fit)
      c.fitted = Correction{read_calibration_end_noise(fitted_path).value_or(0.0), read_quantile_map(fitted_path)};
    return c;
  }
  std::vector<std::string> scored;
  for (std::size_t i = 0; i < training.size(); i += 4) scored.push_back(training[i]);
  const Direction d = parse_direction(dir);
  HarmonizeOptions h = fold_h;
  h.progress = nullptr;
  h.seed = crossval_seeds::calibration(fold_h.seed);
  log::info("calibrating fold " + std::to_string(f + 1) + " " + dir + " on every third slice of " +
            std::to_string(training.size()) + " training subjects" +
            (plan.volume_fit ? " and all slices of " + std::to_string(scored.size()) + " of them" : ""));
  HarmonizeOptions thirds = h;
  thirds.slice_stride = 3;
  NoiseFitData slices{sampled_volumes(model, preprocessed_scans(layout, training, d.condition_session),
                                      preprocessed_options(plan, thirds)),
                      {},
                      {}};
  for (std::size_t i = 0; i < training.size(); ++i) {
    slices.target.push_back(read_nifti(layout.image(training[i], d.target_session)));
    if (const std::string why = grid_mismatch(slices.target[i].geom, slices.produced[i].geom); !why.empty())
      throw InputError(layout.image(training[i], d.target_session),
                       "grid differs from its harmonized slices (" + why + ")");
    slices.region.push_back(harmonized_slices(slices.produced[i], read_nifti_mask(layout.brain(training[i]))));
  }
  c.main.map = fit_noisy_map(slices, end_noise, h.seed);
  write_quantile_map(path, *c.main.map, {{"training_subjects", training}, {"end_noise", end_noise}});
  if (plan.volume_fit) {
    NoiseFitData whole{
        sampled_volumes(model, preprocessed_scans(layout, scored, d.condition_session), preprocessed_options(plan, h)),
        {},
        {}};
    for (const auto& s : scored) {
      whole.target.push_back(read_nifti(layout.image(s, d.target_session)));
      whole.region.push_back(read_nifti_mask(layout.brain(s)));
    }
    const EndNoiseFit fit = fit_end_noise_to_volumes(slices, whole, crossval_seeds::volume_fit(h.seed));
    std::string tried;
    nlohmann::json table = nlohmann::json::array();
    for (const auto& [sd, score] : fit.tried) {
      tried += (tried.empty() ? "" : ", ") + std::to_string(sd).substr(0, 5) + ": " + std::to_string(int(score));
      table.push_back({{"end_noise", sd}, {"mean_abs_volume_difference_mm3", score}});
    }
    log::info("volume-fitted end noise of fold " + std::to_string(f + 1) + " " + dir + ": sd " +
              std::to_string(fit.sd).substr(0, 5) + " (mean |volume difference| mm3 per sd: " + tried + ")");
    c.fitted = Correction{fit.sd, fit.map};
    write_quantile_map(
        fitted_path, fit.map,
        {{"training_subjects", training}, {"scored_subjects", scored}, {"end_noise", fit.sd}, {"tried", table}});
  }
  return c;
}

}  // namespace harmonize
