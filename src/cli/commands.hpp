#pragma once
// Subcommand registration: each subcommand file defines one register_X().
#include <CLI/CLI.hpp>

namespace harmonize::cli {

#if HARMONIZE_WITH_ITK
void register_simulate(CLI::App& app);
void register_info(CLI::App& app);
void register_preprocess(CLI::App& app);
void register_segment(CLI::App& app);
void register_evaluate(CLI::App& app);
#endif
#if HARMONIZE_WITH_TORCH
void register_train(CLI::App& app);
#endif

#if HARMONIZE_WITH_ITK && HARMONIZE_WITH_TORCH
void register_apply(CLI::App& app);
void register_crossval(CLI::App& app);
void register_bids(CLI::App& app);
#endif

inline void register_commands(CLI::App& app) {
#if HARMONIZE_WITH_ITK
  register_simulate(app);
  register_preprocess(app);
  register_segment(app);
  register_evaluate(app);
  register_info(app);
#endif
#if HARMONIZE_WITH_TORCH
  register_train(app);
#endif
#if HARMONIZE_WITH_ITK && HARMONIZE_WITH_TORCH
  register_apply(app);
  register_crossval(app);
  register_bids(app);
#endif
  (void)app;
}

}  // namespace harmonize::cli
