#pragma once
// What every subcommand shares: the global options, their application, and
// the run record that makes a run reproducible from its output folder.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace harmonize::cli {

struct GlobalOptions {
  int threads = 0;  // 0: all cores
  std::uint64_t seed = 1;
  bool quiet = false;
  bool verbose = false;
  bool force = false;
};

// Adds --threads, --seed, --quiet, --verbose, --force to a subcommand.
void add_global_options(CLI::App* cmd, GlobalOptions& g);
// --templates: the folder with the Colin27 head and brain (brain masks by registration).
void add_templates_option(CLI::App* cmd, std::string& dir);
// --step-spacing uniform|quadratic (HarmonizeOptions::spacing), shared by apply and crossval.
void add_step_spacing_option(CLI::App* cmd, std::string& spacing);
// --end-noise none|auto|SD (resolve_end_noise in train/apply.hpp), shared by apply and crossval.
void add_end_noise_option(CLI::App* cmd, std::string& end_noise);
// --prediction eps|x0|v (DiffusionConfig::prediction), shared by train and crossval.
CLI::Option* add_prediction_option(CLI::App* cmd, std::string& prediction);
// --lr-schedule, --warmup-steps and --grad-clip (TrainOptions), shared by train and crossval.
std::vector<CLI::Option*> add_lr_schedule_options(CLI::App* cmd, std::string& schedule, std::int64_t& warmup_steps,
                                                  double& grad_clip);
// Sets harmonize's, ITK's and LibTorch's thread counts, verbosity and progress display.
void apply_global_options(const GlobalOptions& g);

// Versions of harmonize and of the libraries built in.
nlohmann::json versions();

// The command line as typed (for run records).
void set_command_line(int argc, char** argv);
std::string command_line();

// An output folder built under "<out>.partial" and renamed onto <out> by
// commit(); if the run fails before that, the partial folder is removed, so a
// failure leaves neither a half-written <out> nor debris.
class PartialFolder {
 public:
  explicit PartialFolder(std::string out);
  ~PartialFolder();
  PartialFolder(const PartialFolder&) = delete;
  PartialFolder& operator=(const PartialFolder&) = delete;
  const std::string& path() const { return work_; }
  void commit();  // replaces an existing <out>

 private:
  std::string out_, work_;
  bool committed_ = false;
};

// Writes <dir>/<name>.json (command line, resolved configuration, seed,
// versions, start/end time, status) and tees the log into <dir>/<name>.log
// while it lives. finish() marks the run complete.
class RunRecord {
 public:
  RunRecord(std::string dir, std::string name, nlohmann::json config, const GlobalOptions& g);
  ~RunRecord();
  RunRecord(const RunRecord&) = delete;
  RunRecord& operator=(const RunRecord&) = delete;
  void set(const std::string& key, nlohmann::json value);
  void finish();

 private:
  void write();
  std::string dir_, name_;
  nlohmann::json record_;
  int sink_ = 0;
  std::FILE* log_ = nullptr;
};

}  // namespace harmonize::cli
