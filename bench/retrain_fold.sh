#!/usr/bin/env bash
# One fold of a 1 mm crossval made by scripts/demo.sh, retrained with a change to its recipe (issue 15): trains
# each direction's model again with the demo's training flags plus TRAIN_FLAGS (replacing the demo's own
# value of a flag they give) on the same training subjects,
# applies it bare (one fused pass, no end noise, no quantile map) to the fold's held-out subjects, and for a
# model with a spread (--spread gaussian or white) a second time with --estimate-only; evaluates the outputs beside the
# crossval's own output and histogram matching. Prints, per direction, the means over subjects: MSE, AHD, signed
# volume difference to the target (%) and absolute difference (mm3). About 15 min per direction on 2 cores
# (23 with a spread); one LibTorch process at a time.
# Usage: [RETRAIN_DIRECTION=DIR] bench/retrain_fold.sh CROSSVAL_OUT WORK_DIR FOLD TRAIN_FLAGS...
#   (RETRAIN_DIRECTION: that direction only; the crossval's baseline models, if any, are skipped)
#   e.g. bench/retrain_fold.sh demo/crossval l1 1 --loss-norm l1    (the L1 loss against an L2 crossval)
#        bench/retrain_fold.sh demo/crossval sp 1 --loss-norm l1 --spread gaussian
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2" fold="$3"
shift 3
hz=./build/harmonize
. bench/crossval_paths.sh
# The demo's flags, less those TRAIN_FLAGS give again (they replace them).
demo_flags_less "$@"
spread=no
[[ " $* " == *" --spread gaussian "* || " $* " == *" --spread white "* ]] && spread=yes
for md in "$out"/models/fold-"$fold"_*; do
  rest="${md##*/fold-"$fold"_}"
  [[ "$rest" == *_* ]] && continue  # a baseline's model (fold-F_DIRECTION_OBJECTIVE)
  [ -n "${RETRAIN_DIRECTION:-}" ] && [ "$rest" != "$RETRAIN_DIRECTION" ] && continue
  dir="${md##*_}" src="ses-${md##*_}"
  src="${src%%-to-*}" d="$w/$dir"
  train_subs=$(json_list "$md/config.json" training_subjects) test_subs=$(json_list "$md/config.json" validation_subjects)
  mkdir -p "$d"
  /usr/bin/time -f "%e s: training $dir with $*" "$hz" train "$out/prep" --direction "$dir" --out "$d/run" \
    "${base[@]}" "$@" --subjects $train_subs --threads 2 --force -q
  ins=() masks=() outs=() est=() methods=()
  for sub in $test_subs; do
    ins+=("$(image "$sub" "$src")") masks+=("$(brain_mask "$sub")") outs+=("$d/$sub.nii.gz") est+=("$d/${sub}_estimate.nii.gz")
  done
  apply() {
    /usr/bin/time -f "%e s, %M kB: apply $dir $*, ${#ins[@]} scans" "$hz" apply --model "$d/run/model.pt" \
      --input "${ins[@]}" --mask "${masks[@]}" --preprocessed --calibration none --end-noise none --seed 7920 \
      --force --threads 2 -q "$@" > /dev/null
  }
  apply --output "${outs[@]}"
  [ $spread = yes ] && apply --output "${est[@]}" --estimate-only
  for sub in $test_subs; do
    methods=(--method "retrained=$d/$sub.nii.gz")
    [ $spread = yes ] && methods+=(--method "estimate=$d/${sub}_estimate.nii.gz")
    evaluate_beside "$sub" "$dir" "$d/$sub.csv" "${methods[@]}"
  done
  echo "== $dir (fold $fold, held-out: $test_subs; retrained with $*)"
  summarize_methods "$d"/sub-*.csv
done
