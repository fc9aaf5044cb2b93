// Quality of `segment_tissues` on simulated scans, against the simulator's truth:
//   harmonize simulate COHORT --subjects 2          (1 mm, default noise)
//   segment_quality COHORT [--beta B] [--iterations N] [--tolerance T] [--no-bias] [--no-pv] [--subjects sub-001,...]
// Every sub-*/ses-*/anat/*_T1w.nii.gz of COHORT is segmented inside its truth
// brain mask (derivatives/truth/.../*_desc-brain_mask.nii.gz). Printed per scan:
//   Dice CSF/GM/WM of our hard labels vs the truth hard labels inside the
//   brain mask: each mask voxel's largest truth fraction of the three classes
//   (*_probseg). The simulator's *_dseg takes the largest of four, non-brain
//   included, and calls some of the mask's voxels (the brain's edge, partly
//   dura or bone) non-brain: 0.3-0.6 % at 2 mm, under 0.15 % at 1 mm, 1-2 % of
//   the CSF; a three-class segmentation of the mask must label
//   them, so they take their largest brain class here ("nb%": their share of
//   the mask);
//   volume error % per class, hard vs hard: our label count vs that truth's
//   count (voxels inside the brain mask);
//   volume error % per class, partial volume vs partial volume: the sum of our
//   fractions vs the sum of the truth fractions (*_probseg, whole image);
//   seconds of segment_tissues; sweeps over the brain ("!": a cap was reached), EM sweeps on the
//   histogram; stab%: the largest change of a
//   class volume when segmented again with twice the sweeps (bias updates included) and no tolerance.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/overlap.hpp"
#include "io/nifti.hpp"
#include "segment/segment.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {
Mask to_labels(const Volume& v) {
  Mask m(v.geom, 0);
  for (std::size_t n = 0; n < v.data.size(); ++n) m.data[n] = std::uint8_t(std::lround(v.data[n]));
  return m;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string first = argc >= 2 ? argv[1] : "";
  if (argc < 2 || first == "--help" || first == "-h") {
    std::fprintf(stderr,
                 "usage: %s COHORT [--beta B] [--iterations N] [--tolerance T] [--bias-fwhm MM] [--bias-iterations N]\n"
                 "       [--fixed-bias] [--bias-tolerance T] [--no-bias] [--no-pv] [--no-stability]\n"
                 "       [--refine-separation S] [--subjects sub-001,sub-002]\n"
                 "COHORT: a folder written by `harmonize simulate` (scans and derivatives/truth)\n",
                 argv[0]);
    return argc < 2 ? 2 : 0;
  }
  const std::string cohort = first;
  if (!fs::is_directory(cohort)) {
    std::fprintf(stderr, "segment_quality: %s is not a folder (expected a cohort from `harmonize simulate`)\n",
                 cohort.c_str());
    return 2;
  }
  SegmentOptions o;
  std::string only;
  bool stability = true, bias_iterations_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--beta" && i + 1 < argc)
      o.beta = std::stod(argv[++i]);
    else if (a == "--tolerance" && i + 1 < argc)
      o.tolerance = std::stod(argv[++i]);
    else if (a == "--iterations" && i + 1 < argc)
      o.iterations = std::stoi(argv[++i]);
    else if (a == "--bias-fwhm" && i + 1 < argc)
      o.bias_fwhm_mm = std::stod(argv[++i]);
    else if (a == "--bias-iterations" && i + 1 < argc)
      o.bias_iterations = std::stoi(argv[++i]), bias_iterations_given = true;
    else if (a == "--refine-separation" && i + 1 < argc)
      o.refine_separation = std::stod(argv[++i]);
    else if (a == "--no-bias")
      o.bias_fwhm_mm = 0;
    else if (a == "--fixed-bias")
      o.converge_bias = false;
    else if (a == "--bias-tolerance" && i + 1 < argc)
      o.bias_tolerance = std::stod(argv[++i]);
    else if (a == "--no-stability")
      stability = false;
    else if (a == "--no-pv")
      o.partial_volume = false;
    else if (a == "--subjects" && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (!o.converge_bias && !bias_iterations_given) o.bias_iterations = kFixedBiasUpdates;  // as `harmonize segment`
  std::vector<std::string> scans;
  for (const auto& e : fs::recursive_directory_iterator(cohort)) {
    const std::string p = e.path().string();
    if (p.find("derivatives") != std::string::npos) continue;
    if (p.size() > 11 && p.compare(p.size() - 11, 11, "_T1w.nii.gz") == 0) scans.push_back(p);
  }
  std::sort(scans.begin(), scans.end());
  std::printf("beta %.3g at 1 mm, bias %s, partial volume %s\n", o.beta,
              o.bias_fwhm_mm > 0 ? (o.converge_bias ? "on (converged)" : "on (fixed updates)") : "off",
              o.partial_volume ? "on" : "off");
  std::printf("%-22s %6s %6s %6s | %7s %7s %7s | %7s %7s %7s | %6s %4s  %5s %6s %5s %5s\n", "scan", "dCSF", "dGM",
              "dWM", "vCSF%", "vGM%", "vWM%", "pvCSF%", "pvGM%", "pvWM%", "sec", "it", "hist", "stab%", "sep", "nb%");
  double sum_d[3] = {0, 0, 0}, worst_stab = 0;
  double worst_d[3] = {1, 1, 1}, worst_v[3] = {0, 0, 0}, worst_pv[3] = {0, 0, 0};
  int n = 0;
  for (const auto& scan : scans) {
    const std::string stem = nifti_stem(scan);  // sub-X_ses-Y_T1w
    const std::string sub = stem.substr(0, stem.find('_'));
    if (!only.empty() && only.find(sub) == std::string::npos) continue;
    const std::string ses = stem.substr(sub.size() + 1, stem.rfind('_') - sub.size() - 1);
    const std::string truth = cohort + "/derivatives/truth/" + sub + "/" + ses + "/anat/" + sub + "_" + ses + "_";
    const Volume image = read_nifti(scan);
    const Mask brain = to_labels(read_nifti(truth + "desc-brain_mask.nii.gz"));
    const Mask dseg = to_labels(read_nifti(truth + "dseg.nii.gz"));
    std::array<Volume, 3> tf;
    for (int k = 0; k < 3; ++k) tf[std::size_t(k)] = read_nifti(truth + "label-" + kTissueNames[k] + "_probseg.nii.gz");
    // The three-class truth inside the mask (see the header); the simulator's non-brain voxels counted.
    Mask ref(dseg.geom, 0);
    double non_brain = 0, mask_voxels = 0;
    for (std::size_t i = 0; i < dseg.data.size(); ++i) {
      if (!brain.data[i]) continue;
      int best = 0;
      for (int k = 1; k < 3; ++k)
        if (tf[std::size_t(k)].data[i] > tf[std::size_t(best)].data[i]) best = k;
      ref.data[i] = std::uint8_t(best + 1);
      mask_voxels += 1, non_brain += dseg.data[i] == 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const SegmentResult r = segment_tissues(image, brain, o);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Stability: the volumes at convergence against those after twice the sweeps (no tolerance).
    const SegmentResult r2 = stability ? segment_tissues(image, brain, twice_the_sweeps(o, r)) : r;
    double stab = 0;
    for (int k = 0; k < 3; ++k)
      stab = std::max(stab, 100 * std::abs(r2.volume_mm3[k] - r.volume_mm3[k]) / r.volume_mm3[k]);
    worst_stab = std::max(worst_stab, stab);
    double d[3], v[3], pv[3];
    for (int k = 0; k < 3; ++k) {
      d[k] = dice(r.labels, ref, std::uint8_t(k + 1));
      double ours = 0, truth_count = 0, ours_pv = 0, truth_pv = 0;
      for (std::size_t i = 0; i < ref.data.size(); ++i) {
        ours += r.labels.data[i] == k + 1;
        truth_count += ref.data[i] == k + 1;
        ours_pv += r.fractions[k].data[i];
        truth_pv += tf[std::size_t(k)].data[i];
      }
      v[k] = 100 * (ours - truth_count) / truth_count;
      pv[k] = 100 * (ours_pv - truth_pv) / truth_pv;
      sum_d[k] += d[k];
      worst_d[k] = std::min(worst_d[k], d[k]);
      worst_v[k] = std::max(worst_v[k], std::abs(v[k]));
      worst_pv[k] = std::max(worst_pv[k], std::abs(pv[k]));
    }
    // GM-WM separation of the cores in noise sds; "-" where a class had too few
    // core voxels and EM ran free (means and noise).
    char sep_text[16] = "-";
    if (r.core_sd > 0) std::snprintf(sep_text, sizeof sep_text, "%.1f", (r.core_mean[2] - r.core_mean[1]) / r.core_sd);
    const std::string separation = sep_text;
    std::printf(
        "%-22s %6.3f %6.3f %6.3f | %+7.2f %+7.2f %+7.2f | %+7.2f %+7.2f %+7.2f | %6.1f %4d%s %5d %6.3f %5s%s %5.2f\n",
        (sub + "_" + ses).c_str(), d[0], d[1], d[2], v[0], v[1], v[2], pv[0], pv[1], pv[2], sec, r.iterations,
        r.converged ? " " : "!", r.parameter_sweeps, stab, separation.c_str(), r.means_refined ? "*" : " ",
        100 * non_brain / mask_voxels);
    std::fflush(stdout);
    ++n;
  }
  if (n == 0) {
    std::fprintf(stderr, "no scans found under %s\n", cohort.c_str());
    return 1;
  }
  std::printf("%-22s %6.3f %6.3f %6.3f\n", "mean Dice", sum_d[0] / n, sum_d[1] / n, sum_d[2] / n);
  std::printf("%-22s %6.3f %6.3f %6.3f | %7.2f %7.2f %7.2f | %7.2f %7.2f %7.2f\n", "worst", worst_d[0], worst_d[1],
              worst_d[2], worst_v[0], worst_v[1], worst_v[2], worst_pv[0], worst_pv[1], worst_pv[2]);
  const bool pass = worst_d[0] >= 0.80 && worst_d[1] >= 0.85 && worst_d[2] >= 0.90 && worst_v[0] <= 5 &&
                    worst_v[1] <= 5 && worst_v[2] <= 5;
  std::printf("largest volume change with twice the sweeps and bias updates: %.3f %%\n", worst_stab);
  std::printf("targets (Dice CSF>=0.80 GM>=0.85 WM>=0.90, |hard volume error|<=5%%): %s\n", pass ? "met" : "NOT met");
  return 0;
}
