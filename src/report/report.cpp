#include "report/report.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "harmonize/version.hpp"
#include "report/base64.hpp"
#include "report/tables.hpp"

namespace fs = std::filesystem;

namespace harmonize {
namespace {
const std::string kPngSignature = "\x89PNG\r\n\x1a\n";

// Reads every figure before anything is written, so a missing one leaves no output.
std::vector<std::string> read_figures(const ReportInput& in) {
  std::vector<std::string> bytes;
  for (const auto& f : in.figures) {
    const fs::path rel(f.png);
    const std::string path = (fs::path(in.out_dir) / rel).string();
    if (f.png.empty() || rel.is_absolute())
      throw InputError(f.png.empty() ? in.out_dir : f.png, "figure path must be relative to the report folder");
    std::ifstream s(path, std::ios::binary);
    if (!s) throw InputError(path, "figure missing or unreadable");
    std::ostringstream o;
    o << s.rdbuf();
    bytes.push_back(o.str());
    if (bytes.back().compare(0, kPngSignature.size(), kPngSignature) != 0)
      throw InputError(path, "figure is not a PNG");
  }
  return bytes;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  return o;
}

// Escaped text with `code` spans and **bold** (what the notes and settings use).
std::string inline_html(const std::string& s) {
  std::string o;
  bool code = false, bold = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '`') {
      o += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && s.compare(i, 2, "**") == 0) {
      o += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++i;
    } else {
      o += html_escape(std::string(1, s[i]));
    }
  }
  if (code) o += "</code>";
  if (bold) o += "</strong>";
  return o;
}

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
  return o;
}

std::string md_link_target(const std::string& path) {
  std::string o;
  for (char c : path) o += c == ' ' ? std::string("%20") : c == ')' ? std::string("%29") : std::string(1, c);
  return o;
}

std::string bullet_text(const std::string& line) {
  std::string s = line;
  if (s.rfind("- ", 0) == 0 || s.rfind("* ", 0) == 0) s = s.substr(2);
  return s;
}

bool is_paper_row(const std::vector<std::string>& row) { return !row.empty() && row[0].rfind("paper", 0) == 0; }

// Figures grouped by subject (first-seen order), then by direction.
std::vector<std::pair<std::string, std::vector<std::size_t>>> figures_by_subject(const std::vector<ReportFigure>& f) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  for (std::size_t i = 0; i < f.size(); ++i) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == f[i].subject; });
    if (it == groups.end()) it = groups.insert(groups.end(), {f[i].subject, {}});
    it->second.push_back(i);
  }
  auto order = [](const std::string& d) { return d == "3T-to-1p5T" ? 0 : d == "1p5T-to-3T" ? 1 : 2; };
  for (auto& g : groups)
    std::stable_sort(g.second.begin(), g.second.end(),
                     [&](std::size_t a, std::size_t b) { return order(f[a].direction) < order(f[b].direction); });
  return groups;
}

std::string figure_label(const ReportFigure& f) {
  std::string s = f.direction.empty() ? "" : direction_label(f.direction);
  if (!f.caption.empty()) s += (s.empty() ? "" : ": ") + f.caption;
  return s;
}

std::string markdown(const ReportInput& in, const std::vector<TextTable>& tables) {
  std::ostringstream o;
  o << "# " << in.title << "\n\n";
  o << "Written by harmonize " << kVersion << ". Tables in the layout of Durrer et al. 2023 (MIDL), Tables 1-3, "
    << "this run's numbers first and the paper's own numbers (on its private data) beside them. "
    << "Machine-readable summaries: `tables/table1.csv`, `tables/table2.csv`, `tables/table3.csv`.\n\n";
  if (!in.settings.empty()) {
    o << "## Settings\n\n";
    for (const auto& s : in.settings) o << "- " << bullet_text(s) << "\n";
    o << "\n";
  }
  o << "## Results\n\n";
  for (const auto& t : tables) {
    o << "### " << t.caption << "\n\n";
    o << "|";
    for (const auto& h : t.header) o << " " << md_cell(h) << " |";
    o << "\n|";
    for (std::size_t c = 0; c < t.header.size(); ++c) o << (c < 2 ? "---|" : "---:|");
    o << "\n";
    for (const auto& row : t.rows) {
      o << "|";
      for (std::size_t c = 0; c < row.size(); ++c) {
        const std::string cell = md_cell(row[c]);
        o << " " << (is_paper_row(row) && c > 0 && cell != "–" ? "*" + cell + "*" : cell) << " |";
      }
      o << "\n";
    }
    o << "\n";
    for (const auto& n : t.notes) o << n << "\n\n";
  }
  if (!in.figures.empty()) {
    o << "## Figures\n\n";
    for (const auto& [subject, idx] : figures_by_subject(in.figures)) {
      o << "### " << (subject.empty() ? "(no subject)" : subject) << "\n\n";
      for (std::size_t i : idx) {
        const ReportFigure& f = in.figures[i];
        const std::string label = figure_label(f);
        o << "![" << label << "](" << md_link_target(f.png) << ")\n\n";
        if (!label.empty()) o << "*" << label << "*\n\n";
      }
    }
  }
  return o.str();
}

