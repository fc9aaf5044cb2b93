#include "cli/common.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/options.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "harmonize/version.hpp"
#if HARMONIZE_WITH_ITK
#include "io/itk_runtime.hpp"
#endif
#if HARMONIZE_WITH_TORCH
#include "harmonize/recipe.hpp"
#include "model/checkpoint.hpp"
#include "model/tensor.hpp"
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
}  // namespace

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
  route_itk_messages_to_log();
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
  v["model_format"] = kModelFormatVersion;
  v["model_recipe"] = kRecipeVersion;
#endif
  return v;
}

std::string version_text() {
  const nlohmann::json v = versions();
  std::string s = "harmonize " + v.at("harmonize").get<std::string>() + " (" + v.at("build_type").get<std::string>() +
                  ", " + v.at("compiler").get<std::string>() + ")\n";
  if (v.contains("libtorch")) s += "LibTorch " + v.at("libtorch").get<std::string>() + "\n";
  if (v.contains("itk")) s += "ITK " + v.at("itk").get<std::string>() + "\n";
  if (v.contains("model_format"))
    s += "model files: format " + v.at("model_format").dump() + ", recipe version " + v.at("model_recipe").dump() +
         " (a crossval model carries how its outputs are made; `apply` repeats it)\n";
  else
    s += "built without LibTorch: no model files\n";
  return s;
}

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) g_command_line += ' ';
    g_command_line += argv[i];
  }
}
std::string command_line() { return g_command_line; }

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
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0)
    record_["peak_memory_mib"] = double(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  write();
}

void RunRecord::write() { write_text_atomically(dir_ + "/" + name_ + ".json", record_.dump(2) + "\n"); }

}  // namespace harmonize::cli
