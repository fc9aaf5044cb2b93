#!/usr/bin/env bash
# Orientation ablation of a crossval run (issue 15): each held-out subject's fused output (the crossval's own
# harmonized volume) against the same fold's model applied to sagittal slices only (the paper's stacking; the
# model's recipe otherwise: sampler, steps, seed; bare, no end noise, no quantile map). Scores MSE, AHD and the
# stripe index over the target's (no segmentation) and prints one Markdown table of means over subjects.
# Run on a quiet machine: one LibTorch process at a time.
# Usage: bench/orientation_ablation.sh CROSSVAL_OUT [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="${2:-$(mktemp -d)}"
hz=./build/harmonize
mkdir -p "$w"
. bench/crossval_paths.sh
for md in "$out"/models/fold-*; do
  name=$(basename "$md") dir="${md##*_}"
  subs=$(json_list "$md/harmonize.json" subjects)
  ins=() masks=() outs=()
  for sub in $subs; do
    ins+=("$(image "$sub" "ses-${dir%%-to-*}")") masks+=("$(brain_mask "$sub")") outs+=("$w/${dir}_${sub}_sagittal.nii.gz")
  done
  /usr/bin/time -f "%e s: $name on sagittal slices, $(echo $subs | wc -w) subjects" "$hz" apply --model "$md/model.pt" \
    --input "${ins[@]}" --mask "${masks[@]}" --output "${outs[@]}" --preprocessed --orientations sagittal \
    --calibration none --end-noise none --force --threads 2 -q > /dev/null
  for sub in $subs; do
    "$hz" evaluate --source "$(image "$sub" "ses-${dir%%-to-*}")" --target "$(image "$sub" "ses-${dir##*-to-}")" \
      --mask "$(brain_mask "$sub")" --method "fused=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
      --method "sagittal=$w/${dir}_${sub}_sagittal.nii.gz" --subject "$sub" --direction "$dir" \
      --out "$w/${dir}_${sub}.csv" --force --threads 2 -q --no-segmentation
  done
done
echo
echo "| direction | method | subjects | MSE | AHD | stripe index / target's (mean, max) |"
echo "|---|---|---:|---:|---:|---:|"
cat "$w"/*_sub-*.csv | awk -F, '
  $3 == "Target" && $5 == "stripe_index" { tgt[$2 FS $1] = $7 }
  $4 == "target" && ($5 == "mse_mean" || $5 == "ahd") { v[$2 FS $3 FS $5] += $7; n[$2 FS $3 FS $5]++ }
  $5 == "stripe_index" && $3 != "Target" { st[$2 FS $3 FS $1] = $7; m[$2 FS $3] = 1 }
  END {
    for (k in st) {
      split(k, p, FS); r = st[k] / tgt[p[1] FS p[3]]; key = p[1] FS p[2]
      sum[key] += r; cnt[key]++; if (r > mx[key]) mx[key] = r
    }
    for (k in m) {
      split(k, p, FS)
      printf "| %s | %s | %d | %.5f | %.0f | %.2f, %.2f |\n", p[1], p[2], cnt[k], v[k FS "mse_mean"] / n[k FS "mse_mean"],
        v[k FS "ahd"] / n[k FS "ahd"], sum[k] / cnt[k], mx[k]
    }
  }' | sort
