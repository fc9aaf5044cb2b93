// harmonize apply: rewrite scans in the other scanner's contrast with a
// trained model, on each input's own grid and geometry (harmonize/scan.hpp).
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "harmonize/recipe.hpp"
#include "harmonize/scan.hpp"
#include "io/nifti.hpp"
#include "model/tensor.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {

void register_apply(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    std::string model, device = "cpu", output_dir, calibration, fusion = "median";
    std::vector<std::string> inputs, outputs, masks, orientations;
    SamplingOptions sampling;
    EndNoise end_noise;
    PreprocessOptions prep;
    bool preprocessed = false, no_recipe = false, estimate_only = false;
    int slice_stride = 1;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "apply",
      "Harmonize scans with a trained model: preprocess each as the training data was, sample every brain slice\n"
      "conditioned on it, stack the slices and write the result on the input's grid (background 0, values on the\n"
      "target contrast's [0,1] scale).");
  cmd->add_option("--model", opt->model, "model.pt (or a checkpoint) from harmonize train")->required();
  cmd->add_option("--input", opt->inputs,
                  "Raw scans (NIfTI), harmonized one at a time, each output written when its scan is done")
      ->required();
  cmd->add_option("--output", opt->outputs, "One output file per input (.nii.gz)");
  cmd->add_option("--output-dir", opt->output_dir, "Or: a folder for <input name>_harmonized.nii.gz");
  cmd->add_option("--mask", opt->masks, "Brain masks of the inputs (default: Colin27 template registration)");
  cmd->add_flag("--preprocessed", opt->preprocessed,
                "The inputs are images of `harmonize preprocess` (N4-corrected, resampled, on [0,1]), each with its "
                "--mask: sample them as they are (this is what crossval does with its test subjects)");
  add_sampling_options(cmd, opt->sampling, "--batch");
  cmd->add_option("--orientations", opt->orientations,
                  "Slice orientations to sample, their volumes fused voxel-wise (--fusion): sagittal, coronal, axial, "
                  "comma-separated (default: the recipe's, else those the model was trained on)")
      ->delimiter(',')
      ->check(CLI::IsMember({"sagittal", "coronal", "axial"}));
  cmd->add_option("--slice-stride", opt->slice_stride,
                  "Harmonize only every k-th brain slice of each orientation, the rest left 0 (quick looks and "
                  "benchmarks, e.g. the 1000-step DDPM on a few slices; evaluate --harmonized-slices-only scores them)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--fusion", opt->fusion,
                  "How several orientations' volumes become one: median (a slice gone wrong in one orientation is "
                  "outvoted) or mean (default: the recipe's, else median)")
      ->check(CLI::IsMember({"median", "mean"}));
  cmd->add_flag("--estimate-only", opt->estimate_only,
                "A model trained with --spread gaussian: write its x0 estimate instead of a draw from the spread it "
                "predicts around it (the draw carries the target scanner's noise; the estimate is noise-free)");
  auto* end_noise = add_end_noise_option(cmd, opt->end_noise);
  cmd->add_option("--calibration", opt->calibration,
                  "Quantile map applied to the harmonized intensities (calibration.json or calibration-volumes.json "
                  "of a crossval model folder, written by --calibrate / --volume-fit), or none. Without --end-noise, "
                  "the end noise the map was fitted after (recorded in the file) is used");
  cmd->add_flag(
      "--no-recipe", opt->no_recipe,
      "Ignore the recipe the model file carries (the sampler, steps, seed, end noise and, for a crossval model, the "
      "quantile map its report evaluated; used by default, each option given here overrides its part)");
  cmd->add_option("--device", opt->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  add_templates_option(cmd, opt->prep.template_dir);
  add_global_options(cmd, opt->global);

  cmd->callback([opt, end_noise, cmd] {
    apply_global_options(opt->global);
    Options& o = *opt;
    // Every option and output checked before heavy work.
    ScanOptions s;
    s.harmonize.sampling = o.sampling;
    s.harmonize.seed = o.global.seed;
    s.preprocessed = o.preprocessed;
    s.harmonize.device = device_from_name(o.device);
    if (o.outputs.empty() == o.output_dir.empty()) throw UsageError("give either --output per input or --output-dir");
    if (!o.outputs.empty() && o.outputs.size() != o.inputs.size())
      throw UsageError("--output must name one file per --input");
    if (!o.masks.empty() && o.masks.size() != o.inputs.size())
      throw UsageError("--mask must name one mask per --input");
    if (o.preprocessed && o.masks.empty()) throw UsageError("--preprocessed needs a --mask per input");
    if (o.outputs.empty())
      for (const auto& in : o.inputs) o.outputs.push_back(o.output_dir + "/" + nifti_stem(in) + "_harmonized.nii.gz");
    // Every output and its sidecar: a legal, free name, given once.
    auto sidecar_of = [](std::string out) {
      out.resize(out.size() - (out.ends_with(".gz") ? 7 : 4));
      return out + ".json";
    };
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < o.outputs.size(); ++i) {
      const std::string& out = o.outputs[i];
      if (!is_nifti_path(out)) throw OutputError(out, "output name must end in .nii or .nii.gz");
      check_name_lengths(sidecar_of(out));
      check_name_lengths(out);
      const std::string key = std::filesystem::weakly_canonical(sidecar_of(out)).string();
      if (const auto [it, fresh] = seen.emplace(key, i); !fresh)
        throw UsageError("inputs " + o.inputs[it->second] + " and " + o.inputs[i] + " would both be written to " + out +
                         " (and its sidecar " + sidecar_of(out) + "): give --output per input");
    }
    for (const auto& out : o.outputs) {
      check_output_path(out, o.global.force);
      check_output_path(sidecar_of(out), o.global.force);
    }
    if (!o.calibration.empty() && o.calibration != "none") {
      s.correction.map = read_quantile_map(o.calibration);
      // The map holds for the outputs it was fitted on: with the same end noise.
      if (end_noise->count() == 0)
        if (const auto sd = read_calibration_end_noise(o.calibration)) o.end_noise = EndNoise::of(*sd);
    }
    const LoadedModel model = load_model(o.model, s.harmonize.device);
    log::info("model " + o.model + ": " + model.header.direction + ", step " + std::to_string(model.header.step));
    // The model's recipe fills every option not given on the command line.
    std::vector<std::string> overrides;
    const bool use_recipe = !model.header.recipe.empty() && !o.no_recipe;
    if (use_recipe) {
      const Recipe recipe = recipe_from_json(model.header.recipe, o.model);
      auto take = [&](const char* name, auto& value, const auto& from_recipe) {
        if (cmd->get_option(name)->count() > 0)
          overrides.push_back(name);
        else
          value = from_recipe;
      };
      SamplingOptions& sm = s.harmonize.sampling;
      take("--sampler", sm.sampler, recipe.sampling.sampler);
      take("--steps", sm.steps, recipe.sampling.steps);
      take("--eta", sm.eta, recipe.sampling.eta);
      take("--step-spacing", sm.spacing, recipe.sampling.spacing);
      // A recipe's timesteps give way to --steps or --step-spacing given here.
      if (cmd->get_option("--steps")->count() == 0 && cmd->get_option("--step-spacing")->count() == 0)
        take("--timesteps", sm.timesteps, recipe.sampling.timesteps);
      if (!sm.timesteps.empty()) sm.steps = static_cast<int>(sm.timesteps.size());
      take("--batch", sm.batch, recipe.sampling.batch);
      take("--start-noise", sm.start_noise, recipe.sampling.start_noise);
      take("--seed", s.harmonize.seed, recipe.seed);
      take("--orientations", o.orientations, recipe.orientations);
      take("--fusion", o.fusion, recipe.fusion);
      if (!o.calibration.empty())
        overrides.push_back("--calibration");
      else
        s.correction.map = recipe.map;
      if (end_noise->count() > 0)
        overrides.push_back("--end-noise");
      else if (o.calibration.empty() || !s.correction.map)
        o.end_noise = EndNoise::of(recipe.end_noise_sd);
      log::info("model recipe (" + recipe.made_by + "): " + describe(recipe, model.header.objective) +
                (overrides.empty() ? std::string() : "; overridden here: " + nlohmann::json(overrides).dump()));
    }
    s.harmonize.sampling.validate(model.header.diffusion.steps);
    if (o.orientations.empty()) o.orientations = trained_orientations(model.header);
    s.harmonize.views = parse_views(o.orientations);
    s.harmonize.fusion = parse_fusion(o.fusion);
    s.harmonize.slice_stride = o.slice_stride;
    s.harmonize.draw_spread = !o.estimate_only;
    s.correction.end_noise_sd = o.end_noise.resolve(model.header.target_noise_sd, o.model);
    s.prep = preprocessing_of(model.header, o.prep, o.model);

    // Scan i as a ScanInput: read when its turn comes, so that memory holds one scan at a time.
    auto input = [&](std::size_t i) {
      ScanInput in{o.inputs[i], read_nifti(o.inputs[i]), std::nullopt};
      if (!o.masks.empty()) {
        in.brain = read_nifti_mask(o.masks[i]);
        if (const std::string why = grid_mismatch(in.brain->geom, in.image.geom); !why.empty())
          throw InputError(o.masks[i], "the brain mask is not on the grid of " + o.inputs[i] + " (" + why + ")");
      }
      return in;
    };
    // Every input read once before any work: a bad file stops the run before the first output.
    for (std::size_t i = 0; i < o.inputs.size(); ++i) input(i);
    std::unique_ptr<BrainTemplate> tmpl;
    if (o.masks.empty()) tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));

    std::unique_ptr<Progress> progress;
    std::size_t last = 0;
    s.harmonize.progress = [&](std::size_t done, std::size_t all) {
      if (!progress) progress = std::make_unique<Progress>("apply", all);
      progress->advance(done - last);
      last = done;
    };
    // Each output written as soon as its scan is done.
    sample_scans(model, o.inputs.size(), input, tmpl.get(), s, [&](std::size_t i, SampledScan&& sampled) {
      const Volume output = finish_scan(sampled, s.correction, output_noise_seed(s.harmonize.seed, sampled.key));
      write_nifti(o.outputs[i], output);
      const nlohmann::json prov = {{"Sources", {o.inputs[i]}},
                                   {"Model", o.model},
                                   {"Direction", model.header.direction},
                                   {"TrainingSteps", model.header.step},
                                   {"Sampling", s.harmonize.sampling},
                                   {"Orientations", o.orientations},
                                   {"Fusion", o.fusion},
                                   {"Spread", model.header.diffusion.spread == "none" ? std::string("none")
                                              : o.estimate_only                       ? std::string("estimate only")
                                                                                      : std::string("drawn")},
                                   {"SliceStride", o.slice_stride},
                                   {"Preprocessed", o.preprocessed},
                                   {"EndNoise", s.correction.end_noise_sd},
                                   {"Calibration", o.calibration},
                                   {"QuantileMap", s.correction.map.has_value()},
                                   {"Recipe", use_recipe ? model.header.recipe : nlohmann::json(nullptr)},
                                   {"RecipeOverrides", overrides},
                                   {"Seed", s.harmonize.seed},  // the recipe's unless --seed was given
                                   {"CommandLine", command_line()},
                                   {"Versions", versions()}};
      write_text_atomically(sidecar_of(o.outputs[i]), prov.dump(2) + "\n");
      std::printf("%s -> %s\n", o.inputs[i].c_str(), o.outputs[i].c_str());
    });
    if (progress) progress->finish();
  });
}

}  // namespace harmonize::cli
