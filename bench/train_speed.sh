#!/usr/bin/env bash
# Training cost at 1 mm (issue 15): seconds per step, steps per second, peak
# memory and minutes per model of `harmonize train` for whole sagittal slices
# (the paper's), whole slices of three orientations, and square brain patches
# of three orientations (the main job's setting), on one simulated 1 mm pair
# (preprocessed: N4, 1 mm grid, SLICExSLICE slices). The per-step time is
# taken between the first and the last logged step, so the rest (loading,
# slicing, the first steps, saving) is left out and reported on its own. Minutes per model are for
# MODEL_STEPS steps (the main job's 4000 by default). Prints a Markdown table.
# Run on a quiet machine: one LibTorch process at a time.
# Usage: bench/train_speed.sh [WORK_DIR] [STEPS=100] [MODEL_STEPS=4000] [PRESET=small] [SLICE=192] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/harmonize_bench_train_speed}" steps="${2:-100}" model_steps="${3:-4000}"
preset="${4:-small}" slice="${5:-192}" threads="${6:-2}"
hz=./build/harmonize
. bench/one_pair_1mm.sh
printf 'One 1 mm pair, preset %s, %sx%s slices, %s threads, %s steps timed per setting\n\n' "$preset" "$slice" "$slice" \
  "$threads" "$steps"
printf '| training on | batch | s per step | steps per s | outside the steps, s | peak memory | min per %s steps |\n' "$model_steps"
printf '|---|---:|---:|---:|---:|---:|---:|\n'
run() {  # label, batch, extra train options...
  local label="$1" batch="$2"
  shift 2
  rm -rf "$work/run"
  /usr/bin/time -f '%e %M' -o "$work/train.time" "$hz" train "$work/prep" --direction 1p5T-to-3T --out "$work/run" \
    --preset "$preset" --prediction x0 --batch "$batch" --max-steps "$steps" --save-every "$steps" \
    --validate-every 0 --val-fraction 0 --threads "$threads" -q --force "$@" > /dev/null
  read -r total kb < "$work/train.time"
  # train_log.csv: step,loss,mse,vb,seconds,... (seconds since the first step began)
  awk -F, -v label="$label" -v b="$batch" -v total="$total" -v kb="$kb" -v n="$model_steps" '
    NR == 2 { s0 = $1; t0 = $5 }
    NR > 1 { s1 = $1; t1 = $5 }
    END { per = (t1 - t0) / (s1 - s0)
          printf "| %s | %d | %.3f | %.1f | %.1f | %.2f GiB | %.1f |\n", label, b, per, 1 / per, total - t1, kb / 1048576,
                 per * n / 60 }' "$work/run/train_log.csv"
}
run "whole sagittal slices" 4
run "whole slices, 3 orientations" 4 --orientations sagittal,coronal,axial
run "64x64 patches, 3 orientations" 4 --patch-size 64 --orientations sagittal,coronal,axial
run "64x64 patches, 3 orientations" 8 --patch-size 64 --orientations sagittal,coronal,axial
run "96x96 patches, 3 orientations" 4 --patch-size 96 --orientations sagittal,coronal,axial
