// Training: paired-slice data, checkpoints, and exact resumption.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "core/file_size_limit.hpp"
#include "core/files.hpp"
#include "core/volfile.hpp"
#include "harmonize/sample.hpp"
#include "model/checkpoint.hpp"
#include "model/conditional.hpp"
#include "model/noise.hpp"
#include "model/view_slices.hpp"
#include "synthetic_data.hpp"
#include "train/slice_dataset.hpp"
#include "train/trainer.hpp"

using namespace harmonize;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("harmonize_train_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir.string();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Every tensor of two modules equal within atol.
void expect_same_weights(const UNet& a, const UNet& b, double atol = 0.0) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) {
    const double diff = (p.value() - pb[p.key()]).abs().max().item<double>();
    EXPECT_LE(diff, atol) << p.key();
  }
}

}  // namespace

// ---------------------------------------------------------------- data

TEST(SliceDataset, SplitsBySubjectDeterministically) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(test::subject_id(i));
  const auto [train, val] = split_subjects(ids, 0.3, 7);
  EXPECT_EQ(val.size(), 3u);
  EXPECT_EQ(train.size(), 7u);
  std::set<std::string> all(train.begin(), train.end());
  for (const auto& v : val) EXPECT_TRUE(all.insert(v).second) << v << " in both sets";
  EXPECT_EQ(all.size(), ids.size());
  std::vector<std::string> reversed(ids.rbegin(), ids.rend());
  EXPECT_EQ(split_subjects(reversed, 0.3, 7).second, val);  // order of the input does not matter
  bool differs = false;
  for (std::uint64_t seed = 8; seed < 12; ++seed) differs |= split_subjects(ids, 0.3, seed).second != val;
  EXPECT_TRUE(differs);
  EXPECT_EQ(split_subjects({"a", "b"}, 0.01, 1).second.size(), 1u);  // at least one held out
  EXPECT_EQ(split_subjects({"a"}, 0.5, 1).second.size(), 0u);        // never all
  EXPECT_THROW(split_subjects(ids, 1.0, 1), UsageError);

  const std::string data = test::make_synthetic_data(temp_dir("split"), {5, 6, 16, 3});
  SliceDatasetOptions o;
  o.validation_fraction = 0.4;
  o.seed = 7;
  const PairedSlices p = load_paired_slices(data, o);
  EXPECT_EQ(p.training.subjects().size(), 3u);
  EXPECT_EQ(p.validation.subjects().size(), 2u);
  for (const auto& v : p.validation.subjects())
    EXPECT_EQ(std::count(p.training.subjects().begin(), p.training.subjects().end(), v), 0) << v;
  EXPECT_EQ(p.training.size(), 3 * 4);
  EXPECT_EQ(p.validation.size(), 2 * 4);
  EXPECT_EQ(load_paired_slices(data, o).validation.subjects(), p.validation.subjects());

  o.validation_subjects = {"sub-002"};
  const PairedSlices q = load_paired_slices(data, o);
  EXPECT_EQ(q.validation.subjects(), std::vector<std::string>{"sub-002"});
  EXPECT_EQ(q.training.subjects().size(), 4u);
  o.validation_subjects = {"sub-042"};
  EXPECT_TRUE(contains(error_of([&] { load_paired_slices(data, o); }), "sub-042"));
}

TEST(SliceDataset, KeepsBrainSlicesAndSwapsForTheOtherDirection) {
  const std::string data = test::make_synthetic_data(temp_dir("slices"), {3, 6, 16, 3});
  SliceDatasetOptions o;
  o.validation_fraction = 0;
  const PairedSlices p = load_paired_slices(data, o);
  EXPECT_EQ(p.direction.condition_session, "ses-1p5T");
  EXPECT_EQ(p.skipped_slices, 3 * 2);
  ASSERT_EQ(p.training.size(), 3 * 4);
  EXPECT_EQ(p.height, 16);
  EXPECT_EQ(p.training.source().sizes(), (std::vector<int64_t>{12, 1, 16, 16}));
  // no empty slice left; the target is the inverted contrast of the source (inside the brain)
  EXPECT_GT(p.training.source().flatten(1).amax(1).min().item<float>(), 0.1f);
  const auto brain = p.training.source() > 0;
  const auto expected = (1.1 - p.training.source()).clamp(0, 1);
  EXPECT_LT((p.training.target() - expected).masked_select(brain).abs().max().item<float>(), 1e-6f);

  o.direction = "3T-to-1p5T";
  const PairedSlices r = load_paired_slices(data, o);
  EXPECT_TRUE(torch::equal(r.training.source(), p.training.target()));
  EXPECT_TRUE(torch::equal(r.training.target(), p.training.source()));
  o.direction = "7T-to-3T";
  EXPECT_THROW(load_paired_slices(data, o), UsageError);
  o.direction = "sideways";
  EXPECT_THROW(load_paired_slices(data, o), UsageError);
}

TEST(SliceDataset, BatchesAreSeededAndFlipsMirrorBothImages) {
  const std::string data = test::make_synthetic_data(temp_dir("batch"), {3, 6, 16, 3});
  SliceDatasetOptions o;
  o.validation_fraction = 0;
  const PairedSlices p = load_paired_slices(data, o);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(5), g2 = at::make_generator<at::CPUGeneratorImpl>(5);
  const SliceBatch a = p.training.sample(6, g1), b = p.training.sample(6, g2);
  EXPECT_EQ(a.source.sizes(), (std::vector<int64_t>{6, 1, 16, 16}));
  EXPECT_TRUE(torch::equal(a.source, b.source));
  EXPECT_TRUE(torch::equal(a.target, b.target));
  auto g3 = at::make_generator<at::CPUGeneratorImpl>(9);
  const SliceBatch f = p.training.sample(32, g3, true);
  int flipped = 0;
  for (int64_t i = 0; i < 32; ++i) {
    const auto s = f.source[i], t = f.target[i];
    // find the slice it came from, directly or mirrored; the target follows the source
    const auto direct = (p.training.source() - s).abs().flatten(1).amax(1).eq(0).nonzero();
    const auto mirror = (p.training.source() - s.flip({2})).abs().flatten(1).amax(1).eq(0).nonzero();
    ASSERT_TRUE(direct.numel() > 0 || mirror.numel() > 0) << i;
    if (direct.numel() > 0) {
      EXPECT_TRUE(torch::equal(p.training.target()[direct[0][0].item<int64_t>()], t));
    } else {
      ++flipped;
      EXPECT_TRUE(torch::equal(p.training.target()[mirror[0][0].item<int64_t>()].flip({2}), t));
    }
  }
  EXPECT_GT(flipped, 4);
  EXPECT_LT(flipped, 28);
}

