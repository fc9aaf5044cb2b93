#!/usr/bin/env bash
# The L1 prediction loss against the crossval's L2 models (issue 15): for one fold of a 1 mm crossval made by
# scripts/demo.sh, trains each direction's model again with the demo's recipe and --loss-norm l1 on the same
# training subjects, applies it bare (one fused pass, no end noise, no quantile map) to the fold's held-out
# subjects and evaluates it beside the crossval's own output (L2) and histogram matching. Prints, per direction,
# the means over subjects: MSE, AHD, signed volume difference to the target (%) and absolute difference (mm3).
# About 15 min per direction on 2 cores; run on a quiet machine (one LibTorch process at a time).
# Usage: bench/loss_norm.sh CROSSVAL_OUT WORK_DIR [FOLD]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2" fold="${3:-1}"
hz=./build/harmonize
. bench/crossval_paths.sh
for md in "$out"/models/fold-"$fold"_*; do
  dir="${md##*_}" src="ses-${md##*_}" tgt="ses-${md##*-to-}"
  src="${src%%-to-*}" d="$w/$dir"
  train_subs=$(json_list "$md/config.json" training_subjects) test_subs=$(json_list "$md/config.json" validation_subjects)
  mkdir -p "$d"
  /usr/bin/time -f "%e s: training $dir with --loss-norm l1" "$hz" train "$out/prep" --direction "$dir" --out "$d/run" \
    "${demo_train_flags[@]}" --loss-norm l1 --subjects $train_subs --threads 2 --force -q
  ins=() masks=() outs=()
  for sub in $test_subs; do ins+=("$(image "$sub" "$src")") masks+=("$(brain_mask "$sub")") outs+=("$d/$sub.nii.gz"); done
  "$hz" apply --model "$d/run/model.pt" --input "${ins[@]}" --mask "${masks[@]}" --output "${outs[@]}" --preprocessed \
    --calibration none --end-noise none --seed 7920 --force --threads 2 -q > /dev/null
  for sub in $test_subs; do
    "$hz" evaluate --source "$(image "$sub" "$src")" --target "$(image "$sub" "$tgt")" --mask "$(brain_mask "$sub")" \
      --method "L1=$d/$sub.nii.gz" --method "L2=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
      --method "HM=$out/harmonized/$dir/${sub}_desc-histmatch_T1w.nii.gz" \
      --subject "$sub" --direction "$dir" --out "$d/$sub.csv" --force --threads 2 -q
  done
  echo "== $dir (fold $fold, held-out: $test_subs)"
  summarize_methods "$d"/sub-*.csv
done
