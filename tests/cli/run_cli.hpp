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

inline CliResult run_cli(const std::string& args) {
  const std::string cmd = std::string(HARMONIZE_BINARY) + " " + args + " 2>&1";
  CliResult r{0, {}};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), int(buf.size()), p)) r.output += buf.data();
  r.status = pclose(p);
  return r;
}

}  // namespace harmonize::test