namespace {
// Which view of which subject's block [n, H, W] (source) an 8x8 patch was cut
// from: "" when it is no window of any, else "<subject> <view>".
// A patch [8, 8], or [c, 8, 8] of c consecutive slices (a slab with context,
// zero beyond the ends): which block and orientation it was cut from.
std::string patch_origin(torch::Tensor patch, const std::vector<std::pair<std::string, torch::Tensor>>& blocks) {
  if (patch.dim() == 2) patch = patch.unsqueeze(0);
  const int64_t c = patch.size(0), context = (c - 1) / 2;
  for (const auto& [id, block] : blocks)
    for (View v : {View::Sagittal, View::Coronal, View::Axial}) {
      // Slices zero-padded by 4 on each side: a patch may overhang a slice narrower than 8.
      const torch::Tensor slices = torch::constant_pad_nd(view_slices(block, v), {4, 4, 4, 4, context, context});
      const torch::Tensor windows = slices.unfold(0, c, 1).unfold(1, 8, 1).unfold(2, 8, 1);  // [n, h', w', c, 8, 8]
      if ((windows - patch).abs().flatten(3).amax(3).eq(0).any().item<bool>()) return id + " " + view_name(v);
    }
  return "";
}

// The condition stacks [8, 16, 16] of subjects of a synthetic dataset, by id.
std::vector<std::pair<std::string, torch::Tensor>> condition_blocks(const std::string& data,
                                                                    const std::string& direction,
                                                                    const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& id : ids) {
    const Volume v = read_hvol<float>(subject_slice_paths(data, direction, id).condition);
    out.emplace_back(id, torch::from_blob(const_cast<float*>(v.data.data()), {8, 16, 16}, torch::kFloat32).clone());
  }
  return out;
}
}  // namespace

// Patches of the three orientations: each holds brain, each is a window of a
// slice of one of the set's own subjects (never of a validation subject), and
// every orientation is drawn.
TEST(SliceDataset, PatchesOfThreeOrientationsHoldBrainAndKeepTheSplit) {
  const std::string data = test::make_synthetic_data(temp_dir("patches"), {4, 8, 16, 3});
  SliceDatasetOptions o;
  o.training_subjects = {"sub-001", "sub-003"};
  o.views = {View::Sagittal, View::Coronal, View::Axial};
  o.patch = 8;
  const PairedSlices p = load_paired_slices(data, o);
  EXPECT_EQ(p.validation.subjects(), (std::vector<std::string>{"sub-002", "sub-004"}));
  ASSERT_EQ(p.training.brain_slices().size(), 3u);
  // 2 subjects x 6 sagittal slices with brain; the disc spans about 14 of 16 rows and columns.
  EXPECT_EQ(p.training.brain_slices()[0].size(), 12u);
  EXPECT_GE(p.training.brain_slices()[1].size(), 2u * 13);
  EXPECT_GE(p.training.brain_slices()[2].size(), 2u * 13);
  const auto training = condition_blocks(data, o.direction, {"sub-001", "sub-003"}),
             all = condition_blocks(data, o.direction, {"sub-001", "sub-002", "sub-003", "sub-004"});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  std::set<std::string> views_seen, subjects_seen;
  for (int draw = 0; draw < 12; ++draw) {
    const SliceBatch b = p.training.sample(4, gen);
    ASSERT_EQ(b.source.sizes(), (std::vector<int64_t>{4, 1, 8, 8}));
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_GT(b.source[i].max().item<float>(), 0.1f) << "a patch without brain";
      const std::string from = patch_origin(b.source[i][0], training);
      ASSERT_FALSE(from.empty()) << "patch " << draw << "." << i << " is no window of a training subject";
      EXPECT_EQ(patch_origin(b.source[i][0], all), from) << "it matches another subject first";
      subjects_seen.insert(from.substr(0, 7));
      views_seen.insert(from.substr(8));
      // The target is cut at the same place: the inverted contrast inside the brain.
      const auto brain = b.source[i] > 0;
      EXPECT_LT((b.target[i] - (1.1 - b.source[i]).clamp(0, 1)).masked_select(brain).abs().max().item<float>(), 1e-6f);
    }
  }
  EXPECT_EQ(views_seen, (std::set<std::string>{"sagittal", "coronal", "axial"}));
  EXPECT_EQ(subjects_seen, (std::set<std::string>{"sub-001", "sub-003"}));
  // The validation set draws from its own subjects only.
  const SliceBatch v = p.validation.sample(6, gen);
  for (int64_t i = 0; i < 6; ++i) {
    const std::string from = patch_origin(v.source[i][0], all);
    EXPECT_TRUE(from.rfind("sub-002", 0) == 0 || from.rfind("sub-004", 0) == 0) << from;
  }
  // Whole coronal and axial slices: the left-right dimension is windowed to the slices' width.
  o.patch = 0;
  const PairedSlices whole = load_paired_slices(data, o);
  for (int draw = 0; draw < 6; ++draw)
    EXPECT_EQ(whole.training.sample(2, gen).source.sizes(), (std::vector<int64_t>{2, 1, 16, 16}));
  EXPECT_EQ(patch_start(3, 16, 8), 0);
  EXPECT_EQ(patch_start(10, 16, 8), 6);
  EXPECT_EQ(patch_start(15, 16, 8), 8);
  EXPECT_EQ(patch_start(2, 6, 8), -1);  // a side shorter than the patch: centred, padded
}

// 2.5D: the source of an example is its slice with the neighbours of the same
// orientation on each side, cut at the same place; the middle channel is the
// example without context (the same draws), the target one slice.
TEST(SliceDataset, ContextSlicesAreTheNeighboursInTheSameOrientation) {
  const std::string data = test::make_synthetic_data(temp_dir("context"), {4, 8, 16, 3});
  SliceDatasetOptions o;
  o.training_subjects = {"sub-001", "sub-003"};
  o.views = {View::Sagittal, View::Coronal, View::Axial};
  o.patch = 8;
  o.context = 1;
  const PairedSlices p = load_paired_slices(data, o);
  const auto training = condition_blocks(data, o.direction, {"sub-001", "sub-003"});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  std::set<std::string> views_seen;
  int neighbours_differ = 0;
  for (int draw = 0; draw < 12; ++draw) {
    const SliceBatch b = p.training.sample(4, gen);
    ASSERT_EQ(b.source.sizes(), (std::vector<int64_t>{4, 3, 8, 8}));
    ASSERT_EQ(b.target.sizes(), (std::vector<int64_t>{4, 1, 8, 8}));
    for (int64_t i = 0; i < 4; ++i) {
      const std::string from = patch_origin(b.source[i], training);
      ASSERT_FALSE(from.empty()) << "example " << draw << "." << i << " is no three consecutive slices of a subject";
      views_seen.insert(from.substr(8));
      neighbours_differ +=
          !torch::equal(b.source[i][0], b.source[i][1]) && !torch::equal(b.source[i][2], b.source[i][1]);
    }
  }
  EXPECT_EQ(views_seen, (std::set<std::string>{"sagittal", "coronal", "axial"}));
  EXPECT_GT(neighbours_differ, 24);
  o.context = 0;
  const PairedSlices single = load_paired_slices(data, o);
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(9), g0 = at::make_generator<at::CPUGeneratorImpl>(9);
  const SliceBatch with = p.training.sample(6, g1), without = single.training.sample(6, g0);
  EXPECT_TRUE(torch::equal(with.source.narrow(1, 1, 1), without.source));
  EXPECT_TRUE(torch::equal(with.target, without.target));
}

TEST(SliceDataset, ErrorsNameTheFile) {
  const std::string dir = temp_dir("errors");
  EXPECT_TRUE(contains(error_of([&] { load_paired_slices(dir, {}); }), dir + "/dataset.json"));
  const std::string data = test::make_synthetic_data(dir, {3, 6, 16, 3});
  const std::string stack = data + "/sub-002/slices/sub-002_ses-3T_slices.hvol";
  {  // a stack of a different shape
    Geometry g;
    g.size = {16, 16, 5};
    write_hvol(stack, Volume(g), {{"layout", {{"has_brain", std::vector<int>(5, 1)}}}});
    const std::string e = error_of([&] { load_paired_slices(data, {}); });
    EXPECT_TRUE(contains(e, stack)) << e;
    EXPECT_TRUE(contains(e, "shape")) << e;
  }
  fs::remove(stack);
  EXPECT_TRUE(contains(error_of([&] { load_paired_slices(data, {}); }), stack + ": slice stack missing"));
  write_text_atomically(data + "/dataset.json", "{ not json");
  const std::string e = error_of([&] { load_paired_slices(data, {}); });
  EXPECT_TRUE(contains(e, data + "/dataset.json: invalid JSON")) << e;
}

