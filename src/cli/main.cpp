// harmonize: contrast harmonization of brain MRI across scanners with a
// conditional diffusion model. Dispatch only; each subcommand is its own file.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <limits>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "harmonize/version.hpp"

int main(int argc, char** argv) {
  // LibTorch frees and reallocates its large activation buffers at every
  // network call. glibc returns blocks above its mmap threshold (at most 32 MB)
  // to the kernel on free, so every call faulted in and zeroed them again:
  // sampling 192x192 slices spent more time in the kernel than in the network
  // (apply, 1 mm, three orientations, 1 step: 69 s, 61 s of it system time).
  // Kept in the heap instead: 26 s, peak memory 1.3 -> 1.9 GiB.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  harmonize::cli::set_command_line(argc, argv);
  CLI::App app{
      "harmonize: contrast harmonization of brain MRI across scanners (1.5 T <-> 3 T MPRAGE)\n"
      "with a conditional diffusion model (Durrer et al., MIDL 2023)."};
  app.set_version_flag("--version", harmonize::cli::version_text());
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  harmonize::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const harmonize::Error& e) {
    harmonize::log::error(e.what());
    return 1;
  } catch (const std::exception& e) {
    harmonize::log::error(std::string("unexpected failure: ") + e.what());
    return 2;
  }
  return 0;
}
