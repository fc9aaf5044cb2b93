// Quality of `harmonize preprocess` on a simulated cohort, against the truth:
//   preprocess_quality COHORT PREPROCESSED [--source-session ses-1p5T --target-session ses-3T]
// Prints per subject: brain-mask Dice of both sessions vs the truth mask, and
// the mean CSF/GM/WM Dice of the source truth segmentation brought onto the
// target grid, before registration (scanner coordinates as they are) and
// after (through the saved transform), vs the target truth segmentation;
// and the coefficient of variation of truth-WM intensities before and after
// N4 (recomputed here on the raw target scan inside its truth brain mask).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/files.hpp"
#include "core/overlap.hpp"
#include "io/nifti.hpp"
#include "preprocess/n4.hpp"
#include "preprocess/resample.hpp"
#include "preprocess/transform.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
Mask to_mask(const Volume& v, float threshold = 0.5f) {
  Mask m(v.geom, 0);
  for (std::size_t n = 0; n < v.data.size(); ++n) m.data[n] = v.data[n] > threshold;
  return m;
}
Mask labels(const Volume& v) {
  Mask m(v.geom, 0);
  for (std::size_t n = 0; n < v.data.size(); ++n) m.data[n] = std::uint8_t(std::lround(v.data[n]));
  return m;
}
// Hard labels (0 BG, 1 CSF, 2 GM, 3 WM) from the largest of the fractions.
Mask argmax(const Volume& csf, const Volume& gm, const Volume& wm) {
  Mask m(csf.geom, 0);
  for (std::size_t n = 0; n < m.data.size(); ++n) {
    const float f[4] = {1.0f - csf.data[n] - gm.data[n] - wm.data[n], csf.data[n], gm.data[n], wm.data[n]};
    m.data[n] = std::uint8_t(std::max_element(f, f + 4) - f);
  }
  return m;
}
double cv_in(const Volume& v, const Mask& m) {
  double s = 0, s2 = 0, n = 0;
  for (std::size_t i = 0; i < v.data.size(); ++i)
    if (m.data[i]) s += v.data[i], s2 += double(v.data[i]) * v.data[i], n += 1;
  const double mean = s / n;
  return std::sqrt(std::max(0.0, s2 / n - mean * mean)) / mean;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s COHORT PREPROCESSED [SOURCE_SES TARGET_SES]\n", argv[0]);
    return 2;
  }
  const std::string cohort = argv[1], prep = argv[2];
  const std::string S = argc > 4 ? argv[3] : "ses-1p5T", T = argc > 4 ? argv[4] : "ses-3T";
  const auto dataset = nlohmann::json::parse(read_text_file(prep + "/dataset.json"));
  {  // How well do Colin27's two brain extractions agree (the template mask vs the simulation's brain)?
    const std::string t = "/usr/share/mricron/templates/";
    if (fs::exists(t + "ch2bet.nii.gz") && fs::exists(t + "ch2better.nii.gz")) {
      const Mask bet = to_mask(read_nifti(t + "ch2bet.nii.gz"), 0.0f);
      const Mask better = resample(to_mask(read_nifti(t + "ch2better.nii.gz"), 0.0f), bet.geom);
      std::printf("Colin27 ch2bet vs ch2better brain masks: Dice %.3f\n", dice(bet, better, 1));
    }
  }
  std::printf("%-9s %9s %9s %11s %11s %8s %8s\n", "subject", "maskDice", "maskDice", "tissueDice", "tissueDice",
              "WM CV", "WM CV");
  std::printf("%-9s %9s %9s %11s %11s %8s %8s\n", "", S.c_str(), T.c_str(), "before", "after", "raw", "N4");
  double sums[6] = {0, 0, 0, 0, 0, 0}, minmask = 1;
  int n = 0;
  for (const auto& [sub, rec] : dataset.at("subjects").items()) {
    auto truth = [&](const std::string& ses, const std::string& what) {
      return cohort + "/derivatives/truth/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_" + what + ".nii.gz";
    };
    const std::string sdir = prep + "/" + sub + "/";
    const Mask smask = to_mask(read_nifti(sdir + S + "/anat/" + rec["source"]["mask"].get<std::string>()));
    const Mask tmask = to_mask(read_nifti(sdir + T + "/anat/" + rec["target"]["mask"].get<std::string>()));
    const Mask s_truth_mask = resample(to_mask(read_nifti(truth(S, "desc-brain_mask"))), smask.geom);
    const Mask t_truth_mask = resample(to_mask(read_nifti(truth(T, "desc-brain_mask"))), tmask.geom);
    const double md_s = dice(smask, s_truth_mask, 1), md_t = dice(tmask, t_truth_mask, 1);
    const Mask s_dseg = labels(read_nifti(truth(S, "dseg")));
    const Mask t_dseg = resample(labels(read_nifti(truth(T, "dseg"))), tmask.geom);
    const Mask before = resample(s_dseg, tmask.geom);
    const PairTransform xfm = load_transform(sdir + rec["transform"]["prefix"].get<std::string>());
    // The source truth fractions carried over (linear) and labelled by their
    // largest: the registration's error, not nearest-neighbour label aliasing.
    auto carried = [&](const PointMap& map) {
      auto f = [&](const char* c) {
        return resample(read_nifti(truth(S, std::string("label-") + c + "_probseg")), tmask.geom, map);
      };
      return argmax(f("CSF"), f("GM"), f("WM"));
    };
    const Mask before_f = carried({});
    const Mask after_f = carried([&](const Vec3& p) { return xfm.map(p); });
    const double d_before = mean_tissue_dice(before_f, t_dseg), d_after = mean_tissue_dice(after_f, t_dseg);
    const double d_after_nn = mean_tissue_dice(warp(s_dseg, xfm, tmask.geom), t_dseg);
    (void)before;
    const Volume raw = read_nifti(cohort + "/" + sub + "/" + T + "/anat/" + sub + "_" + T + "_T1w.nii.gz");
    const Mask wm = to_mask(read_nifti(truth(T, "label-WM_probseg")), 0.95f);
    const double cv_raw = cv_in(raw, wm);
    const double cv_n4 = cv_in(n4_correct(raw, to_mask(read_nifti(truth(T, "desc-brain_mask")))), wm);
    std::printf("%-9s %9.3f %9.3f %11.3f %11.3f %8.4f %8.4f   (labels warped nearest: %.3f)\n", sub.c_str(), md_s, md_t,
                d_before, d_after, cv_raw, cv_n4, d_after_nn);
    const double v[6] = {md_s, md_t, d_before, d_after, cv_raw, cv_n4};
    for (int i = 0; i < 6; ++i) sums[i] += v[i];
    minmask = std::min({minmask, md_s, md_t});
    ++n;
  }
  std::printf("%-9s %9.3f %9.3f %11.3f %11.3f %8.4f %8.4f\n", "mean", sums[0] / n, sums[1] / n, sums[2] / n,
              sums[3] / n, sums[4] / n, sums[5] / n);
  std::printf("lowest brain-mask Dice: %.3f over %d subjects\n", minmask, n);
  return 0;
}