// ---------------------------------------------------------------- checkpoints

namespace {

struct Toy {
  UNet model, ema;
  std::unique_ptr<torch::optim::Adam> opt;
  torch::Generator gen;
  explicit Toy(std::uint64_t seed) : model(nullptr), ema(nullptr) {
    torch::manual_seed(seed);
    model = UNet(unet_preset("tiny"));
    ema = UNet(unet_preset("tiny"));
    opt = std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
    gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  }
  TrainingState state() { return {model, ema, opt.get(), &gen}; }
  // One Adam step on a fixed toy batch (drawn with the own generator).
  double step() {
    const GaussianDiffusion d{DiffusionConfig{}};
    auto src = torch::rand({2, 1, 8, 8}, gen);
    auto t = d.sample_timesteps(2, gen);
    auto noise = torch::randn({2, 1, 8, 8}, gen);
    auto loss = training_loss(model, d, src, 1 - src, t, noise).loss.mean();
    opt->zero_grad();
    loss.backward();
    opt->step();
    return loss.item<double>();
  }
};

ModelHeader tiny_header(int64_t step) {
  ModelHeader h;
  h.unet = unet_preset("tiny");
  h.direction = "1p5T-to-3T";
  h.step = step;
  return h;
}

}  // namespace

TEST(Checkpoint, RoundTripRestoresWeightsOptimizerAndGenerator) {
  const std::string dir = temp_dir("ckpt");
  fs::create_directories(dir);
  Toy a(1);
  a.step();
  a.step();
  copy_weights(a.model, a.ema);
  const std::string path = dir + "/last.pt";
  ModelHeader with_noise = tiny_header(2);
  with_noise.target_noise_sd = 0.0375;
  save_checkpoint(path, with_noise, a.state());
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().filename(), "last.pt");  // no temporaries

  const ModelHeader h = read_model_header(path, kCheckpointKind);
  EXPECT_EQ(h.step, 2);
  EXPECT_EQ(h.direction, "1p5T-to-3T");
  EXPECT_EQ(h.unet, unet_preset("tiny"));
  EXPECT_DOUBLE_EQ(h.target_noise_sd, 0.0375);
  Toy b(2);
  expect_same_weights(a.model, b.model, 1e30);  // (shapes)
  load_checkpoint(path, b.state());
  expect_same_weights(a.model, b.model);
  expect_same_weights(a.ema, b.ema);
  // Same optimizer state and generator: the next steps agree exactly.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(a.step(), b.step());
  expect_same_weights(a.model, b.model);

  save_model(dir + "/model.pt", tiny_header(2), a.ema);
  const LoadedModel m = load_model(dir + "/model.pt");
  EXPECT_EQ(m.header.kind, kModelKind);
  EXPECT_LT(m.header.target_noise_sd, 0.0);  // not recorded
  expect_same_weights(a.ema, m.model);
  expect_same_weights(load_model(path).model, b.ema);  // a checkpoint's EMA weights
}

