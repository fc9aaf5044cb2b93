#!/usr/bin/env bash
# Does a bare few-step chain draw the target scanner's texture (issue 15)? Retrains one fold of a 1 mm crossval
# made by scripts/demo.sh with the demo's training flags plus TRAIN_FLAGS (replacing the demo's own value of a
# flag they give; e.g. --prediction v --loss-norm l2), then applies each model to the fold's first NSUB held-out
# subjects once per sampling setting of SPECS (STEPS:SPACING:ORIENTATIONS, DDIM, eta 0, no end noise, no quantile
# map; APPLY_FLAGS added to every apply, e.g. --start-noise volume) and evaluates them beside the crossval's own
# output and histogram matching. Prints, per direction, the means over subjects (bench/crossval_paths.sh
# summarize_methods). TAG names a second set of settings on the same models (outputs and CSVs get the suffix; a
# trained model is reused). One LibTorch process at a time; about 5 min of training per direction on 2 cores,
# then 20 s (1 step, fused) to 2 min (8 steps, fused) per scan and setting.
# Usage: [DIRS="3T-to-1p5T 1p5T-to-3T"] [NSUB=3] [SPECS=...] [TAG=] [APPLY_FLAGS=] \
#        bench/few_step_texture.sh CROSSVAL_OUT WORK_DIR FOLD TRAIN_FLAGS...
#   e.g. bench/few_step_texture.sh demo/crossval vexp 1 --prediction v --loss-norm l2
#        TAG=_vol APPLY_FLAGS="--start-noise volume" SPECS=8:quadratic:sagittal,coronal,axial \
#          bench/few_step_texture.sh demo/crossval vexp 1 --prediction v --loss-norm l2
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2" fold="$3"
shift 3
hz=./build/harmonize
. bench/crossval_paths.sh
demo_flags_less "$@"
for dir in ${DIRS:-3T-to-1p5T 1p5T-to-3T}; do
  md="$out/models/fold-${fold}_$dir"
  src="ses-${dir%%-to-*}" d="$w/$dir"
  train_subs=$(json_list "$md/config.json" training_subjects)
  test_subs=$(json_list "$md/config.json" validation_subjects | cut -d' ' -f1-"${NSUB:-3}")
  mkdir -p "$d"
  [ -f "$d/run/model.pt" ] || /usr/bin/time -f "%e s: training $dir with $*" "$hz" train "$out/prep" --direction "$dir" \
    --out "$d/run" "${base[@]}" "$@" --subjects $train_subs --threads 2 --force -q
  for sub in $test_subs; do
    methods=()
    for spec in ${SPECS:-1:trailing:sagittal,coronal,axial 4:quadratic:sagittal,coronal,axial 8:quadratic:sagittal}; do
      IFS=: read -r k spacing ori <<< "$spec"
      name="k${k}_${spacing}_${ori//,/}${TAG:-}" o="$d/${sub}_k${k}_${spacing}_${ori//,/}${TAG:-}.nii.gz"
      # shellcheck disable=SC2086  # APPLY_FLAGS and the orientations are word lists
      [ -f "$o" ] || /usr/bin/time -f "%e s, %M kB: apply $dir $sub $spec ${APPLY_FLAGS:-}" "$hz" apply \
        --model "$d/run/model.pt" --input "$(image "$sub" "$src")" --mask "$(brain_mask "$sub")" --preprocessed \
        --calibration none --end-noise none --seed 7920 ${APPLY_FLAGS:-} --sampler ddim --step-spacing "$spacing" \
        --steps "$k" --orientations ${ori//,/ } --output "$o" --force --threads 2 -q > /dev/null
      methods+=(--method "$name=$o")
    done
    evaluate_beside "$sub" "$dir" "$d/$sub${TAG:-}.csv" "${methods[@]}"
  done
  echo "== $dir (fold $fold, held-out: $test_subs; retrained with $*; ${APPLY_FLAGS:-})"
  summarize_methods "$d"/sub-???"${TAG:-}".csv
done
