#include "report/tables.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace harmonize {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::string kRun = "this run";
const std::string kPaper = "paper (Durrer et al. 2023, their data)";

int rank_of(const std::vector<std::string>& order, const std::string& x) {
  const auto it = std::find(order.begin(), order.end(), x);
  return it == order.end() ? int(order.size()) : int(it - order.begin());
}

// Minimum and maximum n over the run's summaries of `metrics` (for the notes).
std::string subjects_note(const std::vector<Summary>& s, const std::vector<std::string>& metrics,
                          const std::vector<std::string>& references) {
  std::size_t lo = std::numeric_limits<std::size_t>::max(), hi = 0;
  for (const auto& x : s)
    if (std::find(references.begin(), references.end(), x.reference) != references.end() &&
        std::find(metrics.begin(), metrics.end(), x.metric) != metrics.end()) {
      lo = std::min(lo, x.n);
      hi = std::max(hi, x.n);
    }
  if (hi == 0) return "This run: no values.";
  const std::string n = lo == hi ? std::to_string(lo) : std::to_string(lo) + "–" + std::to_string(hi);
  return "This run: mean [sd] over subjects, n = " + n + " per cell (exact n in the CSV under `tables/`).";
}

bool has_metric(const std::vector<Summary>& s, const std::string& metric, const std::vector<std::string>& references) {
  return std::any_of(s.begin(), s.end(), [&](const Summary& x) {
    return x.metric == metric && std::find(references.begin(), references.end(), x.reference) != references.end();
  });
}

// Rows "source | method | cells..." for every method with at least one value, cells from `cell(method)`.
template <class CellFn>
void add_rows(TextTable& t, const std::string& source, const std::vector<std::string>& methods, CellFn cell) {
  for (const auto& m : methods) {
    std::vector<std::string> row = {source, m};
    bool any = false;
    for (auto& c : cell(m)) {
      any = any || c != "–";
      row.push_back(std::move(c));
    }
    if (any) t.rows.push_back(std::move(row));
  }
}

std::vector<Summary> joined(const std::vector<Summary>& a, const std::vector<Summary>& b) {
  std::vector<Summary> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}
}  // namespace

