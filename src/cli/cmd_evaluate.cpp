// harmonize evaluate: one subject's source, target and harmonized volumes
// compared in the paper's terms (docs/METRICS.md), written as the long-format
// metrics table and printed as a per-method summary.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/histogram_matching.hpp"
#include "evaluate/metrics_table.hpp"
#include "io/nifti.hpp"
#include "preprocess/slicing.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

// Refuses `path` unless its grid is the reference's (core's same_grid rule).
void require_grid(const std::string& path, const Geometry& g, const std::string& ref_path, const Geometry& ref) {
  if (const std::string why = grid_mismatch(g, ref); !why.empty())
    throw InputError(path, "not on the grid of " + ref_path + " (" + why + "); all volumes must lie on one grid");
}

Mask read_mask(const std::string& path) {
  const Mask m = read_nifti_mask(path);
  if (std::count(m.data.begin(), m.data.end(), 1) == 0) throw InputError(path, "the mask is empty");
  return m;
}

Mask read_dseg(const std::string& path) {
  const LabelVolume l = read_nifti_labels(path);
  Mask m(l.geom, 0);
  for (std::size_t i = 0; i < l.data.size(); ++i) {
    if (l.data[i] > 3)
      throw InputError(path, "label " + std::to_string(l.data[i]) + " found; expected 0 background, 1 CSF, 2 GM, 3 WM");
    m.data[i] = std::uint8_t(l.data[i]);
  }
  return m;
}

}  // namespace

