#include "train/slice_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "bids/layout.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/rng.hpp"
#include "core/volfile.hpp"
#include "model/view_slices.hpp"

namespace fs = std::filesystem;

namespace harmonize {

Direction parse_direction(const std::string& name) {
  const auto at = name.find("-to-");
  if (at == std::string::npos || at == 0 || at + 4 >= name.size())
    throw UsageError("direction '" + name + "' is not of the form A-to-B (e.g. 1p5T-to-3T, 3T-to-1p5T)");
  return {name, "ses-" + name.substr(0, at), "ses-" + name.substr(at + 4)};
}

std::pair<std::vector<std::string>, std::vector<std::string>> split_subjects(std::vector<std::string> ids,
                                                                             double validation_fraction,
                                                                             std::uint64_t seed) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
    throw UsageError("validation fraction must be in [0, 1), got " + std::to_string(validation_fraction));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto n = static_cast<std::int64_t>(ids.size());
  std::int64_t n_val = std::llround(validation_fraction * double(n));
  if (validation_fraction > 0 && n >= 2) n_val = std::max<std::int64_t>(n_val, 1);
  n_val = std::min<std::int64_t>(n_val, std::max<std::int64_t>(n - 1, 0));
  Rng rng(derive_seed(seed, 0x5b17));  // Fisher-Yates
  for (std::int64_t i = n - 1; i > 0; --i) std::swap(ids[i], ids[rng.below(std::uint64_t(i + 1))]);
  std::vector<std::string> val(ids.begin(), ids.begin() + n_val), train(ids.begin() + n_val, ids.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {train, val};
}

SliceSet::SliceSet(std::vector<std::string> subjects, torch::Tensor source, torch::Tensor target)
    : subjects_(std::move(subjects)), source_(std::move(source)), target_(std::move(target)) {}

void SliceSet::set_blocks(std::vector<torch::Tensor> source_blocks, std::vector<torch::Tensor> target_blocks,
                          std::vector<View> views, int patch, int context) {
  if (source_blocks.size() != target_blocks.size() || views.empty() || patch < 0 || context < 0)
    throw Error("SliceSet::set_blocks: inconsistent blocks or views");
  source_blocks_ = std::move(source_blocks);
  target_blocks_ = std::move(target_blocks);
  views_ = std::move(views);
  patch_ = patch;
  context_ = context;
  brain_slices_.assign(views_.size(), {});
  for (std::size_t b = 0; b < source_blocks_.size(); ++b) {
    const torch::Tensor brain = (source_blocks_[b] != 0).logical_or(target_blocks_[b] != 0);
    for (std::size_t v = 0; v < views_.size(); ++v) {
      const auto flags = view_has_brain(brain, views_[v]);
      for (std::size_t k = 0; k < flags.size(); ++k)
        if (flags[k]) brain_slices_[v].emplace_back(int64_t(b), int64_t(k));
    }
  }
}

int64_t patch_start(int64_t c, int64_t n, int64_t patch) {
  if (n < patch) return -(patch - n) / 2;
  return std::clamp<int64_t>(c - patch / 2, 0, n - patch);
}

torch::Tensor crop_patch(const torch::Tensor& slice, int64_t top, int64_t left, int64_t patch) {
  std::vector<int64_t> shape = slice.sizes().vec();
  shape[shape.size() - 2] = shape.back() = patch;
  torch::Tensor out = torch::zeros(shape, slice.options());
  const int64_t r0 = std::max<int64_t>(top, 0), r1 = std::min<int64_t>(top + patch, slice.size(-2));
  const int64_t c0 = std::max<int64_t>(left, 0), c1 = std::min<int64_t>(left + patch, slice.size(-1));
  if (r1 > r0 && c1 > c0)
    out.narrow(-2, r0 - top, r1 - r0)
        .narrow(-1, c0 - left, c1 - c0)
        .copy_(slice.narrow(-2, r0, r1 - r0).narrow(-1, c0, c1 - c0));
  return out;
}

SliceBatch SliceSet::sample(int64_t batch, torch::Generator& gen, bool flip) const {
  if (empty()) throw Error("cannot draw a batch from an empty set of slices");
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  SliceBatch b;
  if (source_blocks_.empty()) {
    const auto idx = torch::randint(0, size(), {batch}, gen, long_options);
    b = {source_.index_select(0, idx), target_.index_select(0, idx)};
  } else {
    const std::size_t v =
        views_.size() == 1
            ? 0
            : std::size_t(torch::randint(0, int64_t(views_.size()), {1}, gen, long_options).item<int64_t>());
    const auto& pool = brain_slices_[v];
    if (pool.empty()) throw Error("no " + view_name(views_[v]) + " slice with brain to draw from");
    const auto idx = torch::randint(0, int64_t(pool.size()), {batch}, gen, long_options);
    std::vector<torch::Tensor> src, tgt;
    for (int64_t i = 0; i < batch; ++i) {
      const auto [block, k] = pool[std::size_t(idx[i].item<int64_t>())];
      const torch::Tensor source_slices = view_slices(source_blocks_[std::size_t(block)], views_[v]);
      torch::Tensor s = slab(source_slices, k, context_);  // [2 context + 1, h, w]
      torch::Tensor t = view_slices(target_blocks_[std::size_t(block)], views_[v])[k].unsqueeze(0);
      if (patch_ > 0) {
        const torch::Tensor brain = (source_slices[k] != 0).logical_or(t[0] != 0).nonzero();  // [M, 2], M > 0
        const int64_t pick = torch::randint(0, brain.size(0), {1}, gen, long_options).item<int64_t>();
        const int64_t top = patch_start(brain[pick][0].item<int64_t>(), t.size(1), patch_);
        const int64_t left = patch_start(brain[pick][1].item<int64_t>(), t.size(2), patch_);
        s = crop_patch(s, top, left, patch_);
        t = crop_patch(t, top, left, patch_);
      }
      src.push_back(s);
      tgt.push_back(t);
    }
    b = {torch::stack(src), torch::stack(tgt)};
  }
  if (flip) {
    const auto mirror = (torch::rand({batch}, gen) < 0.5).view({batch, 1, 1, 1});
    b.source = torch::where(mirror, b.source.flip({3}), b.source);
    b.target = torch::where(mirror, b.target.flip({3}), b.target);
  }
  return b;
}

namespace {

struct Stack {
  torch::Tensor slices;  // [n, H, W]
  std::vector<int> has_brain;
};

Stack read_stack(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path, "slice stack missing");
  nlohmann::json meta;
  const Volume v = read_hvol<float>(path, &meta);
  const auto& s = v.size();
  Stack st;
  st.slices = torch::from_blob(const_cast<float*>(v.data.data()), {int64_t(s[2]), int64_t(s[1]), int64_t(s[0])},
                               torch::kFloat32)
                  .clone();
  try {
    st.has_brain = meta.at("layout").at("has_brain").get<std::vector<int>>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(path, "no layout.has_brain list in its header (not a slice stack from harmonize preprocess)");
  }
  if (st.has_brain.size() != s[2])
    throw InputError(path, "layout.has_brain has " + std::to_string(st.has_brain.size()) + " entries for " +
                               std::to_string(s[2]) + " slices");
  return st;
}

std::string shape_of(const torch::Tensor& t) {
  std::string r;
  for (auto d : t.sizes()) r += (r.empty() ? "" : "x") + std::to_string(d);
  return r;
}

}  // namespace

