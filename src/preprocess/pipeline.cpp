#include "preprocess/pipeline.hpp"

#include <chrono>
#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/nifti.hpp"
#include "preprocess/brain_mask.hpp"
#include "preprocess/crop.hpp"
#include "preprocess/n4.hpp"
#include "preprocess/registration.hpp"
#include "preprocess/resample.hpp"

namespace harmonize {
namespace {

class StepTimer {
 public:
  StepTimer(StepTimes& times, std::string step)
      : times_(times), step_(std::move(step)), start_(std::chrono::steady_clock::now()) {}
  ~StepTimer() { times_[step_] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  StepTimes& times_;
  std::string step_;
  std::chrono::steady_clock::time_point start_;
};

std::size_t count(const Mask& m) {
  std::size_t n = 0;
  for (auto v : m.data) n += v != 0;
  return n;
}

}  // namespace

nlohmann::json to_json(const PreprocessOptions& o) {
  return {{"spacing_mm", o.spacing_mm},     {"percentile_lo", o.percentile_lo}, {"percentile_hi", o.percentile_hi},
          {"slice_height", o.slice_height}, {"slice_width", o.slice_width},     {"n4", o.n4},
          {"deformable", o.deformable},     {"align_centres", o.align_centres}, {"template_dir", o.template_dir}};
}

void from_json(const nlohmann::json& j, PreprocessOptions& o) {
  try {
    o.spacing_mm = j.at("spacing_mm").get<double>();
    o.percentile_lo = j.at("percentile_lo").get<double>();
    o.percentile_hi = j.at("percentile_hi").get<double>();
    o.slice_height = j.at("slice_height").get<int>();
    o.slice_width = j.at("slice_width").get<int>();
    o.n4 = j.at("n4").get<bool>();
    o.deformable = j.at("deformable").get<bool>();
    o.align_centres = j.at("align_centres").get<bool>();
    o.template_dir = j.at("template_dir").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("preprocessing options: ") + e.what());
  }
}

BrainTemplate BrainTemplate::load(const std::string& dir) {
  BrainTemplate t;
  t.head = read_nifti(dir + "/ch2.nii.gz");
  // The brain mask: Colin27's finer extraction (ch2better, 0.5 mm) brought onto
  // ch2's grid when present, else ch2bet. The two agree only to Dice 0.95
  // (bench/preprocess_quality prints it), and ch2better keeps the CSF around
  // the brain that a tissue segmentation needs.
  const std::string better = dir + "/ch2better.nii.gz", bet = dir + "/ch2bet.nii.gz";
  const bool use_better = std::filesystem::exists(better);
  const Volume brain = read_nifti(use_better ? better : bet);
  Mask m(brain.geom, 0);
  for (std::size_t n = 0; n < brain.data.size(); ++n) m.data[n] = brain.data[n] > 0;
  t.brain = resample(m, t.head.geom);
  return t;
}

namespace {
// The head's box, widened by kCropMarginMm, when it is at most half the field
// of view (a scan framed around the head, as the simulator's are, is used
// whole); else an empty box.
constexpr double kCropMarginMm = 10.0;

Box work_box(const Volume& raw, const Mask* given_mask) {
  Box b = head_box(raw);
  if (b.empty()) return Box{};
  if (given_mask) {
    const Box m = bounding_box(*given_mask);
    if (m.empty()) return Box{};  // the empty mask is refused below, on the whole grid
    for (int a = 0; a < 3; ++a) b.lo[a] = std::min(b.lo[a], m.lo[a]), b.hi[a] = std::max(b.hi[a], m.hi[a]);
  }
  b = grow(b, raw.geom, kCropMarginMm);
  return 2 * b.voxels() <= raw.geom.voxels() ? b : Box{};
}
}  // namespace

PreparedScan prepare_scan(const std::string& name, const Volume& full_raw, const Mask* full_mask,
                          const BrainTemplate* tmpl, const PreprocessOptions& o, StepTimes& times) {
  PreparedScan p;
  p.input_grid = full_raw.geom;
  p.input_box = Box{{0, 0, 0}, full_raw.geom.size};
  if (full_mask) {
    const std::string why = grid_mismatch(full_mask->geom, full_raw.geom);
    if (!why.empty()) throw InputError(name, "the brain mask is not on this scan's grid (" + why + ")");
  }
  // Work inside the head's box when the field of view is much larger.
  const Box box = work_box(full_raw, full_mask);
  if (!box.empty()) p.input_box = box;
  Volume cropped_raw;
  Mask cropped_mask;
  if (!box.empty()) {
    log::debug(name + ": working on the head's box " + box.describe() + " of " + full_raw.geom.describe());
    cropped_raw = crop(full_raw, box);
    if (full_mask) cropped_mask = crop(*full_mask, box);
  }
  const Volume& raw = box.empty() ? full_raw : cropped_raw;
  const Mask* given_mask = !full_mask ? nullptr : box.empty() ? full_mask : &cropped_mask;
  Mask brain;
  {
    StepTimer t(times, "brain_mask");
    if (given_mask) {
      brain = *given_mask;
    } else {
      if (!tmpl) throw Error("no brain mask and no template to compute one");
      brain = template_brain_mask(raw, tmpl->head, tmpl->brain);
    }
    if (count(brain) == 0) throw InputError(name, "the brain mask is empty");
    p.input_brain = box.empty() ? brain : paste(brain, full_raw.geom, box);
  }
  // A scan without contrast inside the brain cannot be normalised; say so early.
  {
    float lo = 0, hi = 0;
    bool first = true;
    for (std::size_t n = 0; n < raw.data.size(); ++n)
      if (brain.data[n]) {
        if (first) lo = hi = raw.data[n], first = false;
        lo = std::min(lo, raw.data[n]), hi = std::max(hi, raw.data[n]);
      }
    if (!(hi > lo)) throw InputError(name, "is constant inside the brain: nothing to preprocess");
  }
  Volume corrected;
  {
    StepTimer t(times, "n4");
    corrected = o.n4 ? n4_correct(raw, brain) : raw;
  }
  {
    StepTimer t(times, "resample");
    corrected = resample_isotropic(corrected, o.spacing_mm);
    p.brain = resample_isotropic(brain, o.spacing_mm);
  }
  {
    StepTimer t(times, "normalise");
    try {
      p.window = brain_window(corrected, p.brain, o.percentile_lo, o.percentile_hi);
    } catch (const Error& e) {
      throw InputError(name, e.what());
    }
    p.image = normalise(corrected, p.brain, p.window);
  }
  return p;
}

PreparedPair prepare_pair(const std::string& source_name, const Volume& source_raw, const Mask* source_mask,
                          const std::string& target_name, const Volume& target_raw, const Mask* target_mask,
                          const BrainTemplate* tmpl, const PreprocessOptions& o, StepTimes& times) {
  PreparedPair pair;
  pair.target = prepare_scan(target_name, target_raw, target_mask, tmpl, o, times);
  pair.source = prepare_scan(source_name, source_raw, source_mask, tmpl, o, times);
  {
    StepTimer t(times, "register");
    RegistrationOptions reg;
    reg.deformable = o.deformable;
    reg.align_centres = o.align_centres;
    try {
      pair.source_to_target = register_images(pair.target.image, pair.source.image, reg);
    } catch (const Error& e) {
      throw InputError(source_name, std::string("cannot be registered to ") + target_name + ": " + e.what());
    }
  }
  {
    StepTimer t(times, "warp");
    pair.source_on_target = warp(pair.source.image, pair.source_to_target, pair.target.image.geom);
    const Mask source_brain = warp(pair.source.brain, pair.source_to_target, pair.target.image.geom);
    std::size_t both = 0, target_brain = 0;
    for (std::size_t n = 0; n < source_brain.data.size(); ++n) {
      target_brain += pair.target.brain.data[n] != 0;
      both += pair.target.brain.data[n] && source_brain.data[n];
      if (!pair.target.brain.data[n]) pair.source_on_target.data[n] = 0.0f;
    }
    const double overlap = target_brain ? double(both) / double(target_brain) : 0.0;
    log::debug("pair overlap after registration: " + std::to_string(overlap));
    if (overlap < 0.5)
      throw InputError(source_name, "does not overlap " + target_name + " after registration (" +
                                        std::to_string(int(overlap * 100)) + " % of the brain): not a pair?");
  }
  {
    StepTimer t(times, "slice");
    pair.layout = plan_slices(pair.target.image.geom, pair.target.brain, o.slice_height, o.slice_width);
    pair.target_slices = to_slices(pair.target.image, pair.layout);
    pair.source_slices = to_slices(pair.source_on_target, pair.layout);
  }
  return pair;
}

}  // namespace harmonize
