#include "harmonize/scan.hpp"

#include "core/content_hash.hpp"
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

std::uint64_t scan_key(const Volume& image) { return content_hash(image); }

std::uint64_t scan_sampling_seed(std::uint64_t seed, std::uint64_t key) {
  return derive_seed(derive_seed(seed, 0x73616d706c65ULL), key);  // "sample"
}

std::uint64_t output_noise_seed(std::uint64_t seed, std::uint64_t key) { return derive_seed(seed, 2 * key); }

namespace {

// Steps 1 and 2 for one scan, its slices sampled with o.harmonize.seed.
SampledScan sample_one(const LoadedModel& model, const ScanInput& in, const BrainTemplate* tmpl, const ScanOptions& o) {
  // 1. The image to sample and its brain.
  PreparedScan p;
  if (o.preprocessed) {
    if (!in.brain) throw InputError(in.name, "a preprocessed image needs its brain mask");
    require_same_grid(in.image.geom, in.brain->geom, in.name + ": image and brain mask");
    p.image = in.image;
    p.brain = *in.brain;
    p.input_brain = *in.brain;
    p.input_grid = in.image.geom;
  } else {
    StepTimes times;
    p = prepare_scan(in.name, in.image, in.brain ? &*in.brain : nullptr, tmpl, o.prep, times);
  }
  const SliceLayout layout = plan_slices(p.image.geom, p.brain, o.prep.slice_height, o.prep.slice_width);
  const torch::Tensor stack = to_tensor(to_slices(p.image, layout));
  // 2. Sampling (and fusing across orientations).
  torch::Tensor sampled;
  if (o.harmonize.views == std::vector<View>{View::Sagittal}) {
    sampled = harmonize_stacks(model, {stack}, {layout.has_brain}, o.harmonize)[0];
  } else {
    Volume brain(p.brain.geom, 0.0f);
    for (std::size_t n = 0; n < brain.data.size(); ++n) brain.data[n] = p.brain.data[n] ? 1.0f : 0.0f;
    sampled = harmonize_blocks(model, {stack}, {to_tensor(to_slices(brain, layout))}, o.harmonize)[0];
  }
  return {from_slices(from_tensor(sampled, layout.stack_geometry()), layout), std::move(p), 0};
}

}  // namespace

void sample_scans(const LoadedModel& model, std::size_t count, const std::function<ScanInput(std::size_t)>& input,
                  const BrainTemplate* tmpl, const ScanOptions& o, const ScanSink& each) {
  constexpr std::size_t unit = 1000;  // progress per scan
  for (std::size_t i = 0; i < count; ++i) {
    const ScanInput in = input(i);
    const std::uint64_t key = scan_key(in.image);
    ScanOptions one = o;
    one.harmonize.seed = scan_sampling_seed(o.harmonize.seed, key);
    if (o.harmonize.progress)
      one.harmonize.progress = [&, i](std::size_t done, std::size_t all) {
        o.harmonize.progress(i * unit + (all ? done * unit / all : unit), count * unit);
      };
    SampledScan sampled = sample_one(model, in, tmpl, one);
    sampled.key = key;
    each(i, std::move(sampled));
  }
}

std::vector<SampledScan> sample_scans(const LoadedModel& model, const std::vector<ScanInput>& inputs,
                                      const BrainTemplate* tmpl, const ScanOptions& o) {
  std::vector<SampledScan> out;
  sample_scans(
      model, inputs.size(), [&](std::size_t i) { return inputs[i]; }, tmpl, o,
      [&](std::size_t, SampledScan&& s) { out.push_back(std::move(s)); });
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

}  // namespace harmonize
