#pragma once
// The report's tables laid out as in the paper, as plain text cells that
// report.cpp renders to markdown and HTML, from the summaries
// (report/summary.hpp) and the changes relative to Original
// (report/relative.hpp).
#include <string>
#include <vector>

#include "report/relative.hpp"
#include "report/summary.hpp"

namespace harmonize {

// Numbers as the paper prints them: 3 significant digits, powers of ten
// written e-3 / e4 beyond [0.01, 10000).
std::string format_number(double x);
// "mean [sd]", or "mean" when sd is NaN, or "–" when s is null.
std::string format_cell(const Summary* s);
std::string format_percent(double pct);  // "-78.7 %", "–" for NaN
// "-78.7 % [-82.1, -75.0]" (the interval when known), "–" for NaN.
std::string format_percent(double pct, const Interval& ci);

struct TextTable {
  std::string id;       // "table1"... (HTML anchor)
  std::string caption;  // heading text
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notes;  // markdown paragraphs under the table
};

// The report's tables, in order: Table 1 (MSE, AHD), its whole-volume variant
// when present, Relative to Original, Table 2 (volume differences; against the
// truth when present; tissue volumes), Table 3 (Dice, HD, HD95 per direction,
// against the target's segmentation and, when present, the truth), then the
// stripe and lesion table when the run has those metrics. Each holds this
// run's rows and then the paper's, its first column saying which. With the
// per-subject `rows` (the ones `run` summarises), relative changes carry
// 95 % bootstrap intervals and the notes name those that include zero.
std::vector<TextTable> report_tables(const std::vector<Summary>& run, const std::vector<MetricRow>* rows = nullptr);

// CSV lines "direction,method,reference,metric,class,mean,sd,n" (with that
// header) of the summaries whose metric is in `metrics`, in the report's order.
std::string summaries_csv(const std::vector<Summary>& s, const std::vector<std::string>& metrics);
// The metrics that go into tables/table1.csv ... table4.csv (4: stripes and lesions).
const std::vector<std::string>& table_metrics(int table);

}  // namespace harmonize
