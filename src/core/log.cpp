#include "core/log.hpp"

#include <cstdio>
#include <map>
#include <mutex>

namespace harmonize::log {
namespace {
std::mutex g_mutex;
Level g_verbosity = Level::Info;
std::map<int, Sink> g_sinks;
int g_next_id = 1;

const char* prefix(Level level) {
  switch (level) {
    case Level::Error:
      return "error: ";
    case Level::Warning:
      return "warning: ";
    default:
      return "";
  }
}
}  // namespace

void set_verbosity(Level v) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_verbosity = v;
}
Level verbosity() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_verbosity;
}
int add_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sinks[g_next_id] = std::move(sink);
  return g_next_id++;
}
void remove_sink(int id) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sinks.erase(id);
}
void write(Level level, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (static_cast<int>(level) <= static_cast<int>(g_verbosity)) {
    std::fprintf(stderr, "%s%s\n", prefix(level), message.c_str());
  }
  for (auto& [id, sink] : g_sinks) sink(level, message);
}

}  // namespace harmonize::log
