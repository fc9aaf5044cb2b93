// The BIDS app's Slurm scripts and its rule for scans that stand out.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "bids/qc.hpp"
#include "bids/slurm.hpp"

using namespace harmonize;

TEST(BidsSlurm, AnArrayPerParticipantAndAGroupJobAfterIt) {
  bids::SlurmRequest r;
  r.dir = "/out/code/slurm";
  r.participants = {"sub-01", "sub-02", "sub-10"};
  r.participant_command = "'/bin/harmonize' bids '/raw' '/out' participant --model '/m.pt'";
  r.group_command = "'/bin/harmonize' bids '/raw' '/out' group";
  r.cpus = 4;
  r.mem = "8G";
  r.time = "02:00:00";
  r.partition = "short";
  r.written_by = "harmonize bids ...";
  const auto s = bids::slurm_scripts(r);
  EXPECT_EQ(s.participants, "sub-01\nsub-02\nsub-10\n");
  for (const char* line :
       {"#SBATCH --array=1-3\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --mem=8G\n", "#SBATCH --time=02:00:00\n",
        "#SBATCH --partition=short\n", "#SBATCH --output=/out/code/slurm/logs/participant_%A_%a.out\n",
        "sed -n \"${task}p\" '/out/code/slurm/participants.txt'",
        "exec '/bin/harmonize' bids '/raw' '/out' participant --model '/m.pt' --participant-label "
        "\"$label\" --threads \"${SLURM_CPUS_PER_TASK:-4}\"\n"})
    EXPECT_NE(s.participant.find(line), std::string::npos) << line << "\n" << s.participant;
  EXPECT_EQ(s.group.find("--array"), std::string::npos);
  EXPECT_NE(s.group.find("exec '/bin/harmonize' bids '/raw' '/out' group --threads"), std::string::npos) << s.group;
  EXPECT_NE(s.submit.find("sbatch --parsable --dependency=afterok:${array%%;*} group.sbatch"), std::string::npos);
  EXPECT_NE(s.submit.find("for task in $(seq 1 3)"), std::string::npos) << s.submit;
  r.partition.clear();
  EXPECT_EQ(bids::slurm_scripts(r).participant.find("--partition"), std::string::npos);
}

TEST(BidsSlurm, ShellQuotingSurvivesTheShell) {
  const std::string tricky = "a dir/it's $HOME \"x\"";
  EXPECT_EQ(bids::shell_quoted("it's"), "'it'\\''s'");
  FILE* p = popen(("printf %s " + bids::shell_quoted(tricky)).c_str(), "r");
  char buf[256] = {};
  ASSERT_NE(fgets(buf, sizeof buf, p), nullptr);
  pclose(p);
  EXPECT_EQ(std::string(buf), tricky);
}

TEST(BidsQc, FlagsWhatIsFarInRobustTermsAndByAMarginThatMatters) {
  std::vector<double> x;
  for (int i = 0; i < 19; ++i) x.push_back(1.0 + 0.002 * (i % 5));  // a homogeneous cohort: MAD 0.003
  x.push_back(1.03);                                                // 3 % off: 10 MADs, but under a 5 % margin
  EXPECT_GT(bids::robust_z(x).back(), 3.5);
  EXPECT_FALSE(bids::outliers(x, 0.05).back());
  EXPECT_TRUE(bids::outliers(x, 0.02).back());
  x.back() = 1.2;  // 20 % off
  const auto flagged = bids::outliers(x, 0.05);
  EXPECT_TRUE(flagged.back());
  EXPECT_EQ(std::count(flagged.begin(), flagged.end(), true), 1);
  // No spread at all: no z, nothing flagged.
  const std::vector<double> same(5, 2.0);
  EXPECT_EQ(bids::robust_z(same), std::vector<double>(5, 0.0));
  EXPECT_DOUBLE_EQ(bids::median({3, 1, 2, 10}), 2.5);
  EXPECT_DOUBLE_EQ(bids::median({}), 0.0);
}