TEST(Checkpoint, WrongKindVersionOrTruncatedFilesAreRefused) {
  const std::string dir = temp_dir("bad");
  fs::create_directories(dir);
  Toy a(1);
  save_model(dir + "/model.pt", tiny_header(0), a.ema);
  const std::string wrong_kind = error_of([&] { load_checkpoint(dir + "/model.pt", a.state()); });
  EXPECT_TRUE(contains(wrong_kind, "model file of the wrong kind or version")) << wrong_kind;
  EXPECT_TRUE(contains(wrong_kind, dir + "/model.pt")) << wrong_kind;

  save_checkpoint(dir + "/ckpt.pt", tiny_header(0), a.state());
  const std::string bytes = read_text_file(dir + "/ckpt.pt");
  {
    std::ofstream f(dir + "/truncated.pt", std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  const std::string truncated = error_of([&] { read_model_header(dir + "/truncated.pt"); });
  EXPECT_TRUE(contains(truncated, "model file of the wrong kind or version")) << truncated;
  write_text_atomically(dir + "/text.pt", "hello");
  EXPECT_TRUE(contains(error_of([&] { load_model(dir + "/text.pt"); }), "wrong kind or version"));

  torch::serialize::OutputArchive future;
  nlohmann::json h = to_json(tiny_header(0));
  h["version"] = 99;
  future.write("header", c10::IValue(h.dump()));
  future.save_to(dir + "/future.pt");
  const std::string version = error_of([&] { read_model_header(dir + "/future.pt"); });
  EXPECT_TRUE(contains(version, "wrong kind or version")) << version;
  EXPECT_TRUE(contains(version, "99")) << version;
  EXPECT_TRUE(contains(error_of([&] { read_model_header(dir + "/none.pt"); }), "missing"));

  // A network whose input fits no conditional model (odd, or a baseline with context slices).
  for (const auto& [in, objective] : std::vector<std::pair<int, std::string>>{{3, "diffusion"}, {4, "regression"}}) {
    nlohmann::json odd = to_json(tiny_header(0));
    odd["unet"]["in_channels"] = in;
    odd["objective"] = objective;
    torch::serialize::OutputArchive archive;
    archive.write("header", c10::IValue(odd.dump()));
    archive.save_to(dir + "/inputs.pt");
    const std::string inputs = error_of([&] { read_model_header(dir + "/inputs.pt"); });
    EXPECT_TRUE(contains(inputs, "wrong kind or version")) << inputs;
    EXPECT_TRUE(contains(inputs, std::to_string(in) + " input channels")) << inputs;
  }
  nlohmann::json two_sided = to_json(tiny_header(0));
  two_sided["unet"]["in_channels"] = 4;  // one context slice on each side: a valid 2.5D model
  torch::serialize::OutputArchive archive;
  archive.write("header", c10::IValue(two_sided.dump()));
  archive.save_to(dir + "/context.pt");
  EXPECT_EQ(context_slices(read_model_header(dir + "/context.pt").unet), 1);
}

TEST(Checkpoint, WeightsThatDoNotFitTheHeaderAreDamagedOrNotFiniteAreRefused) {
  const std::string dir = temp_dir("weights");
  fs::create_directories(dir);
  Toy a(1);
  // A header for one network, the weights of another.
  {
    UNetConfig wider = unet_preset("tiny");
    wider.model_channels *= 2;
    torch::serialize::OutputArchive ar;
    ar.write("header", c10::IValue(to_json(tiny_header(0)).dump()));
    torch::serialize::OutputArchive sub(ar.compilation_unit());
    UNet(wider)->save(sub);
    ar.write("ema", sub);
    ar.save_to(dir + "/mismatch.pt");
  }
  const std::string mismatch = error_of([&] { load_model(dir + "/mismatch.pt"); });
  EXPECT_TRUE(contains(mismatch, dir + "/mismatch.pt")) << mismatch;
  EXPECT_TRUE(contains(mismatch, "do not fit the network its header describes")) << mismatch;

  // A few bytes changed inside the weights (the middle of the file is tensor data).
  save_model(dir + "/model.pt", tiny_header(0), a.ema);
  EXPECT_NO_THROW(load_model(dir + "/model.pt"));
  std::string bytes = read_text_file(dir + "/model.pt");
  for (std::size_t k = 0; k < 4; ++k) bytes[bytes.size() / 2 + k] ^= 0x5a;
  std::ofstream(dir + "/damaged.pt", std::ios::binary) << bytes;
  const std::string damaged = error_of([&] { load_model(dir + "/damaged.pt"); });
  EXPECT_TRUE(contains(damaged, dir + "/damaged.pt")) << damaged;
  EXPECT_TRUE(contains(damaged, "damaged")) << damaged;

  // Weights that hold NaN (a diverged run) are refused even with a matching CRC.
  {
    torch::NoGradGuard no_grad;
    a.ema->parameters()[0].view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  }
  save_model(dir + "/nan.pt", tiny_header(0), a.ema);
  const std::string nan = error_of([&] { load_model(dir + "/nan.pt"); });
  EXPECT_TRUE(contains(nan, dir + "/nan.pt")) << nan;
  EXPECT_TRUE(contains(nan, "NaN")) << nan;
}

TEST(Checkpoint, AFullDiskLeavesNoFileAndNamesTheOutput) {
  const std::string dir = temp_dir("full");
  fs::remove_all(dir);
  fs::create_directories(dir);
  Toy a(1);
  const std::string path = dir + "/last.pt";
  std::string message;
  {
    harmonize::test::FileSizeLimit full(4096);
    message = error_of([&] { save_checkpoint(path, tiny_header(0), a.state()); });
  }
  EXPECT_TRUE(contains(message, path)) << message;
  EXPECT_TRUE(contains(message, "model file")) << message;
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  // With room again the same call succeeds.
  save_checkpoint(path, tiny_header(0), a.state());
  EXPECT_EQ(read_model_header(path).kind, kCheckpointKind);
}

// ---------------------------------------------------------------- trainer

namespace {

TrainOptions tiny_options(const std::string& data) {
  TrainOptions o;
  o.data_dir = data;
  o.preset = "tiny";
  o.unet = unet_preset("tiny");
  o.lr = 1e-3;  // visible changes within a few steps
  o.warmup_steps = 4;
  o.grad_clip = 0.05;  // active: the tiny model's gradient norms are larger
  o.batch = 2;
  o.ema_rate = 0.9;
  o.max_steps = 20;
  o.save_every = 10;
  o.log_every = 1;
  o.validate_every = 5;
  o.validation_batch = 2;
  o.val_fraction = 0.25;
  o.flip = true;
  o.seed = 11;
  return o;
}

std::vector<std::string> csv_without_seconds(const std::string& path) {
  std::vector<std::string> rows;
  std::istringstream in(read_text_file(path));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string c;
    while (std::getline(ls, c, ',')) cells.push_back(c);
    if (cells.size() > 4) cells.erase(cells.begin() + 4);  // seconds
    std::string r;
    for (const auto& x : cells) r += x + ",";
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

TEST(Trainer, ResumedRunContinuesExactlyAsAStraightRun) {
  const std::string data = test::make_synthetic_data(temp_dir("resume_data"), {4, 5, 16, 3});
  const std::string straight = temp_dir("straight"), split = temp_dir("split");
  std::vector<double> losses_a, losses_b;
  double noise = -1;
  {
    Trainer t = Trainer::start(tiny_options(data), straight);
    EXPECT_EQ(t.options().training_subjects.size(), 3u);
    // The noise of the training targets (the training subjects only) is measured.
    SliceDatasetOptions so;
    so.direction = t.options().direction;
    so.training_subjects = t.options().training_subjects;
    noise = estimate_noise_sd(load_paired_slices(data, so).training.target());
    EXPECT_GT(noise, 0.0);
    EXPECT_DOUBLE_EQ(t.target_noise_sd(), noise);
    const auto s = t.run([&](const TrainReport& r) { losses_a.push_back(r.loss); });
    EXPECT_EQ(s.last_step, 20);
  }
  {
    TrainOptions o = tiny_options(data);
    o.max_steps = 10;
    Trainer t = Trainer::start(o, split);
    t.run([&](const TrainReport& r) { losses_b.push_back(r.loss); });
  }
  EXPECT_TRUE(fs::exists(split + "/checkpoints/last.pt"));
  {
    Trainer t = Trainer::resume(split, [](TrainOptions& o) { o.max_steps = 20; });
    EXPECT_EQ(t.step(), 10);
    t.run([&](const TrainReport& r) { losses_b.push_back(r.loss); });
  }
  ASSERT_EQ(losses_a.size(), 20u);
  ASSERT_EQ(losses_b.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_NEAR(losses_a[i], losses_b[i], 1e-6 * (1 + losses_a[i])) << i;
  EXPECT_NE(losses_a[0], losses_a[19]);

  UNet ma(unet_preset("tiny")), ea(unet_preset("tiny")), mb(unet_preset("tiny")), eb(unet_preset("tiny"));
  torch::optim::Adam oa(ma->parameters()), ob(mb->parameters());
  torch::Generator ga = at::make_generator<at::CPUGeneratorImpl>(0), gb = at::make_generator<at::CPUGeneratorImpl>(0);
  load_checkpoint(straight + "/checkpoints/last.pt", {ma, ea, &oa, &ga});
  load_checkpoint(split + "/checkpoints/last.pt", {mb, eb, &ob, &gb});
  expect_same_weights(ma, mb, 1e-6);
  expect_same_weights(ea, eb, 1e-6);
  EXPECT_TRUE(torch::equal(ga.get_state(), gb.get_state()));
  EXPECT_EQ(read_model_header(split + "/checkpoints/last.pt").step, 20);
  EXPECT_EQ(read_model_header(split + "/checkpoints/previous.pt").step, 10);

  const auto rows_a = csv_without_seconds(straight + "/train_log.csv");
  const auto rows_b = csv_without_seconds(split + "/train_log.csv");
  EXPECT_EQ(rows_a.size(), 21u);
  EXPECT_EQ(rows_a, rows_b);
  EXPECT_TRUE(contains(rows_a[5], "5,")) << rows_a[5];
  EXPECT_FALSE(contains(rows_a[5], ",,")) << "validation loss at step 5: " << rows_a[5];
  const auto config = nlohmann::json::parse(read_text_file(split + "/config.json"));
  EXPECT_EQ(config["max_steps"], 20);
  EXPECT_EQ(config["validation_subjects"].size(), 1u);
  EXPECT_TRUE(fs::exists(split + "/model.pt"));
  // ... and recorded in the model file and the checkpoints, resumed or not.
  EXPECT_DOUBLE_EQ(read_model_header(split + "/model.pt").target_noise_sd, noise);
  EXPECT_DOUBLE_EQ(read_model_header(split + "/checkpoints/last.pt").target_noise_sd, noise);
}

// The regression objective (issue 17's DeepHarmony-like baseline): the same
// network fits the toy data's mapping (target = 1.1 - source) in one pass.
TEST(Trainer, RegressionObjectiveFitsAToyMapping) {
  const std::string data = test::make_synthetic_data(temp_dir("regression_data"), {4, 5, 16, 3});
  const std::string run = temp_dir("regression_run");
  TrainOptions o = tiny_options(data);
  o.objective = kRegressionObjective;
  o.max_steps = 200;
  o.save_every = 200;
  o.validate_every = 0;
  o.grad_clip = 0;
  o.lr = 3e-3;
  o.ema_rate = 0.5;
  o.flip = false;
  std::vector<double> losses;
  {
    Trainer t = Trainer::start(o, run);
    t.run([&](const TrainReport& r) {
      losses.push_back(r.loss);
      EXPECT_EQ(r.vb, 0.0);
      EXPECT_EQ(r.mse, r.loss);  // the csv's mse column holds the L1 loss
    });
  }
  ASSERT_EQ(losses.size(), 200u);
  double first = 0, last = 0;
  for (int i = 0; i < 10; ++i) first += losses[std::size_t(i)] / 10, last += losses[std::size_t(190 + i)] / 10;
  EXPECT_LT(last, 0.3 * first) << "L1 loss of the first and last 10 steps";
  const LoadedModel m = load_model(run + "/model.pt");
  EXPECT_EQ(m.header.objective, kRegressionObjective);
  EXPECT_EQ(read_model_header(run + "/checkpoints/last.pt").objective, kRegressionObjective);

  // The held-out subject's slices through harmonize_stacks: one pass, close to
  // the target, and the seed and the sampling options change nothing.
  SliceDatasetOptions so;
  so.direction = o.direction;
  Trainer t = Trainer::resume(run);
  so.training_subjects = t.options().training_subjects;
  const PairedSlices slices = load_paired_slices(data, so);
  const torch::Tensor source = slices.validation.source().squeeze(1), target = slices.validation.target().squeeze(1);
  const std::vector<std::vector<std::uint8_t>> all{std::vector<std::uint8_t>(std::size_t(source.size(0)), 1)};
  HarmonizeOptions ho;
  ho.sampling.steps = 3;
  const auto a = harmonize_stacks(m, {source}, all, ho);
  ho.seed = 99;
  ho.sampling.sampler = Sampler::Ddim;
  ho.sampling.steps = 7;
  const auto b = harmonize_stacks(m, {source}, all, ho);
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  const auto brain = source > 0;
  const double mapped = (a[0] - target).abs().masked_select(brain).mean().item<double>();
  const double identity = (source - target).abs().masked_select(brain).mean().item<double>();
  EXPECT_LT(mapped, 0.25 * identity) << "mean |output - target| " << mapped << ", |source - target| " << identity;
}

// A one-pass network trained on 8x8 patches of all three orientations maps
// whole slices of a held-out subject in every orientation; fused, the output
// is close to the target. The model file records what it was trained on, and
// apply's default orientations follow it.
TEST(Trainer, PatchesOfThreeOrientationsTrainAModelAppliedToWholeSlicesFused) {
  const std::string data = test::make_synthetic_data(temp_dir("views_data"), {4, 8, 16, 3});
  const std::string run = temp_dir("views_run");
  TrainOptions o = tiny_options(data);
  o.objective = kRegressionObjective;
  o.orientations = {"sagittal", "coronal", "axial"};
  o.patch_size = 8;
  o.batch = 8;
  o.max_steps = 250;
  o.save_every = 250;
  o.validate_every = 50;
  o.grad_clip = 0;
  o.lr = 3e-3;
  o.ema_rate = 0.5;
  o.flip = false;
  { Trainer::start(o, run).run(); }
  const LoadedModel m = load_model(run + "/model.pt");
  EXPECT_EQ(trained_orientations(m.header), o.orientations);
  EXPECT_EQ(m.header.training.at("patch_size"), 8);
  const TrainOptions back = train_options_from_json(m.header.training);
  EXPECT_EQ(back.orientations, o.orientations);

  const std::string held_out = Trainer::resume(run).options().validation_subjects.at(0);
  const auto paths = subject_slice_paths(data, o.direction, held_out);
  auto block = [](const std::string& path) {
    const Volume v = read_hvol<float>(path);
    return torch::from_blob(const_cast<float*>(v.data.data()), {8, 16, 16}, torch::kFloat32).clone();
  };
  const torch::Tensor source = block(paths.condition), target = block(paths.target);
  const torch::Tensor brain = (source > 0).to(torch::kFloat32);
  HarmonizeOptions ho;
  ho.views = {View::Sagittal, View::Coronal, View::Axial};
  const torch::Tensor fused = harmonize_blocks(m, {source}, {brain}, ho)[0];
  const auto inside = brain > 0;
  const double mapped = (fused - target).abs().masked_select(inside).mean().item<double>();
  const double identity = (source - target).abs().masked_select(inside).mean().item<double>();
  EXPECT_LT(mapped, 0.3 * identity) << "mean |fused - target| " << mapped << ", |source - target| " << identity;
  for (View v : {View::Sagittal, View::Coronal, View::Axial}) {
    ho.views = {v};
    const torch::Tensor one = harmonize_blocks(m, {source}, {brain}, ho)[0];
    EXPECT_LT((one - target).abs().masked_select(inside).mean().item<double>(), 0.4 * identity) << view_name(v);
  }
  // A one-pass network has no chain: the start noise changes nothing.
  ho.views = {View::Sagittal, View::Coronal, View::Axial};
  const torch::Tensor per_slice = harmonize_blocks(m, {source}, {brain}, ho)[0];
  ho.sampling.start_noise = StartNoise::Volume;
  EXPECT_TRUE(torch::equal(harmonize_blocks(m, {source}, {brain}, ho)[0], per_slice));
  // A patch size the network cannot take is refused before training.
  o.patch_size = 6;
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(o, temp_dir("views_bad")); }), "patch_size"))
      << error_of([&] { Trainer::start(o, temp_dir("views_bad2")); });
}

// A regression run split by a checkpoint continues exactly as a straight one,
// and resuming it as a diffusion run is refused.
TEST(Trainer, RegressionRunResumesExactly) {
  const std::string data = test::make_synthetic_data(temp_dir("regression_resume_data"), {4, 5, 16, 3});
  const std::string straight = temp_dir("regression_straight"), split = temp_dir("regression_split");
  TrainOptions o = tiny_options(data);
  o.objective = kRegressionObjective;
  o.max_steps = 12;
  o.save_every = 6;
  std::vector<double> a, b;
  Trainer::start(o, straight).run([&](const TrainReport& r) { a.push_back(r.loss); });
  o.max_steps = 6;
  Trainer::start(o, split).run([&](const TrainReport& r) { b.push_back(r.loss); });
  Trainer::resume(split, [](TrainOptions& x) { x.max_steps = 12; }).run([&](const TrainReport& r) {
    b.push_back(r.loss);
  });
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_NEAR(a[i], b[i], 1e-6 * (1 + a[i])) << i;
  const LoadedModel ma = load_model(straight + "/model.pt"), mb = load_model(split + "/model.pt");
  expect_same_weights(ma.model, mb.model, 1e-6);
  EXPECT_EQ(csv_without_seconds(straight + "/train_log.csv"), csv_without_seconds(split + "/train_log.csv"));
  // config.json says regression; a checkpoint of another objective does not resume.
  auto config = nlohmann::json::parse(read_text_file(split + "/config.json"));
  EXPECT_EQ(config["objective"], "regression");
  config["objective"] = "diffusion";
  std::ofstream(split + "/config.json") << config.dump();
  EXPECT_TRUE(contains(error_of([&] { Trainer::resume(split); }), "objective"));
  config["objective"] = "flow";
  std::ofstream(split + "/config.json") << config.dump();
  EXPECT_TRUE(contains(error_of([&] { Trainer::resume(split); }), "objective must be"));
}

// The gan objective (issue 17's pGAN-like baseline): the generator fits the
// toy mapping, the log carries the discriminator's loss, the checkpoints
// carry the discriminator and its optimizer, and a split run continues
// exactly as a straight one (both networks, both optimizers).
TEST(Trainer, GanObjectiveFitsAToyMappingAndResumesExactly) {
  const std::string data = test::make_synthetic_data(temp_dir("gan_data"), {4, 5, 16, 3});
  TrainOptions o = tiny_options(data);
  o.objective = kGanObjective;
  o.discriminator_channels = 8;
  o.validate_every = 0;
  o.grad_clip = 0;
  o.lr = 3e-3;
  o.warmup_steps = 0;
  o.ema_rate = 0.5;
  o.flip = false;
  o.max_steps = 200;
  o.save_every = 200;
  const std::string run = temp_dir("gan_run");
  std::vector<double> l1, d_loss;
  Trainer::start(o, run).run([&](const TrainReport& r) {
    l1.push_back(r.mse);
    d_loss.push_back(r.vb);
    EXPECT_GT(r.loss, o.gan_l1_weight * r.mse);  // adversarial term > 0 on top of the weighted L1
  });
  ASSERT_EQ(l1.size(), 200u);
  double first = 0, last = 0;
  for (int i = 0; i < 10; ++i) first += l1[std::size_t(i)] / 10, last += l1[std::size_t(190 + i)] / 10;
  EXPECT_LT(last, 0.3 * first) << "L1 of the first and last 10 steps";
  for (double v : d_loss) ASSERT_TRUE(v > 0 && std::isfinite(v));
  const ModelHeader h = read_model_header(run + "/checkpoints/last.pt");
  EXPECT_EQ(h.objective, kGanObjective);
  EXPECT_TRUE(h.weights_crc32.contains("discriminator"));
  const LoadedModel m = load_model(run + "/model.pt");
  EXPECT_EQ(m.header.objective, kGanObjective);
  EXPECT_FALSE(m.header.weights_crc32.contains("discriminator"));  // model.pt: the generator only
  // Applied in one pass, close to the target.
  SliceDatasetOptions so;
  so.direction = o.direction;
  so.training_subjects = Trainer::resume(run).options().training_subjects;
  const PairedSlices slices = load_paired_slices(data, so);
  const torch::Tensor source = slices.validation.source().squeeze(1), target = slices.validation.target().squeeze(1);
  const std::vector<std::vector<std::uint8_t>> all{std::vector<std::uint8_t>(std::size_t(source.size(0)), 1)};
  const auto out = harmonize_stacks(m, {source}, all, HarmonizeOptions{});
  const auto brain = source > 0;
  const double mapped = (out[0] - target).abs().masked_select(brain).mean().item<double>();
  const double identity = (source - target).abs().masked_select(brain).mean().item<double>();
  EXPECT_LT(mapped, 0.25 * identity) << "mean |output - target| " << mapped << ", |source - target| " << identity;

  // Resume: 12 steps straight vs 6 + 6.
  const std::string straight = temp_dir("gan_straight"), split = temp_dir("gan_split");
  o.max_steps = 12;
  o.save_every = 6;
  std::vector<double> a, b, da, db;
  Trainer::start(o, straight).run([&](const TrainReport& r) { a.push_back(r.loss), da.push_back(r.vb); });
  o.max_steps = 6;
  Trainer::start(o, split).run([&](const TrainReport& r) { b.push_back(r.loss), db.push_back(r.vb); });
  Trainer::resume(split, [](TrainOptions& x) { x.max_steps = 12; }).run([&](const TrainReport& r) {
    b.push_back(r.loss), db.push_back(r.vb);
  });
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_NEAR(a[i], b[i], 1e-6 * (1 + a[i])) << i;
    EXPECT_NEAR(da[i], db[i], 1e-6 * (1 + da[i])) << i;
  }
  expect_same_weights(load_model(straight + "/model.pt").model, load_model(split + "/model.pt").model, 1e-6);
  EXPECT_EQ(csv_without_seconds(straight + "/train_log.csv"), csv_without_seconds(split + "/train_log.csv"));
  // A changed discriminator does not resume.
  auto config = nlohmann::json::parse(read_text_file(split + "/config.json"));
  config["discriminator_channels"] = 16;
  std::ofstream(split + "/config.json") << config.dump();
  EXPECT_TRUE(
      contains(error_of([&] { Trainer::resume(split, [](TrainOptions& x) { x.max_steps = 14; }); }), "discriminator"));
}