const char* kCss =
    R"(body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #ddd;padding-bottom:.3em}
h2{font-size:1.35em;border-bottom:1px solid #e4e4e4;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.08em;margin-top:1.6em}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px;font-size:.92em}
nav ul{columns:2;font-size:.92em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.86em;margin:.5em 0}
th,td{border:1px solid #d4d4d4;padding:.25em .55em;white-space:nowrap}
th{background:#f2f4f7;text-align:left;white-space:normal;vertical-align:bottom;min-width:4.5em}
td.src{white-space:normal;min-width:7em;max-width:11em;font-size:.92em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.paper td{color:#666;font-style:italic;background:#fafafa}
tr.first-paper td{border-top:2px solid #999}
p.note{font-size:.86em;color:#555;max-width:70em;margin:.3em 0}
figure{margin:1em 0 2em 0}
figure img{max-width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:.9em;color:#444;margin-top:.3em})";

std::string html(const ReportInput& in, const std::vector<TextTable>& tables, const std::vector<std::string>& pngs) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html_escape(in.title)
    << "</title>\n<style>\n"
    << kCss << "\n</style>\n</head>\n<body>\n";
  o << "<h1>" << html_escape(in.title) << "</h1>\n";
  o << "<p>Written by harmonize " << html_escape(kVersion)
    << ". Tables in the layout of Durrer et al. 2023 (MIDL), Tables 1-3, this run's numbers first and the paper's own "
       "numbers (on its private data, in grey) beside them. Machine-readable summaries: "
       "<code>tables/table1.csv</code>, "
       "<code>tables/table2.csv</code>, <code>tables/table3.csv</code>. This file is self-contained.</p>\n";
  o << "<nav><ul>\n";
  if (!in.settings.empty()) o << "<li><a href=\"#settings\">Settings</a></li>\n";
  for (const auto& t : tables) o << "<li><a href=\"#" << t.id << "\">" << html_escape(t.caption) << "</a></li>\n";
  if (!in.figures.empty()) o << "<li><a href=\"#figures\">Figures</a></li>\n";
  o << "</ul></nav>\n";
  if (!in.settings.empty()) {
    o << "<h2 id=\"settings\">Settings</h2>\n<ul>\n";
    for (const auto& s : in.settings) o << "<li>" << inline_html(bullet_text(s)) << "</li>\n";
    o << "</ul>\n";
  }
  o << "<h2>Results</h2>\n";
  for (const auto& t : tables) {
    o << "<h3 id=\"" << t.id << "\">" << html_escape(t.caption) << "</h3>\n<div class=\"scroll\"><table>\n<thead><tr>";
    for (const auto& h : t.header) o << "<th>" << html_escape(h) << "</th>";
    o << "</tr></thead>\n<tbody>\n";
    bool seen_paper = false;
    for (const auto& row : t.rows) {
      const bool paper = is_paper_row(row);
      o << "<tr" << (paper ? (seen_paper ? " class=\"paper\"" : " class=\"paper first-paper\"") : "") << ">";
      seen_paper = seen_paper || paper;
      for (std::size_t c = 0; c < row.size(); ++c)
        o << (c == 0                               ? "<td class=\"src\">"
              : c < (t.id == "relative" ? 3u : 2u) ? "<td>"
                                                   : "<td class=\"num\">")
          << html_escape(row[c]) << "</td>";
      o << "</tr>\n";
    }
    o << "</tbody>\n</table></div>\n";
    for (const auto& n : t.notes) o << "<p class=\"note\">" << inline_html(n) << "</p>\n";
  }
  if (!in.figures.empty()) {
    o << "<h2 id=\"figures\">Figures</h2>\n";
    for (const auto& [subject, idx] : figures_by_subject(in.figures)) {
      o << "<h3>" << html_escape(subject.empty() ? "(no subject)" : subject) << "</h3>\n";
      for (std::size_t i : idx) {
        const std::string label = figure_label(in.figures[i]);
        o << "<figure><img alt=\"" << html_escape(label) << "\" src=\"data:image/png;base64," << base64_encode(pngs[i])
          << "\"><figcaption>" << html_escape(label) << "</figcaption></figure>\n";
      }
    }
  }
  o << "</body>\n</html>\n";
  return o.str();
}
}  // namespace

void write_report(const ReportInput& in) {
  if (in.out_dir.empty()) throw OutputError("(empty)", "report folder not given");
  const std::vector<std::string> pngs = read_figures(in);
  const fs::path dir(in.out_dir), tables_dir = dir / "tables";
  check_output_path((dir / "report.md").string(), true, true);
  check_output_path((tables_dir / "table1.csv").string(), true, true);

  const std::vector<Summary> run = summarize(in.rows);
  const std::vector<TextTable> tables = report_tables(run, &in.rows);
  const std::string md = markdown(in, tables), page = html(in, tables, pngs);
  for (int t = 1; t <= 4; ++t)
    write_text_atomically((tables_dir / ("table" + std::to_string(t) + ".csv")).string(),
                          summaries_csv(run, table_metrics(t)));
  write_text_atomically((dir / "report.md").string(), md);
  write_text_atomically((dir / "report.html").string(), page);
}

}  // namespace harmonize
