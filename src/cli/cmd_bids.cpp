// harmonize bids: the BIDS-Apps call.
//   harmonize bids BIDS_DIR OUT_DIR participant --model M [--participant-label ..] [--session ..]
//     every T1w of the chosen participants and sessions harmonized with the
//     model's recipe into OUT_DIR, a BIDS derivatives dataset; a participant
//     whose outputs all exist is skipped, so a killed run continues.
//   harmonize bids BIDS_DIR OUT_DIR group
//     the cohort's QC table and report of what participant runs wrote.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "bids/layout.hpp"
#include "bids/qc.hpp"
#include "bids/slurm.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "evaluate/stripes.hpp"
#include "harmonize/recipe.hpp"
#include "harmonize/scan.hpp"
#include "harmonize/version.hpp"
#include "io/nifti.hpp"
#include "model/tensor.hpp"
#include "simulate/preview.hpp"

namespace fs = std::filesystem;

namespace harmonize::cli {
namespace {

constexpr const char* kHarmonized = "harmonized";  // desc- of the outputs

std::string absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

// The files one scan leaves in the derivatives dataset.
struct ScanOutputs {
  std::string image, image_json, mask, mask_json;
  explicit ScanOutputs(const bids::ScanFile& s, const std::string& out)
      : image(s.derivative(out, "T1w", {.desc = kHarmonized}, ".nii.gz")),
        image_json(s.derivative(out, "T1w", {.desc = kHarmonized}, ".json")),
        mask(s.derivative(out, "mask", {.desc = "brain"}, ".nii.gz")),
        mask_json(s.derivative(out, "mask", {.desc = "brain"}, ".json")) {}
  std::vector<std::string> all() const { return {image, image_json, mask, mask_json}; }
  bool done() const {
    const auto files = all();
    return std::all_of(files.begin(), files.end(), [](const std::string& f) { return fs::exists(f); });
  }
};

// A stable 64-bit hash of a name: a scan's seed does not depend on which
// other scans share the call.
std::uint64_t name_hash(const std::string& s) { return fnv1a(s.data(), s.size()); }

void require_raw_dataset(const std::string& bids_dir) {
  if (!fs::is_directory(bids_dir)) throw InputError(bids_dir, "BIDS dataset folder does not exist");
  if (!fs::exists(bids_dir + "/dataset_description.json"))
    throw InputError(bids_dir, "not a BIDS dataset (no dataset_description.json)");
}

// OUT_DIR's dataset_description.json: written if absent, else it must be one
// harmonize bids wrote (another tool's dataset is not written into).
void prepare_derivatives(const std::string& out, const std::string& bids_dir) {
  const std::string desc = out + "/dataset_description.json";
  if (fs::exists(desc)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(desc));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(desc, std::string("not valid JSON: ") + e.what());
    }
    const bool ours = j.value("DatasetType", "") == "derivative" && j.contains("GeneratedBy") &&
                      j["GeneratedBy"].is_array() && !j["GeneratedBy"].empty() &&
                      j["GeneratedBy"][0].value("Name", "") == "harmonize";
    if (!ours)
      throw OutputError(out,
                        "holds a dataset that harmonize bids did not write (see its dataset_description.json); "
                        "choose another OUT_DIR");
    return;
  }
  if (fs::exists(out) && !fs::is_empty(out))
    throw OutputError(out,
                      "exists and is not a harmonize derivatives dataset (no dataset_description.json); "
                      "choose a new or empty OUT_DIR");
  fs::create_directories(out);
  const std::string source = "file://" + absolute(bids_dir);
  const nlohmann::json d = {
      {"Name", "harmonize: T1w scans harmonized across scanners"},
      {"BIDSVersion", "1.8.0"},
      {"DatasetType", "derivative"},
      {"GeneratedBy",
       {{{"Name", "harmonize"},
         {"Version", kVersion},
         {"Description", "conditional diffusion model contrast harmonization; command: " + command_line()}}}},
      {"SourceDatasets", {{{"URL", source}}}},
      {"DatasetLinks", {{"raw", source}}}};
  write_text_atomically(desc, d.dump(2) + "\n");
  if (!fs::exists(out + "/README"))
    write_text_atomically(
        out + "/README",
        "T1w scans of " + absolute(bids_dir) +
            " rewritten in another scanner's contrast by harmonize (`harmonize bids ... participant`).\n"
            "Per scan: *_desc-harmonized_T1w.nii.gz on the input's grid with a JSON sidecar (model, "
            "recipe, seed, sources) and the brain mask used, *_desc-brain_mask.nii.gz.\n"
            "`harmonize bids ... group` writes group/qc.tsv and group/report.html.\n");
}

