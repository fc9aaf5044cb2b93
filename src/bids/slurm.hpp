#pragma once
// The Slurm job scripts of `harmonize bids ... participant --slurm`: a job
// array with one task per participant, a group job after it, and a submit
// script that falls back to running them here without sbatch. Plain text;
// the caller writes the files.
#include <string>
#include <vector>

namespace harmonize::bids {

struct SlurmRequest {
  std::string dir;                        // where the scripts and participants.txt lie (absolute)
  std::vector<std::string> participants;  // "sub-01" ..., one array task each
  std::string participant_command;        // the command of one task, without --participant-label and --threads
  std::string group_command;              // the group level's, without --threads
  int cpus = 2;
  std::string mem = "6G", time = "01:00:00", partition;
  std::string written_by;  // the command line, for the scripts' first comment
};

struct SlurmScripts {
  std::string participants;  // participants.txt
  std::string participant;   // participant.sbatch
  std::string group;         // group.sbatch
  std::string submit;        // submit.sh
};

SlurmScripts slurm_scripts(const SlurmRequest& r);

// A word for bash, in single quotes.
std::string shell_quoted(const std::string& s);

}  // namespace harmonize::bids