TEST(Trainer, LearningRateSchedules) {
  TrainOptions o;
  o.lr = 2e-3;
  o.max_steps = 110;
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 0), 2e-3);  // constant, no warm-up: the paper's
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 109), 2e-3);
  o.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 0), 2e-4);  // step 1 of 10
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 4), 1e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 9), 2e-3);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 50), 2e-3);
  o.lr_schedule = "cosine";  // half cosine over steps 10..110
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 10), 2e-3);
  EXPECT_NEAR(learning_rate_at(o, 35), 1e-3 * (1 + std::cos(M_PI / 4)), 1e-15);
  EXPECT_NEAR(learning_rate_at(o, 60), 1e-3, 1e-15);
  EXPECT_NEAR(learning_rate_at(o, 109), 1e-3 * (1 + std::cos(M_PI * 0.99)), 1e-15);
  EXPECT_DOUBLE_EQ(learning_rate_at(o, 110), 0.0);
  o.lr_schedule = "step";
  o.data_dir = "x";
  EXPECT_TRUE(contains(error_of([&] { o.validate(); }), "lr_schedule"));
}

TEST(Trainer, LogsTheScheduledLearningRate) {
  const std::string data = test::make_synthetic_data(temp_dir("cosine_data"), {3, 4, 16, 3});
  const std::string run = temp_dir("cosine");
  TrainOptions o = tiny_options(data);
  o.lr_schedule = "cosine";
  o.max_steps = 8;
  o.validate_every = 0;
  Trainer::start(o, run).run();
  const auto rows = csv_without_seconds(run + "/train_log.csv");
  ASSERT_EQ(rows.size(), 9u);
  for (int64_t step = 1; step <= 8; ++step) {
    std::vector<std::string> cells;
    std::stringstream ls(rows[step]);
    std::string c;
    while (std::getline(ls, c, ',')) cells.push_back(c);
    ASSERT_GE(cells.size(), 5u) << rows[step];
    EXPECT_EQ(std::stoll(cells[0]), step);
    EXPECT_NEAR(std::stod(cells[4]), learning_rate_at(o, step - 1), 1e-12) << rows[step];
  }
  EXPECT_EQ(nlohmann::json::parse(read_text_file(run + "/config.json"))["lr_schedule"], "cosine");
}

