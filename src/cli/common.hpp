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
// Sets harmonize's, ITK's and LibTorch's thread counts, verbosity and progress display.
void apply_global_options(const GlobalOptions& g);

// Versions of harmonize and of the libraries built in.
nlohmann::json versions();
// What `harmonize --version` prints: the version and build, the libraries'
// versions, and the model file format and recipe version this build reads.
std::string version_text();

// The command line as typed (for run records).
void set_command_line(int argc, char** argv);
std::string command_line();

// Writes <dir>/<name>.json (command line, resolved configuration, seed,
// versions, start/end time, status) and tees the log into <dir>/<name>.log
// while it lives. finish() marks the run complete and records the process's
// peak resident memory (peak_memory_mib).
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
