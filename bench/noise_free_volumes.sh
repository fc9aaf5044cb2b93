#!/usr/bin/env bash
# How far an ideal noise-free output's tissue volumes lie from the noisy scan's (issue 15's volume criterion):
# the cohort simulated again with the same options and seed but 100x the SNR (same anatomy, poses and bias
# fields; the script checks that the truth is byte-identical), both segmented by bench/segment_quality with
# the default segmentation against the truth, and per scanner the mean |volume error of the noise-free scan -
# that of the noisy scan| per class (% of the truth's class volume): what a perfect estimate of the target's
# mean, segmented, would differ by from the target's own segmentation. "Original" is the same quantity
# between the two sessions' noisy scans (each against its own truth, native frames): the cross-scanner
# difference the criterion asks to beat. One LibTorch-free process at a time.
# Usage: bench/noise_free_volumes.sh COHORT WORK_DIR SIMULATE_OPTIONS...
#   e.g. bench/noise_free_volumes.sh /work/demo/cohort /work/nf --subjects 16 --resolution 1
# (SIMULATE_OPTIONS: those the cohort was simulated with, code/harmonize_simulate.json's command line.)
set -euo pipefail
cd "$(dirname "$0")/.."
cohort="$1" w="$2"
shift 2
hz=./build/harmonize sq=./build/bench/segment_quality
mkdir -p "$w"
[ -f "$w/cohort/code/harmonize_simulate.json" ] ||
  "$hz" simulate "$w/cohort" "$@" --snr-1p5T 2000 --snr-3T 2600 --force -q
for t in "$cohort"/derivatives/truth/sub-*/ses-*/anat/*_desc-brain_mask.nii.gz \
  "$cohort"/derivatives/truth/sub-*/ses-*/anat/*_label-GM_probseg.nii.gz; do
  cmp -s "$t" "$w/cohort/${t#"$cohort"/}" || { echo "not the same anatomy: ${t#"$cohort"/} differs" >&2; exit 1; }
done
[ -f "$w/noisy.txt" ] || "$sq" "$cohort" --no-stability >"$w/noisy.txt"
[ -f "$w/noise_free.txt" ] || "$sq" "$w/cohort" --no-stability >"$w/noise_free.txt"
echo "| comparison | scans | mean abs. CSF / GM / WM (%) | mean over classes (%) | largest CSF / GM / WM (%) |"
echo "|---|---:|---:|---:|---:|"
awk '
  FNR == 1 { file++ }
  $1 ~ /^sub-.*_ses-/ && NF > 8 { v[file, $1, 1] = $6; v[file, $1, 2] = $7; v[file, $1, 3] = $8; if (file == 1) scans[$1] = 1 }
  function a(x) { return x < 0 ? -x : x }
  function add(name, s1, f1, s2, f2,   c, d) {
    n[name]++
    for (c = 1; c <= 3; c++) {
      d = a(v[f1, s1, c] - v[f2, s2, c]); sum[name, c] += d
      if (d > big[name, c]) big[name, c] = d
    }
  }
  END {
    for (s in scans) {
      split(s, p, "_")
      if (p[2] == "ses-1p5T") {
        add("Original (1.5 T scan against the 3 T scan)", s, 1, p[1] "_ses-3T", 1)
        add("noise-free 1.5 T scan against the noisy one (towards 1.5 T)", s, 2, s, 1)
      } else add("noise-free 3 T scan against the noisy one (towards 3 T)", s, 2, s, 1)
    }
    for (name in n) {
      m = (sum[name, 1] + sum[name, 2] + sum[name, 3]) / (3 * n[name])
      printf "| %s | %d | %.2f / %.2f / %.2f | %.2f | %.2f / %.2f / %.2f |\n", name, n[name], sum[name, 1] / n[name],
        sum[name, 2] / n[name], sum[name, 3] / n[name], m, big[name, 1], big[name, 2], big[name, 3]
    }
  }' "$w/noisy.txt" "$w/noise_free.txt" | sort
