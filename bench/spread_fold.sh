#!/usr/bin/env bash
# The spread's draw (issue 15): for one fold of a 1 mm crossval made by scripts/demo.sh, trains each direction's
# model again with the demo's recipe plus --spread gaussian on the same training subjects, applies it (one fused
# pass, no end noise, no quantile map) twice to the fold's held-out subjects: drawn from its spread (the
# default) and --estimate-only, and evaluates both beside the crossval's own output and histogram matching.
# Prints, per direction, the means over subjects: MSE, AHD, signed volume difference to the target (%) and
# absolute difference (mm3). About 16 min per direction on 2 cores; one LibTorch process at a time.
# Usage: bench/spread_fold.sh CROSSVAL_OUT WORK_DIR [FOLD]
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
  /usr/bin/time -f "%e s: training $dir with --spread gaussian" "$hz" train "$out/prep" --direction "$dir" \
    --out "$d/run" "${demo_train_flags[@]}" --loss-norm l1 --spread gaussian --subjects $train_subs --threads 2 --force -q
  ins=() masks=() drawn=() est=()
  for sub in $test_subs; do
    ins+=("$(image "$sub" "$src")") masks+=("$(brain_mask "$sub")") drawn+=("$d/$sub.nii.gz") est+=("$d/${sub}_estimate.nii.gz")
  done
  for kind in drawn estimate; do
    outs=("${drawn[@]}") extra=()
    [ "$kind" = estimate ] && outs=("${est[@]}") extra=(--estimate-only)
    /usr/bin/time -f "%e s: apply $dir ($kind), ${#ins[@]} scans" "$hz" apply --model "$d/run/model.pt" \
      --input "${ins[@]}" --mask "${masks[@]}" --output "${outs[@]}" --preprocessed --calibration none \
      --end-noise none --seed 7920 --force --threads 2 -q "${extra[@]}" > /dev/null
  done
  for sub in $test_subs; do
    "$hz" evaluate --source "$(image "$sub" "$src")" --target "$(image "$sub" "$tgt")" --mask "$(brain_mask "$sub")" \
      --method "drawn=$d/$sub.nii.gz" --method "estimate=$d/${sub}_estimate.nii.gz" \
      --method "crossval=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
      --method "HM=$out/harmonized/$dir/${sub}_desc-histmatch_T1w.nii.gz" \
      --subject "$sub" --direction "$dir" --out "$d/$sub.csv" --force --threads 2 -q
  done
  echo "== $dir (fold $fold, held-out: $test_subs)"
  summarize_methods "$d"/sub-*.csv
done
