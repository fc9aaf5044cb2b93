#include "harmonize/scan.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "model/tensor.hpp"
#include "preprocess/crop.hpp"
#include "preprocess/resample.hpp"
#include "preprocess/slicing.hpp"

namespace harmonize {

PreprocessOptions preprocessing_of(const ModelHeader& header, PreprocessOptions p, const std::string& model_path) {
  const auto it = header.training.find("preprocessing");
  if (it == header.training.end() || !it->is_object() || it->empty()) {
    log::warn(model_path + " does not record its data's preprocessing; using the defaults (" +
              std::to_string(p.spacing_mm).substr(0, 4) + " mm, " + std::to_string(p.slice_height) + "x" +
              std::to_string(p.slice_width) + ")");
    return p;
  }
  try {
    const nlohmann::json& j = *it;
    p.spacing_mm = j.value("spacing_mm", p.spacing_mm);
    p.percentile_lo = j.value("percentile_lo", p.percentile_lo);
    p.percentile_hi = j.value("percentile_hi", p.percentile_hi);
    p.slice_height = j.value("slice_height", p.slice_height);
    p.slice_width = j.value("slice_width", p.slice_width);
    p.n4 = j.value("n4", p.n4);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(model_path, std::string("invalid preprocessing record: ") + e.what());
  }
  return p;
}

std::uint64_t output_noise_seed(std::uint64_t seed, std::size_t i) { return derive_seed(seed, 2 * std::uint64_t(i)); }

std::vector<SampledScan> sample_scans(const LoadedModel& model, const std::vector<ScanInput>& inputs,
                                      const BrainTemplate* tmpl, const ScanOptions& o) {
  // 1. The image to sample and its brain, per scan.
  std::vector<PreparedScan> prepared;
  std::vector<SliceLayout> layouts;
  std::vector<torch::Tensor> stacks;
  std::vector<std::vector<std::uint8_t>> has_brain;
  std::vector<torch::Tensor> brains;  // the brain masks as slice stacks, for other orientations
  const bool sagittal_only = o.harmonize.views == std::vector<View>{View::Sagittal};
  StepTimes times;
  for (const auto& in : inputs) {
    if (o.preprocessed) {
      if (!in.brain) throw InputError(in.name, "a preprocessed image needs its brain mask");
      require_same_grid(in.image.geom, in.brain->geom, in.name + ": image and brain mask");
      PreparedScan p;
      p.image = in.image;
      p.brain = *in.brain;
      p.input_brain = *in.brain;
      p.input_grid = in.image.geom;
      prepared.push_back(std::move(p));
    } else {
      prepared.push_back(prepare_scan(in.name, in.image, in.brain ? &*in.brain : nullptr, tmpl, o.prep, times));
    }
    const PreparedScan& p = prepared.back();
    layouts.push_back(plan_slices(p.image.geom, p.brain, o.prep.slice_height, o.prep.slice_width));
    stacks.push_back(to_tensor(to_slices(p.image, layouts.back())));
    has_brain.push_back(layouts.back().has_brain);
    if (!sagittal_only) {
      Volume brain(p.brain.geom, 0.0f);
      for (std::size_t n = 0; n < brain.data.size(); ++n) brain.data[n] = p.brain.data[n] ? 1.0f : 0.0f;
      brains.push_back(to_tensor(to_slices(brain, layouts.back())));
    }
  }
  // 2. Sampling, slices batched across scans (and fused across orientations).
  const auto sampled = sagittal_only ? harmonize_stacks(model, stacks, has_brain, o.harmonize)
                                     : harmonize_blocks(model, stacks, brains, o.harmonize);
  std::vector<SampledScan> out;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    out.push_back({from_slices(from_tensor(sampled[i], layouts[i].stack_geometry()), layouts[i]),
                   std::move(prepared[i])});
  return out;
}

Volume finish_scan(const SampledScan& s, const Correction& correction, std::uint64_t noise_seed) {
  Volume v = s.volume;
  finish_output(v, s.prepared.brain, correction, noise_seed);
  if (!same_grid(v.geom, s.prepared.input_grid)) {
    // Onto the part of the input's grid that preprocessing worked on, then
    // into the whole (0 outside it).
    const Box& box = s.prepared.input_box;
    const bool whole = box.empty() || box.voxels() == s.prepared.input_grid.voxels();
    v = resample(v, whole ? s.prepared.input_grid : sub_grid(s.prepared.input_grid, box));
    // The brain on the input's grid, as preprocessing found it (given or by the template).
    const Mask brain = whole ? s.prepared.input_brain : crop(s.prepared.input_brain, box);
    for (std::size_t n = 0; n < v.data.size(); ++n)
      if (!brain.data[n]) v.data[n] = 0.0f;
    if (!whole) v = paste(v, s.prepared.input_grid, box);
  }
  v.geom = s.prepared.input_grid;  // exactly the input's, with its NIfTI header's spatial fields
  return v;
}

std::vector<Volume> harmonize_scans(const LoadedModel& model, const std::vector<ScanInput>& inputs,
                                    const BrainTemplate* tmpl, const ScanOptions& o) {
  const auto sampled = sample_scans(model, inputs, tmpl, o);
  std::vector<Volume> out;
  for (std::size_t i = 0; i < sampled.size(); ++i)
    out.push_back(finish_scan(sampled[i], o.correction, output_noise_seed(o.harmonize.seed, i)));
  return out;
}

}  // namespace harmonize