TEST(Trainer, StopsAtTheTimeLimitWithACheckpoint) {
  const std::string data = test::make_synthetic_data(temp_dir("time_data"), {3, 4, 16, 3});
  const std::string run = temp_dir("time");
  TrainOptions o = tiny_options(data);
  o.max_minutes = 1e-9;
  Trainer t = Trainer::start(o, run);
  const TrainSummary s = t.run();
  EXPECT_EQ(s.stopped_by, "max_minutes");
  EXPECT_EQ(s.last_step, 1);
  EXPECT_EQ(read_model_header(run + "/checkpoints/last.pt").step, 1);
  EXPECT_FALSE(fs::exists(run + "/checkpoints/previous.pt"));
  EXPECT_EQ(read_model_header(run + "/model.pt", kModelKind).step, 1);
}

TEST(Trainer, RefusesAnExistingRunFolderAndBadOptions) {
  const std::string data = test::make_synthetic_data(temp_dir("refuse_data"), {3, 4, 16, 3});
  const std::string run = temp_dir("refuse");
  fs::create_directories(run);
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(tiny_options(data), run); }), "already exists"));
  TrainOptions o = tiny_options(data);
  o.batch = 0;
  EXPECT_THROW(Trainer::start(o, run, true), UsageError);
  if (!torch::cuda::is_available()) {
    o = tiny_options(data);
    o.device = "cuda";
    EXPECT_TRUE(contains(error_of([&] { Trainer::start(o, run, true); }), "CUDA"));
  }
  EXPECT_TRUE(contains(error_of([&] { Trainer::resume(temp_dir("nothing")); }), "config.json"));
  // A run stopped before its first checkpoint says how to start again.
  const std::string early = temp_dir("early");
  { Trainer started = Trainer::start(tiny_options(data), early); }
  const std::string e = error_of([&] { Trainer::resume(early); });
  EXPECT_TRUE(contains(e, "before its first checkpoint")) << e;
  EXPECT_TRUE(contains(e, "--force")) << e;
}

