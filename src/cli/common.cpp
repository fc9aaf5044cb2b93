#include "cli/common.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "harmonize/version.hpp"
#if HARMONIZE_WITH_ITK
#include "io/nifti.hpp"
#endif
#if HARMONIZE_WITH_TORCH
#include "learn/tensor.hpp"
#endif

namespace harmonize::cli {
namespace {
std::string g_command_line;

std::string now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
// CLI11's NonNegativeNumber names the largest double in its message; this says "must be >= 0".
CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& in) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v) || !(v >= 0)) return "must be a number >= 0, not '" + in + "'";
        return {};
      },
      "NONNEGATIVE");
}
}  // namespace

void add_step_spacing_option(CLI::App* cmd, std::string& spacing) {
  cmd->add_option("--step-spacing", spacing,
                  "Timesteps kept by the respaced sampler: uniform (an even stride, the reference code's) or "
                  "quadratic (dense at low noise, where the target's fine texture is drawn)")
      ->check(CLI::IsMember({"uniform", "quadratic"}))
      ->capture_default_str();
}

void add_end_noise_option(CLI::App* cmd, std::string& end_noise) {
  cmd->add_option("--end-noise", end_noise,
                  "Noise level at which sampling ends: none (at x0, the paper's), auto (the target scanner's noise "
                  "sd, measured on the training targets and kept in the model file) or an sd on the [0,1] scale. "
                  "A briefly trained model returns noise-free slices; auto gives them the target's noise texture")
      ->check([](const std::string& in) -> std::string {
        if (in == "none" || in == "auto") return {};
        double v = 0;
        if (!CLI::detail::lexical_cast(in, v) || !(v >= 0 && v < 0.5))
          return "must be none, auto or a number in [0, 0.5), not '" + in + "'";
        return {};
      })
      ->capture_default_str();
}

CLI::Option* add_prediction_option(CLI::App* cmd, std::string& prediction) {
  return cmd
      ->add_option("--prediction", prediction,
                   "What the network predicts: eps (the noise, the paper's), x0 (the target slice; learns in far "
                   "fewer steps) or v (x0-like at high noise, eps-like at low noise, so the target's fine texture "
                   "is kept)")
      ->check(CLI::IsMember({"eps", "x0", "v"}))
      ->capture_default_str();
}

std::vector<CLI::Option*> add_lr_schedule_options(CLI::App* cmd, std::string& schedule, std::int64_t& warmup_steps,
                                                  double& grad_clip) {
  return {cmd->add_option("--lr-schedule", schedule, "constant (the paper's) or cosine (decays to 0 at the last step)")
              ->check(CLI::IsMember({"constant", "cosine"}))
              ->capture_default_str(),
          cmd->add_option("--warmup-steps", warmup_steps, "Linear learning-rate warm-up, steps")
              ->check(non_negative())
              ->capture_default_str(),
          cmd->add_option("--grad-clip", grad_clip, "Clip the gradients' global norm to this (0: off)")
              ->check(non_negative())
              ->capture_default_str()};
}

void add_templates_option(CLI::App* cmd, std::string& dir) {
  cmd->add_option("--templates", dir, "Folder with Colin27 ch2.nii.gz and ch2better.nii.gz (or ch2bet.nii.gz)")
      ->capture_default_str();
}

void add_global_options(CLI::App* cmd, GlobalOptions& g) {
  cmd->add_option("--threads", g.threads, "Worker threads for harmonize, ITK and LibTorch (default: all cores)")
      ->check(non_negative())
      ->group("Global");
  cmd->add_option("--seed", g.seed, "Seed of every random choice; same seed, same output")
      ->capture_default_str()
      ->group("Global");
  cmd->add_flag("-q,--quiet", g.quiet, "Print errors only, no progress")->group("Global");
  cmd->add_flag("-v,--verbose", g.verbose, "Print debugging detail")->group("Global");
  cmd->add_flag("-f,--force", g.force, "Overwrite existing outputs")->group("Global");
}

void apply_global_options(const GlobalOptions& g) {
  set_threads(g.threads);
  const int n = threads();
#if HARMONIZE_WITH_ITK
  set_itk_threads(n);
#endif
#if HARMONIZE_WITH_TORCH
  set_torch_threads(n);
#endif
  log::set_verbosity(g.quiet ? log::Level::Error : (g.verbose ? log::Level::Debug : log::Level::Info));
  if (!g.quiet) set_progress_reporter(terminal_progress_reporter());
}

nlohmann::json versions() {
  nlohmann::json v = {{"harmonize", kVersion}, {"build_type", kBuildType}, {"compiler", kCompiler}};
#if HARMONIZE_WITH_ITK
  v["itk"] = itk_version();
#endif
#if HARMONIZE_WITH_TORCH
  v["libtorch"] = torch_version();
#endif
  return v;
}

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) g_command_line += ' ';
    g_command_line += argv[i];
  }
}
std::string command_line() { return g_command_line; }

PartialFolder::PartialFolder(std::string out) : out_(std::move(out)), work_(out_ + ".partial") {
  std::filesystem::remove_all(work_);
  std::filesystem::create_directories(work_);
}

PartialFolder::~PartialFolder() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove_all(work_, ec);
}

void PartialFolder::commit() {
  std::filesystem::remove_all(out_);
  std::filesystem::rename(work_, out_);
  committed_ = true;
}

RunRecord::RunRecord(std::string dir, std::string name, nlohmann::json config, const GlobalOptions& g)
    : dir_(std::move(dir)), name_(std::move(name)) {
  record_ = {
      {"command", name_},     {"command_line", command_line()}, {"config", std::move(config)}, {"seed", g.seed},
      {"threads", threads()}, {"versions", versions()},         {"started", now_iso()},        {"status", "running"}};
  write();
  const std::string log_path = dir_ + "/" + name_ + ".log";
  log_ = std::fopen(log_path.c_str(), "a");
  if (log_) {
    std::FILE* f = log_;
    std::fprintf(f, "[%s] %s\n", now_iso().c_str(), command_line().c_str());
    sink_ = log::add_sink([f](log::Level level, const std::string& m) {
      static const char* names[] = {"error", "warning", "info", "debug"};
      std::fprintf(f, "[%s] %s: %s\n", now_iso().c_str(), names[int(level)], m.c_str());
      std::fflush(f);
    });
  }
}

RunRecord::~RunRecord() {
  if (sink_) log::remove_sink(sink_);
  if (log_) std::fclose(log_);
}

void RunRecord::set(const std::string& key, nlohmann::json value) { record_[key] = std::move(value); }

void RunRecord::finish() {
  record_["finished"] = now_iso();
  record_["status"] = "complete";
  write();
}

void RunRecord::write() { write_text_atomically(dir_ + "/" + name_ + ".json", record_.dump(2) + "\n"); }

}  // namespace harmonize::cli
