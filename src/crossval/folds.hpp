#pragma once
// Cross-validation folds over subjects, stratified by group (the paper mixes
// patients and controls in every fold).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace harmonize {

// Test subjects of each of `k` folds. Subjects are dealt group by group (groups
// in name order, each group's ids in a seeded random order) round-robin over
// the folds, continuing where the previous group stopped, so every fold gets
// its share of every group and fold sizes differ by at most one. Each subject
// is in exactly one fold; every fold's list is sorted. Deterministic given the
// ids (any order), groups and seed. Throws UsageError when k < 2 or k exceeds
// the number of subjects. Subjects missing from `group` form the group "".
std::vector<std::vector<std::string>> make_folds(std::vector<std::string> subjects,
                                                 const std::map<std::string, std::string>& group, int k,
                                                 std::uint64_t seed);

// participant_id -> group from a BIDS participants.tsv (column "group"; absent
// column: every subject in group ""). Missing file: empty map. Throws
// InputError naming the file and the line when it has no participant_id
// column, a line with fewer cells than the header, an empty or repeated id.
std::map<std::string, std::string> read_participant_groups(const std::string& tsv_path);

// How the folds were drawn, for the report: "groups of participants.tsv
// (HC, MS) mixed in every fold", or why they were not ("participants.tsv has
// no group column", "sub-003 has no group in participants.tsv: ..."). Ids in
// `groups` that are not `subjects` are named in `unused` (may be null).
std::string grouping_text(const std::map<std::string, std::string>& groups, const std::vector<std::string>& subjects,
                          std::vector<std::string>* unused = nullptr);

}  // namespace harmonize