namespace {
// Removes this process's temporary folders at the end.
class RemoveTemporaries : public ::testing::Environment {
 public:
  void TearDown() override {
    fs::remove_all(fs::temp_directory_path() / ("harmonize_train_" + std::to_string(::getpid())));
  }
};
const auto* const remove_temporaries = ::testing::AddGlobalTestEnvironment(new RemoveTemporaries);
}  // namespace

// A spread model (DiffusionConfig::spread gaussian) whose network is a
// constant: every weight 0, the last convolution's biases giving an x0
// estimate of 0 (0.5 on [0, 1]) and a log variance of log(0.08^2) (sd 0.04 on
// [0, 1]). Apply draws each voxel from N(0.5, 0.04^2), seeded, independently
// across slices; its estimate alone is the constant; fusing three
// orientations keeps the sd (estimates and sds fused alike, one draw).
TEST(Sampling, ASpreadModelDrawsItsOutputAroundItsEstimate) {
  auto constant_model = [](const std::string& spread) {
    LoadedModel m;
    m.header.diffusion.prediction = "x0";
    m.header.diffusion.spread = spread;
    m.header.unet = unet_preset("tiny", m.header.diffusion);
    m.model = UNet(m.header.unet);
    torch::NoGradGuard no_grad;
    for (auto& p : m.model->parameters()) p.zero_();
    const auto params = m.model->named_parameters();
    const torch::Tensor* found = params.find("out.2.bias");  // the last convolution's
    EXPECT_NE(found, nullptr);
    if (!found) return m;
    auto bias = *found;
    if (spread == "gaussian") bias[2] = 2 * std::log(0.08);
    m.model->eval();
    return m;
  };
  const LoadedModel m = constant_model("gaussian");
  ASSERT_EQ(m.header.unet.out_channels, 3);
  torch::Generator g = at::detail::createCPUGenerator(3);
  const torch::Tensor source = torch::rand({8, 16, 16}, g);
  const std::vector<std::vector<std::uint8_t>> all{std::vector<std::uint8_t>(8, 1)};
  HarmonizeOptions o;
  o.sampling.sampler = Sampler::Ddim;
  o.sampling.steps = 1;
  o.sampling.spacing = StepSpacing::Trailing;
  o.seed = 11;
  const auto drawn = harmonize_stacks(m, {source}, all, o)[0];
  EXPECT_NEAR(drawn.mean().item<double>(), 0.5, 0.004);
  EXPECT_NEAR(drawn.std().item<double>(), 0.04, 0.004);
  EXPECT_TRUE(torch::equal(drawn, harmonize_stacks(m, {source}, all, o)[0]));  // seeded
  HarmonizeOptions other = o;
  other.seed = 12;
  EXPECT_FALSE(torch::equal(drawn, harmonize_stacks(m, {source}, all, other)[0]));
  // neighbouring slices' draws are independent (no stripes from the draw)
  const auto a = (drawn.narrow(0, 0, 7) - 0.5).flatten(), b = (drawn.narrow(0, 1, 7) - 0.5).flatten();
  EXPECT_LT(std::abs((a * b).mean().item<double>() / (a.std() * b.std()).item<double>()), 0.1);
  HarmonizeOptions estimate = o;
  estimate.draw_spread = false;
  EXPECT_LT((harmonize_stacks(m, {source}, all, estimate)[0] - 0.5).abs().max().item<double>(), 1e-6);
  // three orientations fused: the same distribution
  o.views = {View::Sagittal, View::Coronal, View::Axial};
  estimate.views = o.views;
  const torch::Tensor brain = torch::ones({8, 16, 16});
  const auto fused = harmonize_blocks(m, {source}, {brain}, o)[0];
  EXPECT_NEAR(fused.mean().item<double>(), 0.5, 0.004);
  EXPECT_NEAR(fused.std().item<double>(), 0.04, 0.004);
  EXPECT_LT((harmonize_blocks(m, {source}, {brain}, estimate)[0] - 0.5).abs().max().item<double>(), 1e-6);
  // a model without a spread returns its estimate whatever draw_spread says
  const LoadedModel plain = constant_model("none");
  EXPECT_EQ(plain.header.unet.out_channels, 2);
  EXPECT_LT((harmonize_blocks(plain, {source}, {brain}, o)[0] - 0.5).abs().max().item<double>(), 1e-6);
}

// 2.5D: a model trained with context slices carries them in its network's
// input (and its run's options), and apply gives each slice its neighbours:
// changing one source slice changes the outputs of that slice and of its
// neighbours, and no other. Bad combinations are refused before training.
TEST(Trainer, ContextSlicesTrainAModelWhoseOutputSeesTheNeighbours) {
  const std::string data = test::make_synthetic_data(temp_dir("context_data"), {4, 8, 16, 3});
  const std::string run = temp_dir("context_run");
  TrainOptions o = tiny_options(data);
  o.diffusion.prediction = "x0";
  o.orientations = {"sagittal", "coronal", "axial"};
  o.patch_size = 8;
  o.context_slices = 1;
  o.unet = o.resolved_unet();
  o.max_steps = 6;
  o.save_every = 6;
  { Trainer::start(o, run).run(); }
  LoadedModel m = load_model(run + "/model.pt");
  EXPECT_EQ(m.header.unet.in_channels, 4);
  EXPECT_EQ(context_slices(m.header.unet), 1);
  EXPECT_EQ(train_options_from_json(m.header.training).context_slices, 1);
  EXPECT_EQ(Trainer::resume(run).options().context_slices, 1);
  {
    // Weights far from their initial zeros, so that every input matters.
    torch::NoGradGuard no_grad;
    torch::Generator g = at::detail::createCPUGenerator(5);
    for (auto& p : m.model->parameters()) p.add_(0.05 * torch::randn(p.sizes(), g));
  }
  torch::Generator g = at::detail::createCPUGenerator(3);
  const torch::Tensor source = torch::rand({8, 16, 16}, g);
  torch::Tensor changed = source.clone();
  changed[4].mul_(0.5);
  const std::vector<std::vector<std::uint8_t>> all{std::vector<std::uint8_t>(8, 1)};
  HarmonizeOptions ho;
  ho.sampling.sampler = Sampler::Ddim;
  ho.sampling.steps = 1;
  ho.sampling.spacing = StepSpacing::Trailing;
  const torch::Tensor a = harmonize_stacks(m, {source}, all, ho)[0], b = harmonize_stacks(m, {changed}, all, ho)[0];
  for (int64_t k = 0; k < 8; ++k) {
    const double diff = (a[k] - b[k]).abs().max().item<double>();
    if (k >= 3 && k <= 5)
      EXPECT_GT(diff, 1e-4) << "slice " << k << " does not see slice 4";
    else
      EXPECT_LT(diff, 1e-6) << "slice " << k << " sees slice 4";
  }
  // The baselines see one slice; a network whose input does not fit the context is refused.
  TrainOptions reg = tiny_options(data);
  reg.objective = kRegressionObjective;
  reg.context_slices = 1;
  reg.unet = reg.resolved_unet();
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(reg, temp_dir("context_reg")); }), "diffusion objective only"));
  TrainOptions misfit = o;
  misfit.unet.in_channels = 2;
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(misfit, temp_dir("context_misfit")); }), "in_channels 4"));
}