namespace {

nlohmann::json read_dataset_index(const std::string& data_dir) {
  const std::string index = data_dir + "/dataset.json";
  if (!fs::exists(index))
    throw InputError(index, "missing (is " + data_dir + " a folder made by harmonize preprocess?)");
  nlohmann::json ds;
  try {
    ds = nlohmann::json::parse(read_text_file(index));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(index, std::string("invalid JSON: ") + e.what());
  }
  if (!ds.is_object() || !ds.contains("subjects") || !ds["subjects"].is_object() || ds["subjects"].empty())
    throw InputError(index, "no \"subjects\" (a preprocessed single scan cannot be used for training)");
  return ds;
}

// The dataset.json keys ("source"/"target") of the condition and the target of a direction.
std::pair<std::string, std::string> direction_keys(const nlohmann::json& ds, const Direction& d,
                                                   const std::string& index) {
  const std::string src_ses = ds.value("source_session", "ses-1p5T"), tgt_ses = ds.value("target_session", "ses-3T");
  if (d.condition_session == src_ses && d.target_session == tgt_ses) return {"source", "target"};
  if (d.condition_session == tgt_ses && d.target_session == src_ses) return {"target", "source"};
  throw UsageError("direction " + d.name + " does not fit " + index + " (sessions " + src_ses + " and " + tgt_ses +
                   ")");
}

std::string subject_entry(const nlohmann::json& ds, const std::string& id, const std::string& key,
                          const std::string& index) {
  try {
    return ds.at("subjects").at(id).at("slices").at(key).get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(index, "subject " + id + " has no slices." + key + " entry");
  }
}

}  // namespace

SubjectSlicePaths subject_slice_paths(const std::string& data_dir, const std::string& direction,
                                      const std::string& subject) {
  const nlohmann::json ds = read_dataset_index(data_dir);
  const std::string index = data_dir + "/dataset.json";
  if (!ds["subjects"].contains(subject)) throw UsageError("subject '" + subject + "' is not in " + index);
  const auto [cond_key, target_key] = direction_keys(ds, parse_direction(direction), index);
  return {bids::subject_path(data_dir, subject, subject_entry(ds, subject, cond_key, index)),
          bids::subject_path(data_dir, subject, subject_entry(ds, subject, target_key, index))};
}