std::string format_number(double x) {
  if (std::isnan(x)) return "–";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (x == 0) return "0";
  char buf[64];
  const double a = std::fabs(x);
  if (a >= 1e4 || a < 1e-2) {
    std::snprintf(buf, sizeof buf, "%.2e", x);  // "1.85e-03"
    std::string s(buf);
    const auto e = s.find('e');
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    while (mant.back() == '0') mant.pop_back();
    if (mant.back() == '.') mant.pop_back();
    const bool neg = exp[0] == '-';
    std::size_t k = 1;
    while (k + 1 < exp.size() && exp[k] == '0') ++k;
    return mant + "e" + (neg ? "-" : "") + exp.substr(k);
  }
  if (a >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

std::string format_cell(const Summary* s) {
  if (!s || std::isnan(s->mean)) return "–";
  if (std::isnan(s->sd)) return format_number(s->mean);
  return format_number(s->mean) + " [" + format_number(s->sd) + "]";
}

std::string format_percent(double pct) {
  if (!std::isfinite(pct)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f %%", pct);
  return buf;
}

std::string format_percent(double pct, const Interval& ci) {
  if (!std::isfinite(pct) || !ci.known()) return format_percent(pct);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f %% [%+.1f, %+.1f]", pct, ci.lo, ci.hi);
  return buf;
}

std::vector<TextTable> report_tables(const std::vector<Summary>& run, const std::vector<MetricRow>* rows) {
  const std::vector<Summary> paper = paper_summaries();
  const std::vector<std::string> dirs = directions_of(joined(run, paper));
  const std::vector<std::string> run_methods = methods_of(run), paper_methods = methods_of(paper);
  std::vector<TextTable> tables;

  // Table 1 (and its whole-volume variant): MSE sum, MSE mean per voxel, AHD.
  auto table1 = [&](const std::string& suffix, bool with_paper) {
    TextTable t;
    t.header = {"source", "method"};
    for (const auto& d : dirs)
      for (const char* h : {"MSE (sum)", "MSE (mean/voxel)", "AHD"}) t.header.push_back(direction_label(d) + " " + h);
    auto cells = [&](const std::vector<Summary>& s) {
      return [&](const std::string& m) {
        std::vector<std::string> c;
        for (const auto& d : dirs)
          for (const std::string metric : {"mse_sum", "mse_mean", "ahd"})
            c.push_back(format_cell(find_intensity(s, d, m, metric + suffix)));
        return c;
      };
    };
    add_rows(t, kRun, run_methods, cells(run));
    if (with_paper) add_rows(t, kPaper, paper_methods, cells(paper));
    return t;
  };
  TextTable t1 = table1("", true);
  t1.id = "table1";
  t1.caption = "Table 1 — Similarity to the target scan inside the brain mask: MSE and AHD";
  t1.notes = {subjects_note(run, {"mse_sum", "mse_mean", "ahd"}, {"target", ""}),
              "MSE: sum over brain voxels of the squared intensity difference to the target (intensities on [0, 1]), "
              "and the same divided by the number of voxels. AHD: sum over 255 bins on [0, 1] of the absolute "
              "difference of the brain-voxel histograms (counts). Lower is better.",
              "Paper rows: means over the paper's 4 folds on its own private 40-subject data set, without sd. Its "
              "appendix defines MSE as a sum, but its values are on the per-voxel scale, so they are shown under "
              "mean/voxel. AHD counts grow with the number of brain voxels: compare across data sets only through "
              "the changes relative to Original below."};
  tables.push_back(t1);
  if (has_metric(run, "mse_sum_volume", {"target", ""}) || has_metric(run, "ahd_volume", {"target", ""})) {
    TextTable t = table1("_volume", false);
    t.id = "table1-volume";
    t.caption = "Table 1 (whole volume) — MSE and AHD over all voxels";
    t.notes = {subjects_note(run, {"mse_sum_volume", "mse_mean_volume", "ahd_volume"}, {"target", ""})};
    tables.push_back(t);
  }

  // Relative to Original.
  {
    TextTable t;
    t.id = "relative";
    t.caption = "Relative to Original — % change of each method's mean (negative = better)";
    t.header = {"source",
                "direction",
                "method",
                "AHD",
                "MSE",
                "tissue-volume difference (mean of CSF, GM, WM)",
                "WM volume difference"};
    std::vector<RelativeChange> mine = relative_to_original(run);
    if (rows) add_intervals(mine, *rows);
    std::vector<std::string> with_zero;
    for (const auto& r : mine) {
      t.rows.push_back({kRun, direction_label(r.direction), r.method, format_percent(r.ahd, r.ahd_ci),
                        format_percent(r.mse, r.mse_ci), format_percent(r.volume, r.volume_ci),
                        format_percent(r.wm_volume, r.wm_volume_ci)});
      const std::pair<const char*, const Interval*> named[] = {
          {"AHD", &r.ahd_ci}, {"MSE", &r.mse_ci}, {"tissue volume", &r.volume_ci}, {"WM volume", &r.wm_volume_ci}};
      for (const auto& [what, ci] : named)
        if (ci->includes_zero()) with_zero.push_back(direction_label(r.direction) + " " + r.method + " (" + what + ")");
    }
    for (const auto& r : relative_to_original(paper))
      t.rows.push_back({kPaper, direction_label(r.direction), r.method, format_percent(r.ahd), format_percent(r.mse),
                        format_percent(r.volume), format_percent(r.wm_volume)});
    t.notes = {
        "100 × (method − Original) / Original of the means over subjects, per direction: how the paper reads "
        "its results (its DM: AHD −79 % and −76 %, MSE −13 % and −59 %, WM volume difference −82 % and −83 %). "
        "MSE uses the sums when this run has them (the ratio is the same per voxel on a common mask)."};
    if (rows) {
      t.notes.push_back(
          "In brackets: the 95 % interval of this run's change, by a paired bootstrap over subjects (2000 "
          "resamples of the test subjects with replacement, the same subjects for the method and Original; "
          "percentiles 2.5 and 97.5). The paper gives no intervals.");
      std::string z;
      for (std::size_t i = 0; i < with_zero.size(); ++i) z += (i ? "; " : "") + with_zero[i];
      t.notes.push_back(with_zero.empty()
                            ? "No interval includes zero: every change above is distinguishable from none on these "
                              "subjects."
                            : "These intervals include zero, so the change is not distinguishable from none on "
                              "these subjects: " +
                                  z + ".");
    }
    tables.push_back(t);
  }

  // Table 2: absolute tissue-volume difference, per class, both directions.
  auto per_class_table = [&](const std::string& metric, const std::string& reference, bool with_paper,
                             bool include_target) {
    TextTable t;
    t.header = {"source", "method"};
    for (const auto& d : dirs)
      for (const auto& c : kReportClasses) t.header.push_back(direction_label(d) + " " + c);
    auto cells = [&](const std::vector<Summary>& s) {
      return [&](const std::string& m) {
        std::vector<std::string> c;
        for (const auto& d : dirs)
          for (const auto& cls : kReportClasses)
            c.push_back(format_cell(find_summary(s, d, m, reference, metric, cls)));
        return c;
      };
    };
    add_rows(t, kRun, methods_of(run, include_target), cells(run));
    if (with_paper) add_rows(t, kPaper, methods_of(paper), cells(paper));
    return t;
  };
  {
    TextTable t = per_class_table("volume_abs_diff_mm3", "target", true, false);
    t.id = "table2";
    t.caption = "Table 2 — Absolute tissue-volume difference to the target scan's segmentation (mm³)";
    t.notes = {subjects_note(run, {"volume_abs_diff_mm3"}, {"target"}),
               "|volume of the class in the method's segmentation − in the target scan's segmentation|, volumes from "
               "voxel counts times the voxel volume. Lower is better. Paper rows: FSL FAST on its data, 4-fold means."};
    tables.push_back(t);
  }
  if (has_metric(run, "volume_abs_diff_mm3", {"truth"})) {
    TextTable t = per_class_table("volume_abs_diff_mm3", "truth", false, true);
    t.id = "table2-truth";
    t.caption = "Table 2 (simulated truth) — Absolute tissue-volume difference to the ground-truth segmentation (mm³)";
    t.notes = {subjects_note(run, {"volume_abs_diff_mm3"}, {"truth"})};
    tables.push_back(t);
  }
  if (has_metric(run, "volume_mm3", {""})) {
    TextTable t = per_class_table("volume_mm3", "", false, true);
    t.id = "volumes";
    t.caption = "Tissue volumes of each method's segmentation (mm³)";
    t.notes = {subjects_note(run, {"volume_mm3"}, {""}),
               "Target: the target scan's own segmentation, the reference of Tables 2 and 3."};
    tables.push_back(t);
  }

  // Table 3: Dice, HD and HD95 per class, one table per direction and reference.
  auto table3 = [&](const std::string& d, const std::string& reference, bool with_paper) {
    TextTable t;
    t.header = {"source", "method"};
    for (const char* m : {"Dice", "HD", "HD95"})
      for (const auto& c : kReportClasses) t.header.push_back(std::string(m) + " " + c);
    auto cells = [&](const std::vector<Summary>& s) {
      return [&](const std::string& m) {
        std::vector<std::string> c;
        for (const std::string metric : {"dice", "hd", "hd95"})
          for (const auto& cls : kReportClasses)
            c.push_back(format_cell(find_summary(s, d, m, reference, metric, cls)));
        return c;
      };
    };
    add_rows(t, kRun, methods_of(run, reference == "truth"), cells(run));
    if (with_paper) add_rows(t, kPaper, paper_methods, cells(paper));
    return t;
  };
  const std::vector<std::string> t3_metrics = {"dice", "hd", "hd95"};
  for (const auto& d : dirs) {
    TextTable t = table3(d, "target", true);
    t.id = "table3-" + d;
    t.caption = "Table 3 (" + direction_label(d) +
                ") — Dice and Hausdorff distance (mm) against the target scan's segmentation";
    t.notes = {subjects_note(run, t3_metrics, {"target"}),
               "Dice: higher is better. HD: maximum (Hausdorff) surface distance; HD95: its 95th percentile; mm, lower "
               "is better. The paper reports no HD95."};
    tables.push_back(t);
  }
  if (std::any_of(t3_metrics.begin(), t3_metrics.end(),
                  [&](const std::string& m) { return has_metric(run, m, {"truth"}); }))
    for (const auto& d : directions_of(run)) {
      TextTable t = table3(d, "truth", false);
      t.id = "table3-truth-" + d;
      t.caption = "Table 3 (" + direction_label(d) +
                  ", simulated truth) — Dice and Hausdorff distance (mm) against the ground truth";
      t.notes = {subjects_note(run, t3_metrics, {"truth"}),
                 "Against the simulated ground-truth labels rather than the target scan's segmentation: the target's "
                 "own row shows how well the segmentation itself does."};
      tables.push_back(t);
    }

  // The claim "contrast, not anatomy": stripes and lesions.
  if (has_metric(run, "stripe_index", {""})) {
    TextTable t;
    t.id = "anatomy";
    t.caption = "Anatomy kept — stripes across the sampled axis, and white-matter lesions";
    t.header = {"direction",
                "method",
                "stripe index",
                "ratio to the target's",
                "lesion-like volume (mm³)",
                "|Δ| to the target's (mm³)",
                "Dice to the truth lesions",
                "lesion / WM intensity",
                "lesion-like outside the truth lesions (mm³)"};
    const SubjectValue stripes = [](const auto& r) { return value_of(r, "", "stripe_index", ""); };
    for (const auto& d : directions_of(run)) {
      std::vector<std::string> ms = {"Target"};
      for (const auto& m : methods_of(run)) ms.push_back(m);
      for (const auto& m : ms) {
        const Summary* st = find_summary(run, d, m, "", "stripe_index", "");
        if (!st) continue;
        std::string ratio = "1 (reference)";
        if (m != "Target") {
          const Summary* tg = find_summary(run, d, "Target", "", "stripe_index", "");
          const double r = tg && tg->mean != 0 ? st->mean / tg->mean : kNaN;
          ratio = format_number(r);
          if (rows && std::isfinite(r)) {
            const Interval ci = bootstrap_relative(*rows, d, m, "Target", stripes);
            if (ci.known())
              ratio += " [" + format_number(1 + ci.lo / 100) + ", " + format_number(1 + ci.hi / 100) + "]";
          }
        }
        t.rows.push_back(
            {direction_label(d), m, format_cell(st), ratio,
             format_cell(find_summary(run, d, m, "", "lesion_volume_mm3", "")),
             m == "Target" ? "0" : format_cell(find_summary(run, d, m, "target", "lesion_volume_abs_diff_mm3", "")),
             format_cell(find_summary(run, d, m, "truth", "lesion_dice", "")),
             format_cell(find_summary(run, d, m, "", "lesion_contrast", "")),
             format_cell(find_summary(run, d, m, "truth", "lesion_false_mm3", ""))});
      }
    }
    t.notes = {
        "Stripes: " + subjects_note(run, {"stripe_index"}, {""}) +
            (has_metric(run, "lesion_dice", {"truth"})
                 ? " Lesion volume, Dice and intensity (patients): " +
                       subjects_note(run, {"lesion_dice"}, {"truth"}).substr(std::string("This run: ").size())
                 : std::string()) +
            (has_metric(run, "lesion_false_mm3", {"truth"})
                 ? " Lesion-like outside the truth lesions: " +
                       subjects_note(run, {"lesion_false_mm3"}, {"truth"}).substr(std::string("This run: ").size())
                 : std::string()),
        "Stripe index: mean squared second difference of intensity across the axis the slices were stacked "
        "along (left-right), inside the brain, over the same along the two in-plane axes "
        "(docs/METRICS.md). Independent errors per slice raise it; the ratio to the target scan's cancels "
        "the anatomy's own anisotropy (in brackets: its 95 % paired bootstrap interval over subjects). 1 "
        "means no more stripes than the target scan has.",
        "Lesions (docs/METRICS.md): inside the truth's white matter and lesions, voxels darker than the "
        "midpoint of the volume's own WM and GM levels, with a dark 6-neighbour. Volume, Dice and lesion / "
        "WM intensity (mean over the truth lesions over the WM median) over the patients (subjects with "
        "lesions); lesion-like voxels farther than one voxel from a truth lesion (made-up lesions, or "
        "lesion-like noise) over all subjects. The target's own row is what the rule finds in a real "
        "scan of that scanner."};
    tables.push_back(t);
  }
  return tables;
}

const std::vector<std::string>& table_metrics(int table) {
  static const std::vector<std::string> t1 = {"mse_sum",        "mse_mean",        "ahd",
                                              "mse_sum_volume", "mse_mean_volume", "ahd_volume"};
  static const std::vector<std::string> t2 = {"volume_abs_diff_mm3", "volume_mm3"};
  static const std::vector<std::string> t3 = {"dice", "hd", "hd95"};
  static const std::vector<std::string> t4 = {"stripe_index", "lesion_volume_mm3", "lesion_volume_abs_diff_mm3",
                                              "lesion_dice",  "lesion_contrast",   "lesion_false_mm3"};
  static const std::vector<std::string> none;
  return table == 1 ? t1 : table == 2 ? t2 : table == 3 ? t3 : table == 4 ? t4 : none;
}

std::string summaries_csv(const std::vector<Summary>& s, const std::vector<std::string>& metrics) {
  const auto dirs = directions_of(s);
  const auto methods = methods_of(s, true);
  const std::vector<std::string> refs = {"", "target", "truth"}, classes = {"", "CSF", "GM", "WM"};
  std::vector<const Summary*> sel;
  for (const auto& x : s)
    if (std::find(metrics.begin(), metrics.end(), x.metric) != metrics.end()) sel.push_back(&x);
  std::stable_sort(sel.begin(), sel.end(), [&](const Summary* a, const Summary* b) {
    auto key = [&](const Summary* x) {
      return std::make_tuple(rank_of(dirs, x->direction), rank_of(methods, x->method), rank_of(refs, x->reference),
                             rank_of(metrics, x->metric), rank_of(classes, x->cls));
    };
    return key(a) < key(b);
  });
  auto field = [](const std::string& f) {
    if (f.find_first_of(",\"\n") == std::string::npos) return f;
    std::string q = "\"";
    for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  auto num = [](double x) {
    if (std::isnan(x)) return std::string("nan");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", x);
    return std::string(buf);
  };
  std::string out = "direction,method,reference,metric,class,mean,sd,n\n";
  for (const Summary* x : sel)
    out += field(x->direction) + "," + field(x->method) + "," + field(x->reference) + "," + field(x->metric) + "," +
           field(x->cls) + "," + num(x->mean) + "," + num(x->sd) + "," + std::to_string(x->n) + "\n";
  return out;
}

}  // namespace harmonize
