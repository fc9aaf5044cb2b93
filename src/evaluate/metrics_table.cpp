#include "evaluate/metrics_table.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"

namespace harmonize {
namespace {

constexpr const char* kHeader = "subject,direction,method,reference,metric,class,value";

// RFC 4180 quoting: only fields holding a comma, a quote or a line break are
// quoted; quotes inside are doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Splits one CSV record (no embedded line breaks: the table never needs them).
// Returns false on an unterminated or malformed quoted field.
bool split_record(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  std::size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
          } else {
            ++i;
            break;
          }
        } else {
          cur += line[i++];
        }
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return false;
        cur += line[i++];
      }
    }
    fields.push_back(cur);
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}

bool parse_value(const std::string& s, double& v) {
  if (s == "nan" || s == "NaN") {
    v = std::nan("");
    return true;
  }
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno != ERANGE;
}

}  // namespace

void write_metrics_csv(const std::string& path, const std::vector<MetricRow>& rows) {
  std::string text = std::string(kHeader) + "\n";
  for (const auto& r : rows) {
    text += csv_field(r.subject) + ',' + csv_field(r.direction) + ',' + csv_field(r.method) + ',' +
            csv_field(r.reference) + ',' + csv_field(r.metric) + ',' + csv_field(r.cls) + ',' + format_value(r.value) +
            '\n';
  }
  write_text_atomically(path, text);
}

std::vector<MetricRow> read_metrics_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open (missing or unreadable)");
  std::string line;
  std::vector<MetricRow> rows;
  std::vector<std::string> f;
  std::size_t lineno = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!header) {
      if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
      if (line != kHeader)
        throw InputError(path, "line 1: expected the header \"" + std::string(kHeader) + "\", found \"" + line + "\"");
      header = true;
      continue;
    }
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(lineno) + ": ";
    if (!split_record(line, f)) throw InputError(path, where + "malformed quoted field");
    if (f.size() != 7)
      throw InputError(path, where + "expected 7 comma-separated fields, found " + std::to_string(f.size()));
    MetricRow r{f[0], f[1], f[2], f[3], f[4], f[5], 0.0};
    if (r.metric.empty()) throw InputError(path, where + "empty metric name");
    if (!parse_value(f[6], r.value)) throw InputError(path, where + "value \"" + f[6] + "\" is not a number");
    rows.push_back(std::move(r));
  }
  if (!header) throw InputError(path, "empty file (no header)");
  return rows;
}

}  // namespace harmonize
