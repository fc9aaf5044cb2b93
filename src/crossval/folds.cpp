#include "crossval/folds.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace harmonize {

std::vector<std::vector<std::string>> make_folds(std::vector<std::string> subjects,
                                                 const std::map<std::string, std::string>& group, int k,
                                                 std::uint64_t seed) {
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  if (k < 2) throw UsageError("cross-validation needs at least 2 folds, got " + std::to_string(k));
  if (std::size_t(k) > subjects.size())
    throw UsageError(std::to_string(k) + " folds need at least " + std::to_string(k) + " subjects, got " +
                     std::to_string(subjects.size()));
  std::map<std::string, std::vector<std::string>> by_group;
  for (const auto& id : subjects) {
    const auto it = group.find(id);
    by_group[it == group.end() ? std::string() : it->second].push_back(id);
  }
  std::vector<std::vector<std::string>> folds(k);
  std::size_t next = 0;
  std::uint64_t salt = 0;
  for (auto& [name, ids] : by_group) {
    Rng rng(derive_seed(seed, 0xf01d + salt++));  // Fisher-Yates within the group
    for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.below(i)]);
    for (const auto& id : ids) folds[next++ % std::size_t(k)].push_back(id);
  }
  for (auto& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

std::map<std::string, std::string> read_participant_groups(const std::string& tsv_path) {
  std::map<std::string, std::string> groups;
  if (!std::filesystem::exists(tsv_path)) return groups;
  std::ifstream in(tsv_path);
  if (!in) throw InputError(tsv_path, "cannot be read");
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) {
      if (!cell.empty() && cell.back() == '\r') cell.pop_back();
      cells.push_back(cell);
    }
    return cells;
  };
  std::string line;
  if (!std::getline(in, line)) return groups;
  const auto header = split(line);
  const auto id_col = std::find(header.begin(), header.end(), "participant_id") - header.begin();
  const auto group_col = std::find(header.begin(), header.end(), "group") - header.begin();
  if (id_col == std::ptrdiff_t(header.size())) throw InputError(tsv_path, "has no participant_id column");
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty() || line == "\r") continue;
    const auto cells = split(line);
    const std::string where = "line " + std::to_string(number);
    if (cells.size() < header.size())
      throw InputError(tsv_path, where + " has " + std::to_string(cells.size()) + " cells, the header has " +
                                     std::to_string(header.size()) + " (BIDS: n/a for a missing value)");
    const std::string& id = cells[id_col];
    if (id.empty() || id == "n/a") throw InputError(tsv_path, where + " has no participant_id");
    if (groups.count(id)) throw InputError(tsv_path, where + " repeats " + id);
    groups[id] = group_col < std::ptrdiff_t(cells.size()) && cells[group_col] != "n/a" ? cells[group_col] : "";
  }
  return groups;
}

std::string grouping_text(const std::map<std::string, std::string>& groups, const std::vector<std::string>& subjects,
                          std::vector<std::string>* unused) {
  if (unused) {
    unused->clear();
    for (const auto& [id, g] : groups)
      if (std::find(subjects.begin(), subjects.end(), id) == subjects.end()) unused->push_back(id);
  }
  if (groups.empty()) return "no participants.tsv with groups: subjects drawn at random";
  std::vector<std::string> missing, names;
  for (const auto& id : subjects) {
    const auto it = groups.find(id);
    if (it == groups.end() || it->second.empty())
      missing.push_back(id);
    else if (std::find(names.begin(), names.end(), it->second) == names.end())
      names.push_back(it->second);
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) return "participants.tsv gives no groups: subjects drawn at random";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  std::string text = "groups of participants.tsv (" + list + ") mixed in every fold";
  if (!missing.empty()) {
    text += "; without a group, drawn as one more group: " + missing.front();
    for (std::size_t i = 1; i < missing.size(); ++i) text += i < 3 ? ", " + missing[i] : (i == 3 ? ", ..." : "");
  }
  return text;
}

}  // namespace harmonize