// ScanOptions from the model's recipe (none: apply's defaults, with a warning).
ScanOptions options_from_recipe(const LoadedModel& model, const std::string& model_path, int batch,
                                std::optional<std::uint64_t> seed, const PreprocessOptions& prep,
                                nlohmann::json& recipe_used) {
  ScanOptions s;
  if (!model.header.recipe.empty()) {
    const Recipe r = recipe_from_json(model.header.recipe, model_path);
    s.harmonize.sampling = r.sampling;
    s.harmonize.seed = r.seed;
    s.harmonize.views = parse_views(r.orientations);
    s.harmonize.fusion = parse_fusion(r.fusion);
    s.correction.map = r.map;
    s.correction.end_noise_sd = r.end_noise_sd;
    recipe_used = model.header.recipe;
    log::info("model recipe (" + r.made_by + "): " + describe(r, model.header.objective));
  } else {
    log::warn(model_path + ": the model carries no recipe; sampling with apply's defaults (ddpm, " +
              std::to_string(s.harmonize.sampling.steps) + " steps, no end noise)");
    s.harmonize.views = parse_views(trained_orientations(model.header));
  }
  if (batch > 0) s.harmonize.sampling.batch = batch;
  if (seed) {
    s.harmonize.seed = *seed;
    log::info("--seed " + std::to_string(*seed) + " given: it replaces the recipe's sampling seed");
  }
  s.harmonize.sampling.validate(model.header.diffusion.steps);
  s.prep = preprocessing_of(model.header, prep, model_path);
  return s;
}

struct ParticipantOptions {
  std::string bids_dir, out, model, masks, device;
  std::vector<std::string> participants, sessions;
  int batch = 0;
  std::optional<std::uint64_t> seed;  // --seed given: overrides the recipe's
  PreprocessOptions prep;
};

// Resources of each task of a Slurm job array (--slurm).
struct SlurmOptions {
  bool write = false;
  int cpus = 2;
  std::string mem = "6G", time = "01:00:00", partition;
};

