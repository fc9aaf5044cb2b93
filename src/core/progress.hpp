#pragma once
// Progress of long work. Library code calls advance(); the reporter installed
// by the program decides how to show it (a terminal bar, nothing, a log line).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace harmonize {

struct ProgressState {
  std::string label;
  std::size_t done = 0;
  std::size_t total = 0;
  double elapsed_s = 0.0;
  std::string detail;  // e.g. "loss 0.012"
  bool finished = false;
};

using ProgressReporter = std::function<void(const ProgressState&)>;

// Sets the reporter used by every Progress created afterwards (default: none).
void set_progress_reporter(ProgressReporter reporter);
// A reporter drawing a bar with ETA on stderr (redrawn in place on a terminal,
// one line per 10% otherwise).
ProgressReporter terminal_progress_reporter();

class Progress {
 public:
  Progress(std::string label, std::size_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Thread-safe.
  void advance(std::size_t n = 1, const std::string& detail = {});
  void finish();

 private:
  ProgressState state_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  ProgressReporter reporter_;
};

}  // namespace harmonize
