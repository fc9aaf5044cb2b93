#!/usr/bin/env bash
# Cost of the three training objectives side by side (issue 17): the
# diffusion model, the DeepHarmony-like regression baseline and the pGAN-like
# GAN baseline, each with the same network preset, trained for the same
# number of steps on one preprocessed dataset, then applied to one raw scan
# (its preprocessing included: N4, resampling, slicing). Prints a Markdown
# table: training seconds, seconds per step, apply seconds and apply peak
# memory. Run on a quiet machine: one LibTorch process at a time.
# Usage: bench/objectives.sh PREP_DIR SCAN MASK [STEPS=300] [PRESET=small]
#   e.g. the main job's data: bench/objectives.sh demo/crossval/prep \
#        demo/cohort/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz \
#        demo/cohort/derivatives/truth/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz
set -euo pipefail
cd "$(dirname "$0")/.."
prep="$1" scan="$2" mask="$3" steps="${4:-300}" preset="${5:-small}"
hz=./build/harmonize
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The main job's recipe (scripts/demo.sh): x0 prediction, lr 1e-3, batch 4, DDIM 8 steps.
common=(--direction 1p5T-to-3T --preset "$preset" --prediction x0 --lr 1e-3 --batch 4 --max-steps "$steps"
        --save-every "$steps" --validate-every 0 --sampler ddim --steps 8 --threads 2 -q)
printf '| objective | train command, %s steps (with data loading) | per step (training loop) | apply one scan | peak memory (apply) |\n' "$steps"
printf '|---|---:|---:|---:|---:|\n'
for objective in diffusion regression gan; do
  run="$work/$objective"
  /usr/bin/time -f '%e %M' -o "$work/train.time" "$hz" train "$prep" --out "$run" --objective "$objective" "${common[@]}"
  /usr/bin/time -f '%e %M' -o "$work/apply.time" "$hz" apply --model "$run/model.pt" --input "$scan" --mask "$mask" \
    --output "$work/$objective.nii.gz" --threads 2 -q
  read -r train_s _ < "$work/train.time"
  loop_s=$(tail -1 "$run/train_log.csv" | cut -d, -f5)  # the seconds column: the training loop alone
  read -r apply_s apply_kb < "$work/apply.time"
  how=$([ "$objective" = diffusion ] && echo "DDIM 8 steps" || echo "one pass")
  awk -v o="$objective" -v t="$train_s" -v l="$loop_s" -v n="$steps" -v a="$apply_s" -v m="$apply_kb" -v h="$how" \
    'BEGIN { printf "| %s | %.1f s | %.3f s | %.1f s (%s) | %.0f MiB |\n", o, t, l / n, a, h, m / 1024 }'
done
