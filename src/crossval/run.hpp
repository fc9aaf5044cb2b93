#pragma once
// A whole cross-validation (the paper's experiment) in one folder: the plan is
// written first (or, on a rerun, must equal the one there), then the stages of
// crossval/stages.hpp run in order, each skipping what is done.
#include <nlohmann/json.hpp>
#include <string>

#include "crossval/plan.hpp"

namespace harmonize {

struct CrossvalContext {
  std::string out;             // the run folder (absolute)
  std::string device = "cpu";  // not part of the plan: a run may move between machines
  nlohmann::json versions;     // recorded with the preprocessed data
};

// The checks that need no work: the plan, the BIDS folder, enough subjects
// with both sessions for the folds, a well-formed participants.tsv. Throws
// before anything is written (the command calls it before its run record).
void check_crossval_inputs(const CrossvalPlan& plan);

// Throws UsageError when `out` holds another plan, InputError for unusable data.
void run_crossval(const CrossvalPlan& plan, const CrossvalContext& ctx);

}  // namespace harmonize