// Training only at high noise (--min-train-timestep): the timesteps drawn lie
// in from..T-1 and cover it; the option is kept by the model and a resumed
// run; a value outside the process or on a baseline is refused.
TEST(Trainer, MinTrainTimestepDrawsOnlyHighNoiseAndIsKept) {
  const GaussianDiffusion d{DiffusionConfig{}};
  torch::Generator g = at::detail::createCPUGenerator(7);
  const torch::Tensor t = d.sample_timesteps(4000, g, 990);
  EXPECT_EQ(t.min().item<int64_t>(), 990);
  EXPECT_EQ(t.max().item<int64_t>(), 999);
  EXPECT_EQ(std::get<0>(at::_unique(t)).numel(), 10);
  EXPECT_GE(d.sample_timesteps(4000, g).min().item<int64_t>(), 0);
  EXPECT_LT(d.sample_timesteps(4000, g).min().item<int64_t>(), 10);  // the default: the whole process
  EXPECT_THROW(d.sample_timesteps(4, g, 1000), Error);
  EXPECT_THROW(d.sample_timesteps(4, g, -1), Error);

  const std::string data = test::make_synthetic_data(temp_dir("min_t_data"), {4, 8, 16, 3});
  const std::string run = temp_dir("min_t_run");
  TrainOptions o = tiny_options(data);
  o.diffusion.prediction = "x0";
  o.min_train_timestep = 900;
  o.max_steps = 4;
  o.save_every = 2;
  { Trainer::start(o, run).run(); }
  EXPECT_EQ(train_options_from_json(load_model(run + "/model.pt").header.training).min_train_timestep, 900);
  EXPECT_EQ(Trainer::resume(run).options().min_train_timestep, 900);
  TrainOptions beyond = o;
  beyond.min_train_timestep = 1000;
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(beyond, temp_dir("min_t_beyond")); }), "[0, 999]"));
  TrainOptions reg = tiny_options(data);
  reg.objective = kRegressionObjective;
  reg.min_train_timestep = 900;
  reg.unet = reg.resolved_unet();
  EXPECT_TRUE(contains(error_of([&] { Trainer::start(reg, temp_dir("min_t_reg")); }), "diffusion objective only"));
}

// The start-noise volume: each orientation's stacks hold the same N(0, 1)
// value at a voxel (so the fused stacks are the volume itself), one volume per
// block, fixed by the seed.
TEST(Harmonize, VolumeStartNoiseAgreesAcrossOrientations) {
  const std::vector<torch::Tensor> blocks{torch::zeros({21, 16, 24}), torch::zeros({9, 8, 8})};
  const std::vector<torch::Tensor> brains{torch::ones({21, 16, 24}), torch::ones({9, 8, 8})};
  const std::vector<View> views{View::Sagittal, View::Coronal, View::Axial};
  const auto sagittal = volume_start_noise(blocks, {View::Sagittal}, 8, 11);
  const auto all = volume_start_noise(blocks, views, 8, 11);
  ASSERT_EQ(sagittal.size(), 2u);
  ASSERT_EQ(all.size(), 6u);
  const auto fused = map_views_and_fuse(
      blocks, brains, views, 8, Fusion::Median,
      [&](const std::vector<torch::Tensor>&, const std::vector<std::vector<std::uint8_t>>&) { return all; });
  for (std::size_t b = 0; b < 2; ++b) {
    EXPECT_TRUE(torch::equal(fused[b], sagittal[b])) << "block " << b;
    EXPECT_TRUE(torch::equal(all[b], sagittal[b])) << "block " << b;
  }
  EXPECT_NEAR(sagittal[0].mean().item<double>(), 0.0, 0.1);
  EXPECT_NEAR(sagittal[0].std().item<double>(), 1.0, 0.1);
  EXPECT_FALSE(torch::equal(sagittal[0].narrow(0, 0, 9).narrow(1, 0, 8).narrow(2, 0, 8), sagittal[1]));
  EXPECT_TRUE(torch::equal(volume_start_noise(blocks, views, 8, 11)[3], all[3]));
  EXPECT_FALSE(torch::equal(volume_start_noise(blocks, views, 8, 12)[0], all[0]));
}

// A diffusion model's chains started from one noise volume: the three
// orientations, sampled one by one, agree far better than with noise drawn per
// slice (what a few-step chain keeps of its start is the same texture in each,
// so fusing keeps it); the output is fixed by the seed and stays near the
// per-slice one's distance to the target.
TEST(Harmonize, VolumeStartNoiseMakesOrientationsAgree) {
  const std::string data = test::make_synthetic_data(temp_dir("start_noise_data"), {4, 8, 16, 3});
  const std::string run = temp_dir("start_noise_run");
  TrainOptions o = tiny_options(data);
  o.orientations = {"sagittal", "coronal", "axial"};
  o.max_steps = 10;
  o.save_every = 10;
  { Trainer::start(o, run).run(); }
  const LoadedModel m = load_model(run + "/model.pt");
  ASSERT_FALSE(one_pass_objective(m.header.objective));
  const std::string held_out = Trainer::resume(run).options().validation_subjects.at(0);
  const auto paths = subject_slice_paths(data, o.direction, held_out);
  const Volume v = read_hvol<float>(paths.condition);
  const torch::Tensor source =
      torch::from_blob(const_cast<float*>(v.data.data()), {8, 16, 16}, torch::kFloat32).clone();
  const torch::Tensor brain = (source > 0).to(torch::kFloat32);
  const auto inside = brain > 0;
  HarmonizeOptions ho;
  ho.sampling.sampler = Sampler::Ddim;
  ho.sampling.steps = 4;
  auto disagreement = [&](StartNoise start) {
    ho.sampling.start_noise = start;
    std::vector<torch::Tensor> one;
    for (View view : {View::Sagittal, View::Coronal, View::Axial}) {
      ho.views = {view};
      one.push_back(harmonize_blocks(m, {source}, {brain}, ho)[0]);
    }
    return ((one[0] - one[1]).abs() + (one[0] - one[2]).abs()).masked_select(inside).mean().item<double>() / 2;
  };
  const double per_slice = disagreement(StartNoise::Slice), from_volume = disagreement(StartNoise::Volume);
  EXPECT_LT(from_volume, 0.5 * per_slice)
      << "mean |difference| between orientations: volume " << from_volume << ", per slice " << per_slice;
  ho.views = {View::Sagittal, View::Coronal, View::Axial};
  const torch::Tensor a = harmonize_blocks(m, {source}, {brain}, ho)[0];
  EXPECT_TRUE(torch::equal(a, harmonize_blocks(m, {source}, {brain}, ho)[0]));
  ho.seed = 2;
  EXPECT_FALSE(torch::equal(a, harmonize_blocks(m, {source}, {brain}, ho)[0]));
}
