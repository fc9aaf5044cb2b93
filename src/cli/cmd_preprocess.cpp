// harmonize preprocess: a raw scan, or every raw pair of a BIDS dataset, into
// what the model is trained and applied on (PAPER.md, "Preprocessing"). The
// work is preprocess/dataset.hpp's; this file holds the options and the run.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "preprocess/dataset.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {

void register_preprocess(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    DatasetOptions dataset;
    std::vector<std::string> paths;
    std::string input, mask;
    bool no_n4 = false;
    std::string init = "moments";
  };
  auto opt = std::make_shared<Options>();
  DatasetOptions& d = opt->dataset;
  CLI::App* cmd = app.add_subcommand(
      "preprocess",
      "Preprocess as the paper does: brain mask, N4, 1 mm, clip 0.1/99.9 % and scale to [0,1], register the pair\n"
      "(affine + deformable, mutual information), sagittal slices 224x224.\n"
      "  harmonize preprocess BIDS_DIR OUT_DIR [--source-session ses-1p5T --target-session ses-3T]\n"
      "  harmonize preprocess --input SCAN.nii.gz OUT_DIR [--mask MASK.nii.gz]");
  cmd->add_option("paths", opt->paths, "BIDS_DIR OUT_DIR, or OUT_DIR with --input")->required()->expected(1, 2);
  cmd->add_option("--input", opt->input, "A single raw scan instead of a BIDS dataset");
  cmd->add_option("--mask", opt->mask, "Brain mask of --input (default: by registering the Colin27 template)");
  cmd->add_option("--mask-dir", d.mask_dir,
                  "BIDS-derivatives folder with sub-X/ses-Y/anat/sub-X_ses-Y_desc-brain_mask.nii.gz per scan");
  cmd->add_option("--source-session", d.source_session, "Session registered onto the other")->capture_default_str();
  cmd->add_option("--target-session", d.target_session, "Session whose grid the pair shares")->capture_default_str();
  cmd->add_option("--subjects", d.subjects, "Only these subjects (sub-XXX ...)");
  add_preprocess_options(cmd, d.prep);
  cmd->add_option("--clip-low", d.prep.percentile_lo, "Lower clipping percentile of brain voxels")
      ->capture_default_str();
  cmd->add_option("--clip-high", d.prep.percentile_hi, "Upper clipping percentile of brain voxels")
      ->capture_default_str();
  cmd->add_flag("--no-n4", opt->no_n4, "Skip N4 bias-field correction");
  cmd->add_option("--init", opt->init,
                  "Start of pair registration: moments (centres of mass aligned) or geometry "
                  "(scanner coordinates as they are)")
      ->check(CLI::IsMember({"moments", "geometry"}))
      ->capture_default_str();
  add_templates_option(cmd, d.prep.template_dir);
  add_global_options(cmd, opt->global);

  cmd->callback([opt] {
    apply_global_options(opt->global);
    Options& o = *opt;
    PreprocessOptions& p = o.dataset.prep;
    p.slice_width = p.slice_height;
    p.n4 = !o.no_n4;
    p.align_centres = o.init == "moments";
    const bool single = !o.input.empty();
    if (single != (o.paths.size() == 1))
      throw UsageError(single ? "with --input give only OUT_DIR"
                              : "give BIDS_DIR and OUT_DIR (or --input SCAN OUT_DIR)");
    if (!(p.percentile_lo >= 0 && p.percentile_lo < p.percentile_hi && p.percentile_hi <= 100))
      throw UsageError("need 0 <= --clip-low < --clip-high <= 100");
    const std::string out = fs::absolute(o.paths.back()).lexically_normal().string();
    if (fs::exists(out) && !o.global.force) throw OutputError(out, "already exists (use --force to replace it)");
    check_output_path(out, true);

    // Validate every input before heavy work.
    std::vector<PairJob> jobs;
    if (single)
      check_scan_inputs(o.input, o.mask);
    else
      jobs = find_pairs(o.paths[0], o.dataset);
    std::unique_ptr<BrainTemplate> tmpl;
    if (single ? o.mask.empty() : needs_template(o.dataset))
      tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(p.template_dir));

    PartialFolder folder(out);
    const std::string& work = folder.path();
    fs::create_directories(work + "/code");
    {
      RunRecord record(work + "/code", "harmonize_preprocess", to_json(p), o.global);
      if (single)
        preprocess_scan(o.input, o.mask, work, o.dataset, versions(), tmpl.get());
      else
        preprocess_pairs(jobs, tmpl.get(), work, o.dataset, versions());
      record.finish();
    }
    folder.commit();
    std::printf("Preprocessed %s into %s\n",
                single ? o.input.c_str() : (std::to_string(jobs.size()) + " pairs").c_str(), out.c_str());
  });
}

}  // namespace harmonize::cli
