#pragma once
// Library code reports through these functions; the program decides where the
// messages go (terminal, a run's log file) through the sink.
#include <functional>
#include <string>

namespace harmonize::log {

enum class Level { Error = 0, Warning = 1, Info = 2, Debug = 3 };

using Sink = std::function<void(Level, const std::string&)>;

// Messages above `verbosity` are not shown on the terminal but still go to
// every extra sink (e.g. a log file).
void set_verbosity(Level verbosity);
Level verbosity();
// Adds a sink that receives every message regardless of verbosity; returns an id.
int add_sink(Sink sink);
void remove_sink(int id);

void write(Level level, const std::string& message);
inline void error(const std::string& m) { write(Level::Error, m); }
inline void warn(const std::string& m) { write(Level::Warning, m); }
inline void info(const std::string& m) { write(Level::Info, m); }
inline void debug(const std::string& m) { write(Level::Debug, m); }

}  // namespace harmonize::log