// OUT_DIR/code/slurm: participants.txt (one label per line), participant.sbatch
// (a job array, task i = line i), group.sbatch and submit.sh (sbatch the
// array, then the group job after it; without sbatch, the same scripts one
// after another here).
void write_slurm(const ParticipantOptions& o, const SlurmOptions& so) {
  require_raw_dataset(o.bids_dir);
  if (o.model.empty()) throw UsageError("--slurm writes participant jobs: give --model");
  if (!fs::exists(o.model)) throw InputError(o.model, "model file does not exist");
  std::vector<std::string> labels;
  for (const auto& scan : bids::t1w_scans(o.bids_dir, o.participants, o.sessions))
    if (labels.empty() || labels.back() != scan.sub) labels.push_back(scan.sub);
  if (labels.empty()) throw InputError(o.bids_dir, "holds no *_T1w.nii[.gz] of the chosen participants and sessions");
  prepare_derivatives(o.out, o.bids_dir);
  const std::string dir = absolute(o.out) + "/code/slurm";
  fs::create_directories(dir + "/logs");
  const std::string exe = bids::shell_quoted(fs::read_symlink("/proc/self/exe").string());
  const std::string common =
      " bids " + bids::shell_quoted(absolute(o.bids_dir)) + " " + bids::shell_quoted(absolute(o.out));
  bids::SlurmRequest req;
  req.dir = dir;
  req.participants = labels;
  req.participant_command = exe + common + " participant --model " + bids::shell_quoted(absolute(o.model));
  for (const auto& s : o.sessions) req.participant_command += " --session " + bids::shell_quoted(s);
  if (!o.masks.empty()) req.participant_command += " --masks " + bids::shell_quoted(absolute(o.masks));
  if (o.batch > 0) req.participant_command += " --batch " + std::to_string(o.batch);
  if (o.device != "cpu") req.participant_command += " --device " + o.device;
  if (o.seed) req.participant_command += " --seed " + std::to_string(*o.seed);
  req.participant_command += " --templates " + bids::shell_quoted(absolute(o.prep.template_dir));
  req.group_command = exe + common + " group";
  req.cpus = so.cpus;
  req.mem = so.mem;
  req.time = so.time;
  req.partition = so.partition;
  req.written_by = command_line();
  const bids::SlurmScripts scripts = bids::slurm_scripts(req);
  write_text_atomically(dir + "/participants.txt", scripts.participants);
  write_text_atomically(dir + "/participant.sbatch", scripts.participant);
  write_text_atomically(dir + "/group.sbatch", scripts.group);
  write_text_atomically(dir + "/submit.sh", scripts.submit);
  for (const char* f : {"/participant.sbatch", "/group.sbatch", "/submit.sh"})
    fs::permissions(dir + f, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  std::printf(
      "Slurm jobs for %zu participants in %s:\n  participant.sbatch (array 1-%zu, %d CPUs, %s, %s per task)\n"
      "  group.sbatch (after the array)\nsubmit: bash %s/submit.sh\n",
      labels.size(), dir.c_str(), labels.size(), so.cpus, so.mem.c_str(), so.time.c_str(), dir.c_str());
}

void run_participant(const ParticipantOptions& o, const GlobalOptions& g) {
  require_raw_dataset(o.bids_dir);
  if (o.model.empty()) throw UsageError("participant level needs --model (a model.pt from train or crossval)");
  const auto present = bids::subjects(o.bids_dir);
  for (const auto& p : o.participants)
    if (std::find(present.begin(), present.end(), bids::with_prefix("sub-", p)) == present.end())
      throw UsageError("--participant-label " + p + ": no folder " + bids::with_prefix("sub-", p) + " in " +
                       o.bids_dir);
  const auto scans = bids::t1w_scans(o.bids_dir, o.participants, o.sessions);
  if (scans.empty()) throw InputError(o.bids_dir, "holds no *_T1w.nii[.gz] of the chosen participants and sessions");
  if (!o.masks.empty() && !fs::is_directory(o.masks)) throw InputError(o.masks, "mask dataset folder does not exist");

  const torch::Device device = device_from_name(o.device);
  const LoadedModel model = load_model(o.model, device);
  log::info("model " + o.model + ": " + model.header.direction + ", step " + std::to_string(model.header.step));
  nlohmann::json recipe = nullptr;
  ScanOptions s = options_from_recipe(model, o.model, o.batch, o.seed, o.prep, recipe);
  s.harmonize.device = device;

  prepare_derivatives(o.out, o.bids_dir);
  fs::create_directories(o.out + "/code");
  std::string record_name = "harmonize_bids_participant";
  for (const auto& p : o.participants) record_name += "_" + bids::with_prefix("sub-", p);
  RunRecord record(o.out + "/code", record_name,
                   {{"bids_dir", absolute(o.bids_dir)},
                    {"out_dir", absolute(o.out)},
                    {"model", absolute(o.model)},
                    {"participants", o.participants},
                    {"sessions", o.sessions},
                    {"masks", o.masks},
                    {"recipe", recipe},
                    {"sampling", s.harmonize.sampling}},
                   g);

  // A participant is skipped when every output of every scan of it exists
  // (each file is written atomically, so an existing one is complete).
  std::map<std::string, std::vector<const bids::ScanFile*>> by_participant;
  for (const auto& scan : scans) by_participant[scan.sub].push_back(&scan);
  std::vector<const bids::ScanFile*> todo;
  std::vector<std::string> skipped;
  for (const auto& [sub, list] : by_participant) {
    const bool done =
        std::all_of(list.begin(), list.end(), [&](const bids::ScanFile* f) { return ScanOutputs(*f, o.out).done(); });
    if (done) {
      skipped.push_back(sub);
      log::info(sub + ": done already (all outputs exist), skipped");
      continue;
    }
    for (const auto* f : list)  // a scan whose outputs all exist is kept
      if (!ScanOutputs(*f, o.out).done()) todo.push_back(f);
  }
  for (const auto* scan : todo)
    for (const auto& f : ScanOutputs(*scan, o.out).all()) check_output_path(f, true);

  std::unique_ptr<BrainTemplate> tmpl;
  if (o.masks.empty() && !todo.empty())
    tmpl = std::make_unique<BrainTemplate>(BrainTemplate::load(o.prep.template_dir));
  Progress progress("bids", todo.size());
  nlohmann::json written = nlohmann::json::array();
  for (const auto* scan : todo) {
    const std::string in = scan->path(o.bids_dir), raw_uri = "bids:raw:" + scan->relative();
    const ScanOutputs outs(*scan, o.out);
    ScanInput input{in, read_nifti(in), std::nullopt};
    std::string mask_source = "Colin27 template registered to the scan";
    if (!o.masks.empty()) {
      const std::string m = scan->derivative(o.masks, "mask", {.desc = "brain"}, ".nii.gz");
      if (!fs::exists(m)) throw InputError(m, "brain mask of " + in + " missing from --masks " + o.masks);
      input.brain = read_nifti_mask(m);
      if (const std::string why = grid_mismatch(input.brain->geom, input.image.geom); !why.empty())
        throw InputError(m, "the brain mask is not on the grid of " + in + " (" + why + ")");
      mask_source = "given: " + absolute(m);
    }
    ScanOptions one = s;
    one.harmonize.seed = derive_seed(s.harmonize.seed, name_hash(scan->relative()));
    const auto sampled = sample_scans(model, {input}, tmpl.get(), one);
    const std::uint64_t noise_seed = output_noise_seed(one.harmonize.seed, sampled[0].key);
    const Volume result = finish_scan(sampled[0], one.correction, noise_seed);

    write_nifti(outs.mask, sampled[0].prepared.input_brain);
    write_text_atomically(
        outs.mask_json,
        nlohmann::json{{"Type", "Brain"}, {"Sources", {raw_uri}}, {"Description", "brain mask used: " + mask_source}}
                .dump(2) +
            "\n");
    write_nifti(outs.image, result);
    const nlohmann::json sidecar = {
        {"Description", "T1w rewritten in the " + model.header.direction + " target scanner's contrast by harmonize"},
        {"Sources", {raw_uri, "bids::" + fs::relative(outs.mask, o.out).string()}},
        {"Model", absolute(o.model)},
        {"Direction", model.header.direction},
        {"TrainingSteps", model.header.step},
        {"Recipe", recipe},
        {"Sampling", one.harmonize.sampling},
        {"EndNoise", one.correction.end_noise_sd},
        {"QuantileMap", one.correction.map.has_value()},
        {"Seed", one.harmonize.seed},
        {"CommandLine", command_line()},
        {"Versions", versions()}};
    write_text_atomically(outs.image_json, sidecar.dump(2) + "\n");
    written.push_back(fs::relative(outs.image, o.out).string());
    progress.advance(1, scan->sub + (scan->ses.empty() ? "" : " " + scan->ses));
  }
  progress.finish();
  record.set("written", written);
  record.set("skipped_participants", skipped);
  record.finish();
  std::printf("%zu scan(s) harmonized into %s; %zu participant(s) done before, skipped\n", todo.size(), o.out.c_str(),
              skipped.size());
}

void run_group(const std::string& bids_dir, const std::string& out, const GlobalOptions& g) {
  require_raw_dataset(bids_dir);
  if (!fs::exists(out + "/dataset_description.json"))
    throw InputError(out, "no derivatives here (no dataset_description.json): run the participant level first");
  prepare_derivatives(out, bids_dir);  // checks that harmonize wrote it
  // The harmonized scans are the *_desc-harmonized_T1w files of OUT_DIR.
  std::vector<bids::ScanFile> scans;
  const std::string tail = std::string("_desc-") + kHarmonized;
  for (auto s : bids::t1w_scans(out))
    if (s.stem.ends_with(tail)) {
      s.stem.resize(s.stem.size() - tail.size());
      scans.push_back(s);
    }
  if (scans.empty()) throw InputError(out, "holds no *_desc-harmonized_T1w.nii.gz: run the participant level first");
  fs::create_directories(out + "/group/figures");
  RunRecord record(out + "/code", "harmonize_bids_group",
                   {{"bids_dir", absolute(bids_dir)}, {"out_dir", absolute(out)}}, g);

  struct Row {
    std::string sub, ses, file, figure;
    double brain_ml = 0, mean = 0, sd = 0, p01 = 0, p99 = 0, stripes_out = 0, stripes_in = 0;
  };
  std::vector<Row> rows;
  Progress progress("group", scans.size());
  for (const auto& s : scans) {
    const ScanOutputs outs(s, out);
    const Volume h = read_nifti(outs.image), raw = read_nifti(s.path(bids_dir));
    const Mask m = read_nifti_mask(outs.mask);
    if (const std::string why = grid_mismatch(m.geom, h.geom); !why.empty())
      throw InputError(outs.mask, "not on the grid of " + outs.image + " (" + why + ")");
    Row r{s.sub, s.ses, fs::relative(outs.image, out).string(), "figures/" + s.stem + ".png"};
    std::vector<float> v;
    for (std::size_t n = 0; n < m.data.size(); ++n)
      if (m.data[n]) v.push_back(h.data[n]);
    const double voxel_ml = m.geom.spacing[0] * m.geom.spacing[1] * m.geom.spacing[2] / 1000.0;
    r.brain_ml = double(v.size()) * voxel_ml;
    if (!v.empty()) {
      double sum = 0, sq = 0;
      for (float x : v) sum += x, sq += double(x) * x;
      r.mean = sum / double(v.size());
      r.sd = std::sqrt(std::max(0.0, sq / double(v.size()) - r.mean * r.mean));
      std::sort(v.begin(), v.end());
      r.p01 = v[std::size_t(0.01 * double(v.size() - 1))];
      r.p99 = v[std::size_t(0.99 * double(v.size() - 1))];
    }
    const int axis = left_right_axis(h.geom);
    r.stripes_out = stripe_index(h, m, axis);
    r.stripes_in = grid_mismatch(raw.geom, h.geom).empty() ? stripe_index(raw, m, axis) : std::nan("");
    write_png(out + "/group/" + r.figure,
              preview_figure({{&raw, "input"}, {&h, "harmonized"}}, s.sub + (s.ses.empty() ? "" : " " + s.ses)));
    rows.push_back(r);
    progress.advance(1, s.sub);
  }
  progress.finish();

  std::vector<double> vol, mean;
  for (const auto& r : rows) vol.push_back(r.brain_ml), mean.push_back(r.mean);
  const auto zv = bids::robust_z(vol), zm = bids::robust_z(mean);
  const auto odd_volume = bids::outliers(vol, 0.10), odd_mean = bids::outliers(mean, 0.05);
  std::string tsv =
      "participant_id\tsession_id\tfile\tbrain_ml\tmean\tsd\tp01\tp99\tstripe_index_input\tstripe_index_harmonized\t"
      "z_brain_ml\tz_mean\tflag\n";
  std::string table;
  std::size_t flagged = 0;
  char buf[512];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::string flag;
    if (odd_volume[i]) flag += "brain volume;";
    if (odd_mean[i]) flag += "intensity;";
    if (!flag.empty()) flag.pop_back(), ++flagged;
    std::snprintf(buf, sizeof buf, "%s\t%s\t%s\t%.1f\t%.4f\t%.4f\t%.4f\t%.4f\t%.3f\t%.3f\t%.2f\t%.2f\t%s\n",
                  r.sub.c_str(), r.ses.empty() ? "n/a" : r.ses.c_str(), r.file.c_str(), r.brain_ml, r.mean, r.sd, r.p01,
                  r.p99, r.stripes_in, r.stripes_out, zv[i], zm[i], flag.empty() ? "ok" : flag.c_str());
    tsv += buf;
    std::snprintf(buf, sizeof buf,
                  "<tr%s><td>%s</td><td>%s</td><td>%.1f</td><td>%.3f</td><td>%.3f</td><td>%.2f</td><td>%.2f</td>"
                  "<td>%s</td></tr>\n<tr><td colspan=8><img src=\"%s\" alt=\"%s\"></td></tr>\n",
                  flag.empty() ? "" : " class=flag", r.sub.c_str(), r.ses.empty() ? "" : r.ses.c_str(), r.brain_ml,
                  r.mean, r.sd, r.stripes_in, r.stripes_out, flag.empty() ? "ok" : flag.c_str(), r.figure.c_str(),
                  r.file.c_str());
    table += buf;
  }
  write_text_atomically(out + "/group/qc.tsv", tsv);
  const std::string html =
      "<!doctype html><html><head><meta charset=utf-8><title>harmonize QC</title><style>body{font-family:sans-serif}"
      "td,th{padding:2px 8px;text-align:right}tr.flag td{background:#fdd}</style></head><body>\n"
      "<h1>harmonize: QC of " +
      std::to_string(rows.size()) + " harmonized scans</h1>\n<p>Dataset " + absolute(bids_dir) + " &rarr; " +
      absolute(out) + ". " + std::to_string(flagged) +
      " scan(s) flagged: brain-mask volume more than 10 % or mean harmonized intensity more than 5 % from the "
      "cohort's median, and either more than 3.5 robust standard deviations (1.4826 MAD) from it (columns z). "
      "Stripe index: slice-to-slice "
      "inconsistency along left-right (about 1 for an isotropic image; docs/METRICS.md), of the input and of the "
      "harmonized scan inside the brain mask.</p>\n<table><tr><th>participant</th><th>session</th><th>brain "
      "mL</th><th>mean</th><th>sd</th><th>stripes in</th><th>stripes out</th><th>flag</th></tr>\n" +
      table + "</table></body></html>\n";
  write_text_atomically(out + "/group/report.html", html);
  record.set("scans", rows.size());
  record.set("flagged", flagged);
  record.finish();
  std::printf("QC of %zu harmonized scan(s): %s/group/qc.tsv, %s/group/report.html (%zu flagged)\n", rows.size(),
              out.c_str(), out.c_str(), flagged);
}

}  // namespace

