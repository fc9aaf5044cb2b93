#pragma once
// Runs the harmonize executable (HARMONIZE_BINARY) in the end-to-end tests.
#include <array>
#include <cstdio>
#include <string>

namespace harmonize::test {

struct CliResult {
  int status;
  std::string output;  // stdout and stderr
};

// Runs a shell command line; stdout and stderr together.
inline CliResult run_shell(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  CliResult r{0, {}};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), int(buf.size()), p)) r.output += buf.data();
  r.status = pclose(p);
  return r;
}

inline CliResult run_cli(const std::string& args) { return run_shell(std::string(HARMONIZE_BINARY) + " " + args); }

}  // namespace harmonize::test
