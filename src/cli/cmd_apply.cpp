// harmonize apply: rewrite scans in the other scanner's contrast with a
// trained model, on each input's own grid and geometry.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/nifti.hpp"
#include "learn/tensor.hpp"
#include "pipeline/preprocess.hpp"
#include "prep/intensity.hpp"
#include "preprocess/resample.hpp"
#include "train/apply.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {

void register_apply(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    std::string model, device = "cpu", output_dir, end_noise = "none", calibration;
    std::vector<std::string> inputs, outputs, masks;
    HarmonizeOptions harmonize;
    PreprocessOptions prep;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "apply",
      "Harmonize scans with a trained model: preprocess each as the training data was, sample every brain slice\n"
      "conditioned on it, stack the slices and write the result on the input's grid (background 0, values on the\n"
      "target contrast's [0,1] scale).");
  cmd->add_option("--model", opt->model, "model.pt (or a checkpoint) from harmonize train")->required();
  cmd->add_option("--input", opt->inputs, "Raw scans (NIfTI); slices of all inputs are batched together")->required();
  cmd->add_option("--output", opt->outputs, "One output file per input (.nii.gz)");
  cmd->add_option("--output-dir", opt->output_dir, "Or: a folder for <input name>_harmonized.nii.gz");
  cmd->add_option("--mask", opt->masks, "Brain masks of the inputs (default: Colin27 template registration)");
  cmd->add_option("--sampler", opt->harmonize.sampler, "ddpm (ancestral, the paper's) or ddim")->capture_default_str();
  cmd->add_option("--steps", opt->harmonize.steps, "Sampling steps (respaced; 1000 = the paper's full chain)")
      ->capture_default_str();
  cmd->add_option("--eta", opt->harmonize.eta, "DDIM eta (0: deterministic)")->capture_default_str();
  add_step_spacing_option(cmd, opt->harmonize.spacing);
  add_end_noise_option(cmd, opt->end_noise);
  cmd->add_option("--calibration", opt->calibration,
                  "Quantile map applied to the harmonized intensities (calibration.json or calibration-volumes.json "
                  "of a crossval model folder, written by --calibrate / --volume-fit). Without --end-noise, the "
                  "end noise the map was fitted after (recorded in the file) is used");
  cmd->add_option("--batch", opt->harmonize.batch, "Slices per network call")->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu or cuda")->capture_default_str();
  add_templates_option(cmd, opt->prep.template_dir);
  add_global_options(cmd, opt->global);

  cmd->callback([opt, cmd] {
    apply_global_options(opt->global);
    Options& o = *opt;
    if (o.device == "cuda") {
      if (!torch::cuda::is_available()) throw UsageError("--device cuda: no CUDA device is available");
      o.harmonize.device = torch::kCUDA;
    } else if (o.device != "cpu") {
      throw UsageError("--device must be cpu or cuda");
    }
    o.harmonize.seed = o.global.seed;
    if (o.outputs.empty() == o.output_dir.empty()) throw UsageError("give either --output per input or --output-dir");
    if (!o.outputs.empty() && o.outputs.size() != o.inputs.size())
      throw UsageError("--output must name one file per --input");
    if (!o.masks.empty() && o.masks.size() != o.inputs.size())
      throw UsageError("--mask must name one mask per --input");
    if (o.outputs.empty())
      for (const auto& in : o.inputs) {
        o.outputs.push_back(o.output_dir + "/" + nifti_stem(in) + "_harmonized.nii.gz");
      }
    // Validate everything before heavy work.
    for (const auto& out : o.outputs) {
      if (!is_nifti_path(out)) throw OutputError(out, "output name must end in .nii or .nii.gz");
      check_output_path(out, o.global.force);
    }
    std::optional<QuantileMap> calibration;
    if (!o.calibration.empty()) {
      calibration = read_quantile_map(o.calibration);
      // The map holds for the outputs it was fitted on: with the same end noise.
      if (cmd->count("--end-noise") == 0)
        if (const auto sd = read_calibration_end_noise(o.calibration)) o.end_noise = std::to_string(*sd);
    }
    const LoadedModel model = load_model(o.model, o.harmonize.device);
    log::info("model " + o.model + ": " + model.header.direction + ", step " + std::to_string(model.header.step));
    o.harmonize.end_noise = resolve_end_noise(o.end_noise, model.header, o.model);
    // Preprocess as the model's training data was (spacing, clipping, N4, slice size).
    if (const auto it = model.header.training.find("preprocessing");
        it != model.header.training.end() && it->is_object() && !it->empty()) {
      const nlohmann::json& p = *it;
      try {
        o.prep.spacing_mm = p.value("spacing_mm", o.prep.spacing_mm);
        o.prep.percentile_lo = p.value("percentile_lo", o.prep.percentile_lo);
        o.prep.percentile_hi = p.value("percentile_hi", o.prep.percentile_hi);
        o.prep.slice_height = p.value("slice_height", o.prep.slice_height);
        o.prep.slice_width = p.value("slice_width", o.prep.slice_width);
        o.prep.n4 = p.value("n4", o.prep.n4);
      } catch (const nlohmann::json::exception& e) {
        throw InputError(o.model, std::string("invalid preprocessing record: ") + e.what());
      }
    } else {
      log::warn(o.model + " does not record its data's preprocessing; using the defaults (1 mm, 224x224)");
    }
    std::vector<Volume> raws;
    for (const auto& in : o.inputs) raws.push_back(read_nifti(in));
    std::vector<std::unique_ptr<Mask>> masks(o.inputs.size());
    for (std::size_t i = 0; i < o.masks.size(); ++i) {
      masks[i] = std::make_unique<Mask>(read_nifti_mask(o.masks[i]));
    }
    std::unique_ptr<BrainTemplate> tmpl;
    if (o.masks.empty()) tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));

    std::vector<PreparedScan> prepared;
    std::vector<SliceLayout> layouts;
    std::vector<torch::Tensor> stacks;
    std::vector<std::vector<std::uint8_t>> has_brain;
    StepTimes times;
    for (std::size_t i = 0; i < raws.size(); ++i) {
      prepared.push_back(prepare_scan(o.inputs[i], raws[i], masks[i].get(), tmpl.get(), o.prep, times));
      layouts.push_back(
          plan_slices(prepared[i].image.geom, prepared[i].brain, o.prep.slice_height, o.prep.slice_width));
      stacks.push_back(to_tensor(to_slices(prepared[i].image, layouts[i])));
      has_brain.push_back(layouts[i].has_brain);
    }
    std::size_t total = 0;
    for (const auto& h : has_brain) total += std::count(h.begin(), h.end(), 1);
    Progress progress("apply", total);
    std::size_t last = 0;
    o.harmonize.progress = [&](std::size_t done, std::size_t) {
      progress.advance(done - last);
      last = done;
    };
    const auto out = harmonize_stacks(model, stacks, has_brain, o.harmonize);
    progress.finish();
    for (std::size_t i = 0; i < raws.size(); ++i) {
      Volume on_prep = from_slices(from_tensor(out[i], layouts[i].stack_geometry()), layouts[i]);
      if (calibration) apply_quantile_map(on_prep, prepared[i].brain, *calibration);
      Volume result = resample(on_prep, raws[i].geom);
      const Mask brain = resample(prepared[i].brain, raws[i].geom);
      for (std::size_t n = 0; n < result.data.size(); ++n)
        if (!brain.data[n]) result.data[n] = 0.0f;
      write_nifti(o.outputs[i], result);
      std::string sidecar = o.outputs[i];
      sidecar.resize(sidecar.size() - (sidecar.ends_with(".gz") ? 7 : 4));
      const nlohmann::json prov = {{"Sources", {o.inputs[i]}},
                                   {"Model", o.model},
                                   {"Direction", model.header.direction},
                                   {"TrainingSteps", model.header.step},
                                   {"Sampler", o.harmonize.sampler},
                                   {"Steps", o.harmonize.steps},
                                   {"StepSpacing", o.harmonize.spacing},
                                   {"Eta", o.harmonize.eta},
                                   {"EndNoise", o.harmonize.end_noise},
                                   {"Calibration", o.calibration},
                                   {"Seed", o.global.seed},
                                   {"CommandLine", command_line()},
                                   {"Versions", versions()}};
      write_text_atomically(sidecar + ".json", prov.dump(2) + "\n");
      std::printf("%s -> %s\n", o.inputs[i].c_str(), o.outputs[i].c_str());
    }
  });
}

}  // namespace harmonize::cli