void register_bids(CLI::App& app) {
  struct Options {
    GlobalOptions global;
    ParticipantOptions p;
    SlurmOptions slurm;
    std::string level;
  };
  auto opt = std::make_shared<Options>();
  ParticipantOptions& p = opt->p;
  p.device = "cpu";
  CLI::App* cmd = app.add_subcommand(
      "bids",
      "The BIDS-Apps call. participant: harmonize every T1w of the chosen participants and sessions with the\n"
      "model's recipe into OUT_DIR, a BIDS derivatives dataset (*_desc-harmonized_T1w.nii.gz on the input's grid,\n"
      "a JSON sidecar, the brain mask used); participants already done are skipped. group: a QC table and report\n"
      "(group/qc.tsv, group/report.html) of the harmonized scans.");
  cmd->add_option("bids_dir", p.bids_dir, "The raw BIDS dataset")->required();
  cmd->add_option("output_dir", p.out, "The derivatives dataset (created; e.g. BIDS_DIR/derivatives/harmonize)")
      ->required();
  cmd->add_option("analysis_level", opt->level, "participant or group")
      ->required()
      ->check(CLI::IsMember({"participant", "group"}));
  cmd->add_option("--model", p.model, "model.pt from harmonize train or crossval (participant level)");
  cmd->add_option("--participant-label", p.participants,
                  "Participants to process (with or without 'sub-'; default all)");
  cmd->add_option("--session", p.sessions, "Sessions to process (with or without 'ses-'; default all)");
  cmd->add_option("--masks", p.masks,
                  "A derivatives dataset holding each scan's brain mask as <sub>[_<ses>]_desc-brain_mask.nii.gz "
                  "(default: the Colin27 template registered to each scan)");
  cmd->add_option("--batch", p.batch, "Slices per network call (default: the model's recipe)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--device", p.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  add_templates_option(cmd, p.prep.template_dir);
  const std::string slurm_group = "Slurm (participant level: write a job array instead of running)";
  cmd->add_flag("--slurm", opt->slurm.write,
                "Write OUT_DIR/code/slurm/: participant.sbatch (a job array, one task per participant), group.sbatch "
                "and submit.sh (submits both, the group job after the array; without sbatch it runs them here)")
      ->group(slurm_group);
  cmd->add_option("--slurm-cpus", opt->slurm.cpus, "CPUs per task")->capture_default_str()->group(slurm_group);
  cmd->add_option("--slurm-mem", opt->slurm.mem, "Memory per task")->capture_default_str()->group(slurm_group);
  cmd->add_option("--slurm-time", opt->slurm.time, "Time limit per task")->capture_default_str()->group(slurm_group);
  cmd->add_option("--slurm-partition", opt->slurm.partition, "Partition (default: the cluster's)")->group(slurm_group);
  add_global_options(cmd, opt->global);
  cmd->callback([opt, cmd] {
    apply_global_options(opt->global);
    if (cmd->get_option("--seed")->count() > 0) opt->p.seed = opt->global.seed;
    if (opt->level == "group") {
      if (!opt->p.model.empty() || !opt->p.participants.empty() || !opt->p.sessions.empty() || opt->slurm.write)
        throw UsageError("the group level takes no --model, --participant-label, --session or --slurm");
      run_group(opt->p.bids_dir, opt->p.out, opt->global);
    } else if (opt->slurm.write) {
      write_slurm(opt->p, opt->slurm);
    } else {
      run_participant(opt->p, opt->global);
    }
  });
}

}  // namespace harmonize::cli
