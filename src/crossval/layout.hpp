#pragma once
// Where a cross-validation keeps its work (OUT_DIR):
//   plan.json, state.json                        the plan (crossval/plan.hpp) and the seconds per stage
//   prep/                                        the preprocessed dataset (bids/layout.hpp names its files)
//   models/fold-<k>_<direction>/                 a training run (train/trainer.hpp) + calibration*.json
//   models/fold-<k>_<direction>_<objective>/     a baseline's training run (regression, gan)
//   models/baseline-budget_<objective>.json      its steps for the model's time (crossval/plan.hpp BaselineBudget)
//   harmonized/<direction>/<sub>_desc-<d>_T1w.nii.gz   d: harmonized, bare, volumefit, histmatch, regression, gan
//   metrics/<direction>/<sub>_metrics.csv, metrics.csv, figures/, report.md, report.html, tables/
#include <string>

#include "bids/layout.hpp"

namespace harmonize {

struct CrossvalLayout {
  std::string out, target_session;
  std::string plan() const { return out + "/plan.json"; }
  std::string state() const { return out + "/state.json"; }
  std::string prep() const { return out + "/prep"; }
  std::string model_dir(int fold, const std::string& dir) const {
    return out + "/models/fold-" + std::to_string(fold + 1) + "_" + dir;
  }
  // The training run of an objective: "diffusion" the model's, else a baseline's.
  std::string model_dir(int fold, const std::string& dir, const std::string& objective) const {
    return objective == "diffusion" ? model_dir(fold, dir) : model_dir(fold, dir) + "_" + objective;
  }
  std::string baseline_budget(const std::string& objective) const {
    return out + "/models/baseline-budget_" + objective + ".json";
  }
  std::string calibration(int fold, const std::string& dir) const { return model_dir(fold, dir) + "/calibration.json"; }
  std::string calibration_volumes(int fold, const std::string& dir) const {
    return model_dir(fold, dir) + "/calibration-volumes.json";
  }
  std::string harmonized(const std::string& dir, const std::string& sub, const std::string& desc) const {
    return out + "/harmonized/" + dir + "/" + sub + "_desc-" + desc + "_T1w.nii.gz";
  }
  std::string metrics(const std::string& dir, const std::string& sub) const {
    return out + "/metrics/" + dir + "/" + sub + "_metrics.csv";
  }
  // Preprocessed image of a session, on the pair's target-session grid.
  std::string image(const std::string& sub, const std::string& ses) const {
    return bids::preproc(prep(), sub, ses, ses == target_session ? std::string() : target_session);
  }
  // The pair's brain mask (target session).
  std::string brain(const std::string& sub) const { return bids::brain_mask(prep(), sub, target_session); }
};

}  // namespace harmonize
