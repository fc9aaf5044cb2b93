#include "bids/slurm.hpp"

namespace harmonize::bids {

std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

SlurmScripts slurm_scripts(const SlurmRequest& r) {
  SlurmScripts s;
  for (const auto& p : r.participants) s.participants += p + "\n";
  const std::string n = std::to_string(r.participants.size()), cpus = std::to_string(r.cpus);
  auto header = [&](const std::string& name, const std::string& extra) {
    std::string h = "#!/bin/bash\n# Written by: " + r.written_by + "\n#SBATCH --job-name=harmonize-" + name + "\n" +
                    extra + "#SBATCH --cpus-per-task=" + cpus + "\n#SBATCH --mem=" + r.mem +
                    "\n#SBATCH --time=" + r.time + "\n";
    if (!r.partition.empty()) h += "#SBATCH --partition=" + r.partition + "\n";
    return h + "set -euo pipefail\n";
  };
  const std::string threads = " --threads \"${SLURM_CPUS_PER_TASK:-" + cpus + "}\"";
  s.participant = header("participant",
                         "#SBATCH --array=1-" + n + "\n#SBATCH --output=" + r.dir + "/logs/participant_%A_%a.out\n") +
                  "# One participant per array task; by hand: SLURM_ARRAY_TASK_ID=i bash participant.sbatch (i in 1.." +
                  n +
                  ")\n"
                  "task=\"${SLURM_ARRAY_TASK_ID:?set SLURM_ARRAY_TASK_ID to 1.." +
                  n +
                  "}\"\n"
                  "label=\"$(sed -n \"${task}p\" " +
                  shell_quoted(r.dir + "/participants.txt") +
                  ")\"\n"
                  "[ -n \"$label\" ] || { echo \"no participant on line $task of participants.txt\" >&2; exit 1; }\n"
                  "exec " +
                  r.participant_command + " --participant-label \"$label\"" + threads + "\n";
  s.group = header("group", "#SBATCH --output=" + r.dir + "/logs/group_%j.out\n") + "exec " + r.group_command +
            threads + "\n";
  s.submit =
      "#!/bin/bash\n# Submits the participant array and the group job that waits for it; without Slurm (no\n"
      "# sbatch), runs the same scripts one after another on this machine.\nset -euo pipefail\ncd \"$(dirname "
      "\"$0\")\"\n"
      "if command -v sbatch >/dev/null 2>&1; then\n"
      "  array=\"$(sbatch --parsable participant.sbatch)\"\n"
      "  group=\"$(sbatch --parsable --dependency=afterok:${array%%;*} group.sbatch)\"\n"
      "  echo \"submitted: participant array ${array%%;*} (" +
      n +
      " tasks), group job ${group%%;*} after it\"\n"
      "else\n"
      "  echo \"no sbatch here: running the " +
      n +
      " participants one after another, then the group level\"\n"
      "  for task in $(seq 1 " +
      n +
      "); do SLURM_ARRAY_TASK_ID=$task bash participant.sbatch; done\n"
      "  bash group.sbatch\n"
      "fi\n";
  return s;
}

}  // namespace harmonize::bids