PairedSlices load_paired_slices(const std::string& data_dir, const SliceDatasetOptions& o) {
  const std::string index = data_dir + "/dataset.json";
  const nlohmann::json ds = read_dataset_index(data_dir);
  PairedSlices out;
  out.direction = parse_direction(o.direction);
  out.preprocessing = ds.value("parameters", nlohmann::json::object());
  std::string cond_key, target_key;
  std::tie(cond_key, target_key) = direction_keys(ds, out.direction, index);

  std::vector<std::string> ids;
  for (const auto& [id, _] : ds["subjects"].items()) ids.push_back(id);
  const std::set<std::string> known(ids.begin(), ids.end());
  for (const auto* list : {&o.training_subjects, &o.validation_subjects})
    for (const auto& id : *list)
      if (!known.count(id)) throw UsageError("subject '" + id + "' is not in " + index);
  std::vector<std::string> train, val;
  if (o.training_subjects.empty() && o.validation_subjects.empty()) {
    std::tie(train, val) = split_subjects(ids, o.validation_fraction, o.seed);
  } else {
    train = o.training_subjects, val = o.validation_subjects;
    const std::set<std::string> t(train.begin(), train.end()), v(val.begin(), val.end());
    for (const auto& id : ids) {
      if (o.training_subjects.empty() && !v.count(id)) train.push_back(id);
      if (o.validation_subjects.empty() && !t.count(id)) val.push_back(id);
    }
    for (const auto& id : train)
      if (v.count(id)) throw UsageError("subject " + id + " is in both the training and the validation set");
    std::sort(train.begin(), train.end());
    std::sort(val.begin(), val.end());
  }
  if (train.empty()) throw UsageError(index + ": no training subjects");

  // Examples other than whole sagittal slices come from each subject's block.
  const bool blocks = o.patch > 0 || o.context > 0 || o.views != std::vector<View>{View::Sagittal};
  auto load_set = [&](const std::vector<std::string>& subjects) {
    std::vector<torch::Tensor> srcs, tgts, src_blocks, tgt_blocks;
    for (const auto& id : subjects) {
      // dataset.json records each stack relative to the subject's folder (bids::slices_relative).
      const std::string cpath = bids::subject_path(data_dir, id, subject_entry(ds, id, cond_key, index));
      const std::string tpath = bids::subject_path(data_dir, id, subject_entry(ds, id, target_key, index));
      const Stack c = read_stack(cpath), t = read_stack(tpath);
      if (c.slices.sizes() != t.slices.sizes())
        throw InputError(tpath, "stack of shape " + shape_of(t.slices) + " but " + cpath + " has shape " +
                                    shape_of(c.slices) + " (the two stacks of a subject must share their grid)");
      if (out.height == 0) out.height = c.slices.size(1), out.width = c.slices.size(2);
      if (c.slices.size(1) != out.height || c.slices.size(2) != out.width)
        throw InputError(cpath, "slices of " + std::to_string(c.slices.size(1)) + "x" +
                                    std::to_string(c.slices.size(2)) + " but other subjects have " +
                                    std::to_string(out.height) + "x" + std::to_string(out.width));
      std::vector<int64_t> keep;
      for (std::size_t k = 0; k < c.has_brain.size(); ++k)
        if (c.has_brain[k] || t.has_brain[k]) keep.push_back(int64_t(k));
      out.skipped_slices += int64_t(c.has_brain.size() - keep.size());
      if (keep.empty()) continue;
      if (blocks) {
        // Whole coronal and axial slices run along left-right: a window of
        // the slices' width centred on the brain gives every subject one size.
        // Patches need no window.
        const int64_t n = c.slices.size(0);
        const int64_t length = o.patch > 0 ? n : out.width;
        const int64_t start = o.patch > 0 ? 0 : centred_start(keep.front(), keep.back(), length);
        src_blocks.push_back(lr_window(c.slices, start, length));
        tgt_blocks.push_back(lr_window(t.slices, start, length));
      }
      const auto idx = torch::tensor(keep, torch::kLong);
      srcs.push_back(c.slices.index_select(0, idx).unsqueeze(1));
      tgts.push_back(t.slices.index_select(0, idx).unsqueeze(1));
    }
    if (srcs.empty()) return SliceSet(subjects, torch::Tensor(), torch::Tensor());
    SliceSet set(subjects, torch::cat(srcs), torch::cat(tgts));
    if (blocks) set.set_blocks(std::move(src_blocks), std::move(tgt_blocks), o.views, o.patch, o.context);
    return set;
  };
  out.training = load_set(train);
  out.validation = load_set(val);
  if (out.training.empty()) throw InputError(index, "the training subjects have no slice with brain");
  return out;
}

}  // namespace harmonize
