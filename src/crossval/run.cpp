#include "crossval/run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "bids/layout.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/parallel.hpp"
#include "crossval/folds.hpp"
#include "crossval/stages.hpp"

namespace fs = std::filesystem;

namespace harmonize {

void check_crossval_inputs(const CrossvalPlan& plan) {
  plan.validate();
  if (!fs::is_directory(plan.bids)) throw InputError(plan.bids, "BIDS folder does not exist");
  const auto subjects = bids::paired_subjects(plan.bids, plan.source_session, plan.target_session);
  if (subjects.size() < std::size_t(plan.folds))
    throw InputError(plan.bids, "has " + std::to_string(subjects.size()) + " subjects with both sessions; " +
                                    std::to_string(plan.folds) + " folds need at least as many");
  read_participant_groups(plan.bids + "/participants.tsv");  // refuses a malformed file
}

void run_crossval(const CrossvalPlan& plan, const CrossvalContext& ctx) {
  const auto t_start = std::chrono::steady_clock::now();
  plan.validate();
  CrossvalRun r;
  r.plan = plan;
  r.layout = CrossvalLayout{ctx.out, plan.target_session};
  r.device = ctx.device;
  r.versions = ctx.versions;
  const CrossvalLayout& L = r.layout;
  if (!fs::is_directory(plan.bids)) throw InputError(plan.bids, "BIDS folder does not exist");
  r.subjects = bids::paired_subjects(plan.bids, plan.source_session, plan.target_session);
  fs::create_directories(ctx.out);
  check_output_path(L.plan(), true);

  // The plan and folds of this folder (fixed at the first run).
  const nlohmann::json wanted = to_json(plan);
  nlohmann::json state = {{"seconds", nlohmann::json::object()}};
  if (fs::exists(L.plan())) {
    nlohmann::json stored;
    try {
      stored = nlohmann::json::parse(read_text_file(L.plan()));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(L.plan(), std::string("is not valid JSON: ") + e.what());
    }
    r.folds = stored.value("folds", std::vector<std::vector<std::string>>{});
    stored.erase("folds");
    // Read through the plan's own reader, so that a field a later harmonize
    // added (absent from an older plan.json) compares as its default.
    const CrossvalPlan stored_plan = plan_from_json(stored, L.plan());
    stored = to_json(stored_plan);
    // Baselines may be added to a run: the plan's are those it had and those asked for now.
    const auto had = stored_plan.baselines;
    stored.erase("baselines");
    nlohmann::json rest = wanted;
    rest.erase("baselines");
    if (stored != rest)
      throw UsageError(ctx.out + " holds a cross-validation with another plan (" + L.plan() +
                       "); use another OUT_DIR, or the same options to continue it");
    r.plan.baselines = had;
    for (const auto& b : plan.baselines)
      if (std::find(had.begin(), had.end(), b) == had.end()) r.plan.baselines.push_back(b);
    if (r.plan.baselines != had) {
      nlohmann::json written = to_json(r.plan);
      written["folds"] = r.folds;
      write_text_atomically(L.plan(), written.dump(2) + "\n");
      log::info("baselines added to the plan: " + nlohmann::json(r.plan.baselines).dump());
    }
    if (fs::exists(L.state())) state = nlohmann::json::parse(read_text_file(L.state()));
    log::info("continuing the cross-validation in " + ctx.out);
  } else {
    if (fs::exists(ctx.out + "/crossval.json"))
      throw UsageError(ctx.out +
                       " holds a cross-validation of an older harmonize (crossval.json); use another OUT_DIR");
    if (r.subjects.size() < std::size_t(plan.folds))
      throw InputError(plan.bids, "has " + std::to_string(r.subjects.size()) + " subjects with both sessions; " +
                                      std::to_string(plan.folds) + " folds need at least as many");
    const auto groups = read_participant_groups(plan.bids + "/participants.tsv");
    std::vector<std::string> unused;
    log::info("folds: " + grouping_text(groups, r.subjects, &unused));
    if (!unused.empty()) {
      std::string list;
      for (const auto& id : unused) list += " " + id;
      log::warn(plan.bids + "/participants.tsv names participants without both sessions (not used):" + list);
    }
    r.folds = make_folds(r.subjects, groups, plan.folds, plan.seed);
    nlohmann::json written = wanted;
    written["folds"] = r.folds;
    write_text_atomically(L.plan(), written.dump(2) + "\n");
  }
  if (int(r.folds.size()) != plan.folds) throw InputError(L.plan(), "does not hold one subject list per fold");
  r.add_seconds = [&](const std::string& stage, double s) {
    state["seconds"][stage] = state["seconds"].value(stage, 0.0) + s;
    write_text_atomically(L.state(), state.dump(2) + "\n");
  };

  preprocess_stage(r);
  train_stage(r);
  harmonize_stage(r);
  const auto rows = evaluate_stage(r);
  report_stage(r, rows, [&] {
    const auto& secs = state["seconds"];
    double work = 0;
    for (const char* k :
         {"preprocess", "train", "train_baselines", "harmonize", "harmonize_baselines", "evaluate", "report"})
      work += secs.value(k, 0.0);
    char baselines[160] = "";
    if (!r.plan.baselines.empty())
      std::snprintf(baselines, sizeof baselines, " (of which the baselines: train %.1f, harmonize %.1f min)",
                    secs.value("train_baselines", 0.0) / 60, secs.value("harmonize_baselines", 0.0) / 60);
    char buf[640];
    std::snprintf(buf, sizeof buf,
                  "Time on %d thread%s: %.1f min of stage work (preprocess %.1f, train %.1f, harmonize %.1f, "
                  "evaluate %.1f, report %.1f min%s; summed over resumed invocations); this invocation %.1f min",
                  threads(), threads() == 1 ? "" : "s", work / 60, secs.value("preprocess", 0.0) / 60,
                  (secs.value("train", 0.0) + secs.value("train_baselines", 0.0)) / 60,
                  (secs.value("harmonize", 0.0) + secs.value("harmonize_baselines", 0.0)) / 60,
                  secs.value("evaluate", 0.0) / 60, secs.value("report", 0.0) / 60, baselines,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() / 60);
    return std::string(buf);
  });
  std::printf("Report: %s/report.html and report.md\n", ctx.out.c_str());
}

}  // namespace harmonize
