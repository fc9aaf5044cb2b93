#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "crossval/folds.hpp"

namespace harmonize {
namespace {

std::vector<std::string> ids(int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back("sub-" + std::string(i < 10 ? "00" : "0") + std::to_string(i));
  return v;
}

TEST(Folds, PartitionBalancedAndStratified) {
  const auto subjects = ids(40);
  std::map<std::string, std::string> group;
  for (int i = 0; i < 40; ++i) group[subjects[i]] = i < 22 ? "HC" : "MS";  // the study's 22 / 18
  const auto folds = make_folds(subjects, group, 4, 7);
  ASSERT_EQ(folds.size(), 4u);
  std::set<std::string> seen;
  for (const auto& f : folds) {
    EXPECT_EQ(f.size(), 10u);
    EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
    int ms = 0;
    for (const auto& id : f) {
      EXPECT_TRUE(seen.insert(id).second) << id << " in two folds";
      ms += group[id] == "MS";
    }
    EXPECT_GE(ms, 4);  // 18 patients over 4 folds: 4 or 5 each
    EXPECT_LE(ms, 5);
  }
  EXPECT_EQ(seen.size(), 40u);
}

TEST(Folds, DeterministicOrderFreeAndSeeded) {
  auto a = ids(9), b = ids(9);
  std::reverse(b.begin(), b.end());
  EXPECT_EQ(make_folds(a, {}, 3, 1), make_folds(b, {}, 3, 1));
  EXPECT_NE(make_folds(a, {}, 3, 1), make_folds(a, {}, 3, 2));
  for (const auto& f : make_folds(ids(10), {}, 4, 3)) EXPECT_TRUE(f.size() == 2 || f.size() == 3);
}

TEST(Folds, RejectsTooFewSubjectsOrFolds) {
  EXPECT_THROW(make_folds(ids(3), {}, 4, 1), UsageError);
  EXPECT_THROW(make_folds(ids(3), {}, 1, 1), UsageError);
}

TEST(Folds, ParticipantGroupsFromTsv) {
  const auto dir = std::filesystem::temp_directory_path() / "harmonize_folds_test";
  std::filesystem::create_directories(dir);
  const std::string tsv = (dir / "participants.tsv").string();
  std::ofstream(tsv) << "participant_id\tgroup\tanatomy\nsub-001\tMS\tcolin27\nsub-002\tHC\tcolin27\n";
  const auto g = read_participant_groups(tsv);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.at("sub-001"), "MS");
  EXPECT_EQ(g.at("sub-002"), "HC");
  EXPECT_TRUE(read_participant_groups((dir / "absent.tsv").string()).empty());
  std::ofstream(tsv) << "id\tgroup\nsub-001\tMS\n";
  EXPECT_THROW(read_participant_groups(tsv), InputError);
  // A short line and a repeated id are refused, naming the file and the line.
  for (const std::string& body :
       {std::string("sub-001\tMS\tcolin27\nsub-002\n"), std::string("sub-001\tMS\tcolin27\nsub-001\tHC\tcolin27\n")}) {
    std::ofstream(tsv) << "participant_id\tgroup\tanatomy\n" << body;
    try {
      read_participant_groups(tsv);
      ADD_FAILURE() << "accepted: " << body;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(tsv + ": line 3"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Folds, TheReportSaysHowTheFoldsWereDrawn) {
  const std::vector<std::string> subjects{"sub-001", "sub-002", "sub-003"};
  std::vector<std::string> unused;
  EXPECT_EQ(
      grouping_text({{"sub-001", "MS"}, {"sub-002", "HC"}, {"sub-003", "HC"}, {"sub-009", "HC"}}, subjects, &unused),
      "groups of participants.tsv (HC, MS) mixed in every fold");
  EXPECT_EQ(unused, std::vector<std::string>{"sub-009"});
  EXPECT_EQ(grouping_text({{"sub-001", "MS"}, {"sub-002", "HC"}}, subjects),
            "groups of participants.tsv (HC, MS) mixed in every fold; without a group, drawn as one more group: "
            "sub-003");
  EXPECT_EQ(grouping_text({{"sub-001", ""}, {"sub-002", ""}}, subjects),
            "participants.tsv gives no groups: subjects drawn at random");
  EXPECT_EQ(grouping_text({}, subjects), "no participants.tsv with groups: subjects drawn at random");
}

}  // namespace
}  // namespace harmonize
