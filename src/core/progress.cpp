#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace harmonize {
namespace {
std::mutex g_reporter_mutex;
ProgressReporter g_reporter;

std::string format_seconds(double s) {
  char buf[32];
  long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}
}  // namespace

void set_progress_reporter(ProgressReporter reporter) {
  std::lock_guard<std::mutex> lock(g_reporter_mutex);
  g_reporter = std::move(reporter);
}

ProgressReporter terminal_progress_reporter() {
  const bool tty = isatty(fileno(stderr));
  auto last_decile = std::make_shared<long>(-1);
  return [tty, last_decile](const ProgressState& s) {
    const double frac = s.total ? static_cast<double>(s.done) / s.total : 1.0;
    const double eta = (s.done > 0 && s.done < s.total) ? s.elapsed_s / s.done * (s.total - s.done) : 0.0;
    if (tty) {
      const int width = 30;
      const int filled = static_cast<int>(frac * width);
      std::string bar(filled, '#');
      bar.resize(width, '.');
      std::fprintf(stderr, "\r%s [%s] %zu/%zu %s elapsed %s%s%s", s.label.c_str(), bar.c_str(), s.done, s.total,
                   s.finished ? "" : ("ETA " + format_seconds(eta)).c_str(), format_seconds(s.elapsed_s).c_str(),
                   s.detail.empty() ? "" : "  ", s.detail.c_str());
      std::fprintf(stderr, "\033[K%s", s.finished ? "\n" : "");
      std::fflush(stderr);
    } else {
      const long decile = static_cast<long>(frac * 10);
      // One line per new tenth; finishing prints only if the last line was not 100 %.
      if (decile != *last_decile) {
        *last_decile = decile;
        std::fprintf(stderr, "%s: %zu/%zu (%3.0f%%) elapsed %s%s%s\n", s.label.c_str(), s.done, s.total, frac * 100,
                     format_seconds(s.elapsed_s).c_str(), s.detail.empty() ? "" : "  ", s.detail.c_str());
      }
    }
  };
}

Progress::Progress(std::string label, std::size_t total) : start_(std::chrono::steady_clock::now()) {
  state_.label = std::move(label);
  state_.total = total;
  std::lock_guard<std::mutex> lock(g_reporter_mutex);
  reporter_ = g_reporter;
}

Progress::~Progress() {
  if (!state_.finished && state_.done >= state_.total) finish();
}

void Progress::advance(std::size_t n, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.done += n;
  if (!detail.empty()) state_.detail = detail;
  state_.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (reporter_) reporter_(state_);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_.finished) return;
  state_.finished = true;
  state_.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (reporter_) reporter_(state_);
}

}  // namespace harmonize
