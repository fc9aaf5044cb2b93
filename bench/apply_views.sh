#!/usr/bin/env bash
# Cost of `harmonize apply` on one 1 mm scan (issue 15): seconds and peak
# memory per step count (DDIM 1, 2, 4, 8; one pass for a regression model is
# as fast as 1 step; trailing step spacing) and per orientation setting (sagittal only, or sagittal
# + coronal + axial fused), preprocessing of the raw scan included (brain
# mask given, N4, 1 mm grid, slicing). The network's weights do not change
# the cost, so a model trained for a few steps on one 1 mm pair stands in
# for a trained one; a last row times four scans in one call. Prints a
# Markdown table. Run on a quiet machine: one LibTorch process at a time.
# Usage: bench/apply_views.sh [WORK_DIR] [PRESET=small] [SLICE=192] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/harmonize_bench_apply_views}" preset="${2:-small}" slice="${3:-192}" threads="${4:-2}"
hz=./build/harmonize
. bench/one_pair_1mm.sh
if [ ! -f "$work/run/model.pt" ]; then
  "$hz" train "$work/prep" --direction 1p5T-to-3T --out "$work/run" --preset "$preset" --prediction x0 \
    --max-steps 2 --save-every 2 --validate-every 0 --val-fraction 0 --orientations sagittal,coronal,axial \
    --threads "$threads" -q --force
fi
scan="$work/cohort/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz"
mask="$work/cohort/derivatives/truth/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz"
size=$("$hz" info "$scan" | grep -m1 -i 'size' | tr -s ' ')
printf 'Scan: %s (%s); preset %s, %sx%s slices, %s threads\n\n' "$(basename "$scan")" "$size" "$preset" "$slice" "$slice" "$threads"
printf '| orientations | DDIM steps | apply seconds | peak memory |\n|---|---:|---:|---:|\n'
for views in sagittal sagittal,coronal,axial; do
  for steps in 1 2 4 8; do
    /usr/bin/time -f '%e %M' -o "$work/apply.time" "$hz" apply --model "$work/run/model.pt" --input "$scan" \
      --mask "$mask" --output "$work/out.nii.gz" --force --sampler ddim --step-spacing trailing --steps "$steps" \
      --orientations "$views" --end-noise none --threads "$threads" -q > /dev/null
    read -r s kb < "$work/apply.time"
    awk -v v="$views" -v n="$steps" -v s="$s" -v m="$kb" 'BEGIN { printf "| %s | %d | %.1f s | %.2f GiB |\n", v, n, s, m / 1048576 }'
  done
done
# Several scans in one call are harmonized one at a time: peak memory stays
# one scan's, time grows with the count.
n=4
args=()
for i in $(seq 1 $n); do args+=(--input "$scan" --mask "$mask" --output "$work/out$i.nii.gz"); done
/usr/bin/time -f '%e %M' -o "$work/apply.time" "$hz" apply --model "$work/run/model.pt" "${args[@]}" --force \
  --sampler ddim --step-spacing trailing --steps 1 --orientations sagittal,coronal,axial --end-noise none \
  --threads "$threads" -q > /dev/null
read -r s kb < "$work/apply.time"
awk -v n="$n" -v s="$s" -v m="$kb" 'BEGIN { printf "| sagittal, coronal, axial; %d scans in one call | 1 | %.1f s | %.2f GiB |\n", n, s, m / 1048576 }'
