// harmonize segment: CSF / GM / WM segmentation of a brain-extracted T1w scan
// by the method of FSL FAST (docs/SEGMENT.md).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "io/nifti.hpp"
#include "segment/segment.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

struct Options {
  GlobalOptions global;
  SegmentOptions seg;
  std::string input, mask, prefix;
  bool no_bias = false, no_pv = false, write_bias = false, fixed_bias = false;
};

nlohmann::json to_json(const SegmentOptions& s) {
  return {{"beta", s.beta},
          {"iterations", s.iterations},
          {"bias_fwhm_mm", s.bias_fwhm_mm},
          {"bias_iterations", s.bias_iterations},
          {"converge_bias", s.converge_bias},
          {"bias_tolerance", s.bias_tolerance},
          {"partial_volume", s.partial_volume},
          {"tolerance", s.tolerance},
          {"refine_separation", s.refine_separation},
          {"class_means", s.class_means}};
}

}  // namespace

void register_segment(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "segment",
      "Segment a brain-extracted T1-weighted scan into CSF, GM and WM: a partial-volume (mixel) intensity model\n"
      "fitted by EM with a smooth bias field, then fractions under a Markov random field prior (docs/SEGMENT.md).\n"
      "  harmonize segment --input T1w.nii.gz [--mask brain_mask.nii.gz] --out-prefix OUT/sub-001_ses-3T\n"
      "Writes <prefix>_dseg.nii.gz (uint8: 0 background, 1 CSF, 2 GM, 3 WM), <prefix>_label-CSF|GM|WM_probseg.nii.gz\n"
      "(float32 partial-volume fractions; dseg is their largest), <prefix>_volumes.tsv (voxels and mm^3 per class, "
      "from the hard labels,\n"
      "and mm^3 from the fractions), with --write-bias <prefix>_desc-bias_T1w.nii.gz (the estimated multiplicative\n"
      "field; input / field is the corrected image), and the run record <prefix>_segment.json / .log.");
  cmd->add_option("--input", opt->input, "T1-weighted scan (NIfTI), brain-extracted or with --mask")->required();
  cmd->add_option(
      "--mask", opt->mask,
      "Brain mask on the input's grid (a voxel above 0.5 is brain, as in every command). Without it\n"
      "every input voxel > 0 counts as brain, i.e. the input must be brain-extracted (background exactly 0)");
  cmd->add_option("--out-prefix", opt->prefix, "Output path prefix, e.g. OUT/sub-001_ses-3T (folders are created)")
      ->required();
  cmd->add_option("--beta", opt->seg.beta,
                  "MRF strength at 1 mm: how much a voxel's fractions are drawn to its 6 neighbours'; 0 = no spatial\n"
                  "prior. Voxels coarser than 1 mm use beta x 1 mm / smallest spacing (the run record's beta_used)")
      ->capture_default_str();
  cmd->add_option("--iterations", opt->seg.iterations,
                  "Most sweeps per phase (parameters, MRF); reached only when EM does not converge, which the\n"
                  "run record and the log report")
      ->capture_default_str();
  cmd->add_option("--bias-fwhm", opt->seg.bias_fwhm_mm, "Smoothness (Gaussian FWHM) of the bias field, mm")
      ->capture_default_str();
  auto* bias_iterations =
      cmd->add_option("--bias-iterations", opt->seg.bias_iterations,
                      "Bias field updates (one per EM sweep): the most before the field settles (default " +
                          std::to_string(kConvergeBiasUpdates) + "), or with --fixed-bias the count (default " +
                          std::to_string(kFixedBiasUpdates) + ")");
  cmd->add_flag("--fixed-bias", opt->fixed_bias,
                "The earlier bias phase: a fixed number of residual gains multiplied into the field, not run to\n"
                "convergence; at 2 mm, 1.5 T its volumes depend on the count by up to 5 % (docs/SEGMENT.md). By\n"
                "default the field is fitted afresh each update (locally linear, from voxels confidently WM, no MRF\n"
                "in that phase) until it and the three classes settle (--bias-tolerance)");
  cmd->add_option("--bias-tolerance", opt->seg.bias_tolerance,
                  "Stop the bias phase once the field's log, the class means (share of the CSF-WM range) and\n"
                  "weights move less than this in an update (not with --fixed-bias)")
      ->capture_default_str();
  cmd->add_option("--tolerance", opt->seg.tolerance,
                  "Convergence: each phase stops when less than this share of the brain changes class in a sweep")
      ->capture_default_str();
  cmd->add_option("--refine-separation", opt->seg.refine_separation,
                  "Refine the class means on the histogram only when the GM and WM cores' means lie less than this\n"
                  "many noise sds apart (overlapping classes cut each other's cores); 0: never, a large value: always")
      ->capture_default_str();
  cmd->add_option("--class-means", opt->seg.class_means,
                  "CSF,GM,WM means of the bias-corrected image to use instead of estimating them (e.g. measured\n"
                  "on the truth, to separate errors of the means from those of the model); the run record keeps them")
      ->expected(3)
      ->delimiter(',');
  cmd->add_flag("--no-bias", opt->no_bias, "Do not estimate a bias field (the input is already corrected)");
  cmd->add_flag("--no-pv", opt->no_pv,
                "No mixtures in the model: three pure classes, probseg files hold their posteriors");
  cmd->add_flag("--write-bias", opt->write_bias, "Also write the bias field");
  add_global_options(cmd, opt->global);

  cmd->callback([opt, bias_iterations] {
    apply_global_options(opt->global);
    Options& o = *opt;
    if (o.no_bias) o.seg.bias_fwhm_mm = 0;
    o.seg.converge_bias = !o.fixed_bias;
    if (!o.seg.converge_bias && bias_iterations->count() == 0) o.seg.bias_iterations = kFixedBiasUpdates;
    o.seg.partial_volume = !o.no_pv;
    if (!(o.seg.beta >= 0 && o.seg.beta <= 10)) throw UsageError("--beta must be in [0, 10]");
    if (o.seg.iterations < 1 || o.seg.iterations > 1000) throw UsageError("--iterations must be in [1, 1000]");
    if (o.seg.bias_iterations < 0) throw UsageError("--bias-iterations must be >= 0");
    if (!(o.seg.bias_tolerance >= 0)) throw UsageError("--bias-tolerance must be >= 0");
    if (!o.no_bias && !(o.seg.bias_fwhm_mm >= 5)) throw UsageError("--bias-fwhm must be at least 5 mm");
    if (!(o.seg.tolerance >= 0)) throw UsageError("--tolerance must be >= 0");
    if (!(o.seg.refine_separation >= 0)) throw UsageError("--refine-separation must be >= 0");
    if (!valid_class_means(o.seg.class_means))
      throw UsageError("--class-means must be three finite values CSF,GM,WM in increasing order");
    if (o.prefix.empty() || o.prefix.back() == '/') throw UsageError("--out-prefix needs a file name part");

    // Inputs first: every refusal before anything is written.
    const Volume image = read_nifti(o.input);
    Mask brain(image.geom, 0);
    if (!o.mask.empty()) {
      // The one rule of every command: a mask voxel above 0.5 is brain.
      brain = read_nifti_mask(o.mask);
      const std::string why = grid_mismatch(brain.geom, image.geom);
      if (!why.empty()) throw InputError(o.mask, "not on the grid of " + o.input + " (" + why + ")");
    } else {
      for (std::size_t n = 0; n < image.data.size(); ++n) brain.data[n] = image.data[n] > 0.0f;
    }
    std::size_t count = 0;
    for (auto b : brain.data) count += b;
    if (count == 0) throw InputError(o.mask.empty() ? o.input : o.mask, "holds no brain voxel");
    if (count < 100)
      throw InputError(o.mask.empty() ? o.input : o.mask, "holds only " + std::to_string(count) + " brain voxels");

    const std::string prefix = fs::absolute(o.prefix).lexically_normal().string();
    const std::string dir = fs::path(prefix).parent_path().string();
    const std::string stem = fs::path(prefix).filename().string();
    std::vector<std::string> outputs{prefix + "_dseg.nii.gz", prefix + "_volumes.tsv", prefix + "_segment.json"};
    for (const char* c : kTissueNames) outputs.push_back(prefix + "_label-" + c + "_probseg.nii.gz");
    if (o.write_bias) outputs.push_back(prefix + "_desc-bias_T1w.nii.gz");
    for (const auto& p : outputs) check_output_path(p, o.global.force);

    nlohmann::json config = to_json(o.seg);
    config["input"] = o.input;
    config["mask"] = o.mask.empty() ? nlohmann::json("input > 0") : nlohmann::json(o.mask);
    SegmentResult r;
    double seconds = 0;
    {
      RunRecord record(dir, stem + "_segment", config, o.global);
      try {
        const auto t0 = std::chrono::steady_clock::now();
        r = segment_tissues(image, brain, o.seg);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      } catch (const Error& e) {
        std::error_code ec;
        fs::remove(prefix + "_segment.json", ec);
        fs::remove(prefix + "_segment.log", ec);
        throw InputError(o.input, e.what());
      }
      write_nifti(prefix + "_dseg.nii.gz", r.labels);
      for (int k = 0; k < 3; ++k) write_nifti(prefix + "_label-" + kTissueNames[k] + "_probseg.nii.gz", r.fractions[k]);
      if (o.write_bias) write_nifti(prefix + "_desc-bias_T1w.nii.gz", r.bias);
      const auto& sp = image.geom.spacing;
      const double voxel_mm3 = sp[0] * sp[1] * sp[2];
      std::string tsv = "class\tlabel\tvoxels\tvolume_mm3\tpv_volume_mm3\tmean\tsd\n";
      nlohmann::json classes = nlohmann::json::object();
      for (int k = 0; k < 3; ++k) {
        double pv = 0;
        for (float f : r.fractions[k].data) pv += f;
        pv *= voxel_mm3;
        const auto voxels = std::size_t(std::llround(r.volume_mm3[k] / voxel_mm3));
        char line[256];
        std::snprintf(line, sizeof line, "%s\t%d\t%zu\t%.1f\t%.1f\t%.6g\t%.6g\n", kTissueNames[k], k + 1, voxels,
                      r.volume_mm3[k], pv, r.mean[k], r.sd[k]);
        tsv += line;
        classes[kTissueNames[k]] = {{"voxels", voxels},
                                    {"volume_mm3", r.volume_mm3[k]},
                                    {"pv_volume_mm3", pv},
                                    {"mean", r.mean[k]},
                                    {"sd", r.sd[k]}};
      }
      write_text_atomically(prefix + "_volumes.tsv", tsv);
      record.set("classes", classes);
      record.set("iterations", r.iterations);
      record.set("parameter_sweeps", r.parameter_sweeps);
      record.set("bias_updates", r.bias_updates);
      if (o.seg.converge_bias) record.set("last_bias_change", r.bias_change);
      record.set("core_means", r.core_mean);
      record.set("core_noise_sd", r.core_sd);
      record.set("means_refined", r.means_refined);
      record.set("beta_used", r.beta);
      record.set("converged", r.converged);
      record.set("last_change", r.change);
      record.set("last_parameter_change", r.parameter_change);
      record.set("seconds", seconds);
      record.set("brain_voxels", count);
      record.finish();
    }
    log::info("segmented " + o.input + " in " + std::to_string(seconds) + " s, " + std::to_string(r.iterations) +
              " sweeps over the brain, " + std::to_string(r.parameter_sweeps) + " on the histogram");
    if (!r.converged)
      log::warn("segment: EM did not converge within --iterations " + std::to_string(o.seg.iterations) + ", " +
                std::to_string(o.seg.parameter_sweeps) + " histogram sweeps" +
                (o.seg.converge_bias ? " and --bias-iterations " + std::to_string(o.seg.bias_iterations) : "") +
                " (last change " + std::to_string(r.change) + " of the brain per sweep, " +
                std::to_string(r.parameter_change) + " of the parameters" +
                (o.seg.converge_bias ? ", " + std::to_string(r.bias_change) + " of the bias phase" : "") + ")");
    std::printf("CSF %.0f mm3, GM %.0f mm3, WM %.0f mm3 -> %s_dseg.nii.gz\n", r.volume_mm3[0], r.volume_mm3[1],
                r.volume_mm3[2], prefix.c_str());
  });
}

}  // namespace harmonize::cli