void register_evaluate(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    std::string source, target, mask, truth, lesions, hm_reference, hm_reference_mask, subject, direction, out;
    std::vector<std::string> methods;
    HistogramMatchOptions hm;
    bool no_segmentation = false, harmonized_slices_only = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate",
      "Compare one subject's source scan, the histogram-matching baseline and harmonized scans with the target scan:\n"
      "MSE and AHD (brain and whole volume), tissue volumes, volume differences, Dice and Hausdorff distances of\n"
      "the CSF/GM/WM segmentations (docs/METRICS.md). All volumes on the target's grid (e.g. from preprocess).");
  cmd->add_option("--source", opt->source, "Source scan on the target's grid (the method \"Original\")")->required();
  cmd->add_option("--target", opt->target, "Target scan (the reference of every metric)")->required();
  cmd->add_option("--mask", opt->mask, "The target's brain mask")->required();
  cmd->add_option("--method", opt->methods, "NAME=FILE: a harmonized volume to evaluate (repeatable)");
  cmd->add_option("--histogram-reference", opt->hm_reference,
                  "A target-contrast scan of OTHER (training) subjects: adds the \"Histogram matching\" baseline");
  cmd->add_option("--histogram-reference-mask", opt->hm_reference_mask, "Brain mask of --histogram-reference");
  cmd->add_option("--histogram-levels", opt->hm.levels, "Histogram bins of the histogram matching")
      ->capture_default_str();
  cmd->add_option("--histogram-match-points", opt->hm.match_points, "Quantiles matched by the histogram matching")
      ->capture_default_str();
  cmd->add_option("--truth", opt->truth, "Ground-truth tissue labels (0 bg, 1 CSF, 2 GM, 3 WM) on the same grid");
  cmd->add_option(
      "--lesions", opt->lesions,
      "The subject's lesion mask (nonzero = lesion; all zero for a healthy subject) on the same grid, with\n"
      "--truth: adds the lesion rows (lesion-like voxels of each volume against the target's and the truth's,\n"
      "false lesion volume, lesion/WM contrast; docs/METRICS.md, \"Lesions\")");
  cmd->add_option("--subject", opt->subject, "Subject id written in every row")->required();
  cmd->add_option("--direction", opt->direction, "Direction written in every row, e.g. 1p5T-to-3T")->required();
  cmd->add_option("--out", opt->out, "The metrics table (CSV, docs/METRICS.md)")->required();
  cmd->add_flag("--no-segmentation", opt->no_segmentation, "Intensity metrics only");
  cmd->add_flag("--harmonized-slices-only", opt->harmonized_slices_only,
                "Score only the sagittal slices the first --method harmonized (the others 0: apply --slice-stride), "
                "for every method; with --no-segmentation (slice-level MSE and AHD)");
  add_global_options(cmd, opt->global);

  cmd->callback([opt] {
    apply_global_options(opt->global);
    const Options& o = *opt;
    if (o.hm_reference.empty() != o.hm_reference_mask.empty())
      throw UsageError("--histogram-reference and --histogram-reference-mask go together");
    if (!o.lesions.empty() && o.truth.empty())
      throw UsageError("--lesions needs --truth (lesions are looked for in the truth's white matter)");
    // Names and files of the methods, checked before any reading.
    std::vector<std::pair<std::string, std::string>> methods;
    std::set<std::string> names{"Original", "Target"};
    if (!o.hm_reference.empty()) names.insert("Histogram matching");
    for (const auto& m : o.methods) {
      const auto eq = m.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
        throw UsageError("--method " + m + ": expected NAME=FILE");
      const std::string name = m.substr(0, eq);
      if (!names.insert(name).second)
        throw UsageError("--method " + m + ": the name \"" + name + "\" is reserved or given twice");
      methods.emplace_back(name, m.substr(eq + 1));
    }
    check_output_path(o.out, o.global.force);

    EvaluateInput in;
    in.subject = o.subject;
    in.direction = o.direction;
    in.target = read_nifti(o.target);
    const Geometry& grid = in.target.geom;
    in.source = read_nifti(o.source);
    require_grid(o.source, in.source.geom, o.target, grid);
    in.brain = read_mask(o.mask);
    require_grid(o.mask, in.brain.geom, o.target, grid);
    for (const auto& [name, path] : methods) {
      Volume v = read_nifti(path);
      require_grid(path, v.geom, o.target, grid);
      in.methods.emplace_back(name, std::move(v));
    }
    if (o.harmonized_slices_only) {
      if (methods.empty() || !o.no_segmentation)
        throw UsageError("--harmonized-slices-only needs a --method (its slices are scored) and --no-segmentation");
      in.brain = harmonized_slices(in.methods.front().second, in.brain);
      if (std::count(in.brain.data.begin(), in.brain.data.end(), 1) == 0)
        throw InputError(methods.front().second, "no brain slice of it was harmonized");
    }
    if (!o.truth.empty()) {
      in.truth_dseg = read_dseg(o.truth);
      require_grid(o.truth, in.truth_dseg->geom, o.target, grid);
    }
    if (!o.lesions.empty()) {
      in.truth_lesions = read_nifti_mask(o.lesions);  // may be empty: a healthy subject
      require_grid(o.lesions, in.truth_lesions->geom, o.target, grid);
    }
    if (!o.hm_reference.empty()) {
      std::error_code ec;
      if (fs::equivalent(o.hm_reference, o.target, ec))
        throw UsageError("--histogram-reference must be a scan of other subjects, not the evaluated target");
      const Volume ref = read_nifti(o.hm_reference);
      const Mask ref_brain = read_mask(o.hm_reference_mask);
      require_grid(o.hm_reference_mask, ref_brain.geom, o.hm_reference, ref.geom);
      // The source lies on the target's grid, so the target's brain mask is its brain too.
      in.methods.insert(in.methods.begin(),
                        {"Histogram matching", histogram_match(in.source, in.brain, ref, ref_brain, o.hm)});
    }

    const fs::path out(o.out);
    const std::string record_dir = out.parent_path().empty() ? "." : out.parent_path().string();
    const nlohmann::json config = {{"source", o.source},
                                   {"target", o.target},
                                   {"mask", o.mask},
                                   {"methods", o.methods},
                                   {"histogram_reference", o.hm_reference},
                                   {"histogram_reference_mask", o.hm_reference_mask},
                                   {"histogram_levels", o.hm.levels},
                                   {"histogram_match_points", o.hm.match_points},
                                   {"truth", o.truth},
                                   {"lesions", o.lesions},
                                   {"subject", o.subject},
                                   {"direction", o.direction},
                                   {"segmentation", !o.no_segmentation},
                                   {"harmonized_slices_only", o.harmonized_slices_only},
                                   {"out", o.out}};
    RunRecord record(record_dir, out.stem().string() + "_evaluate", config, o.global);
    EvaluateOptions eo;
    eo.segmentation = !o.no_segmentation;
    const auto rows = evaluate_subject(in, eo);
    write_metrics_csv(o.out, rows);
    record.set("rows", rows.size());
    record.finish();
    if (!o.global.quiet)
      std::printf("%s %s\n%s", o.subject.c_str(), o.direction.c_str(), format_metrics_summary(rows).c_str());
    log::info("wrote " + std::to_string(rows.size()) + " rows to " + o.out);
  });
}

}  // namespace harmonize::cli
