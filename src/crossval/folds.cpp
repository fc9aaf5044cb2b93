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
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split(line);
    if (std::ptrdiff_t(cells.size()) <= id_col) continue;
    groups[cells[id_col]] = group_col < std::ptrdiff_t(cells.size()) ? cells[group_col] : std::string();
  }
  return groups;
}

}  // namespace harmonize
