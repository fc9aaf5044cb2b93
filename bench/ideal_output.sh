#!/usr/bin/env bash
# What an ideal harmonized output reaches on the crossval's own frame (issue 15's volume criterion, with the
# input's resampling included): the cohort simulated again with the same options and seed but each session
# scanned with the OTHER session's protocol and tissue T1s (the simulator's default protocols swapped) and
# 100x the SNR: its 1.5 T session is a noise-free 3 T-contrast image of the 1.5 T acquisition (same anatomy,
# pose and grid), its 3 T session a noise-free 1.5 T-contrast image of the 3 T acquisition. Preprocessed like
# the crossval (PREP_FLAGS, default scripts/demo.sh's: 1 mm, 192x192, affine), that is what a perfect
# noise-free network would return from each held-out subject's input, on the evaluation's grid. Scored with
# `harmonize evaluate` beside the crossval's output and histogram matching against the crossval's own target
# scans (the same segmentation of Original and the target as the report). Only for cohorts simulated with the
# default protocols (harmonize simulate without protocol or T1 options). One LibTorch-free process at a time.
# SNR_1P5T / SNR_3T (default 2000 / 2600, noise-free) set the swapped sessions' SNR: SNR_1P5T=26 SNR_3T=20 gives each
# ideal output the other scanner's own noise level, i.e. a perfect draw of the target scanner (its noise is then
# resampled with the image where the source session is not the grid's).
# Usage: bench/ideal_output.sh CROSSVAL_OUT WORK_DIR SIMULATE_OPTIONS...
#   e.g. bench/ideal_output.sh /work/demo/crossval /work/ideal --subjects 16 --resolution 1
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2"
shift 2
hz=./build/harmonize
. bench/crossval_paths.sh
. bench/swapped_protocols.sh
cohort=$(tr -d ' \n' <"$out/plan.json" | grep -o '"bids":"[^"]*"' | sed 's/.*:"//; s/"//')
mkdir -p "$w"
[ -f "$w/cohort/code/harmonize_simulate.json" ] ||
  "$hz" simulate "$w/cohort" "$@" --snr-1p5T "${SNR_1P5T:-2000}" --snr-3T "${SNR_3T:-2600}" \
    "${swapped_protocol_flags[@]}" --force -q
for t in "$cohort"/derivatives/truth/sub-*/ses-*/anat/*_desc-brain_mask.nii.gz; do
  cmp -s "$t" "$w/cohort/${t#"$cohort"/}" || { echo "not the same anatomy: ${t#"$cohort"/} differs" >&2; exit 1; }
done
# shellcheck disable=SC2086
[ -f "$w/prep/dataset.json" ] || "$hz" preprocess "$w/cohort" "$w/prep" ${PREP_FLAGS:---spacing 1 --slice-size 192 --no-deformable} \
  --mask-dir "$w/cohort/derivatives/truth" -q
for dir in $(ls "$out/harmonized"); do
  src=ses-${dir%%-to-*}
  for sub in $(ls "$out/prep" | grep '^sub-'); do
    ideal=$(out="$w" image "$sub" "$src")  # the source acquisition, in the target's contrast, without noise
    [ -f "$w/${dir}_${sub}.csv" ] || evaluate_beside "$sub" "$dir" "$w/${dir}_${sub}.csv" --method "ideal=$ideal"
  done
  echo "$dir"
  summarize_methods "$w/${dir}"_sub-*.csv
done
