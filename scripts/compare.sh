#!/usr/bin/env bash
# The full comparison (issue 17), at 2 mm: the earlier main job (16 simulated
# Colin27 subjects at 2 mm, 2 folds x 2 directions, sagittal slices, 1500
# training steps, DDIM 8 steps with end noise, a quantile map and a
# volume-fitted output) with the paper's two learned baselines beside the
# diffusion model, a DeepHarmony-like regression network and a pGAN-like
# conditional GAN, each trained per fold and direction for the model's
# training time and applied without corrections: docs/results/comparison.
# About 50 minutes on 2 cores (2026-12-04); rerunning continues a killed run. The report
# (OUT/crossval/report.html and report.md) holds all methods.
# Usage: scripts/compare.sh [OUT_DIR] [extra crossval options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out="${1:-compare}"
shift || true
hz=./build/harmonize
if [ ! -f "$out/cohort/participants.tsv" ]; then
  "$hz" simulate "$out/cohort" --subjects 16 --resolution 2 --preview --force
fi
"$hz" crossval "$out/cohort" "$out/crossval" \
  --folds 2 --spacing 2 --slice-size 96 --no-deformable \
  --mask-dir "$out/cohort/derivatives/truth" \
  --preset small --prediction x0 --train-steps 1500 \
  --lr 1e-3 --lr-schedule cosine --warmup-steps 100 --grad-clip 1 --ema 0.995 \
  --sampler ddim --steps 8 --end-noise 0.02 --calibrate --volume-fit --baselines regression,gan "$@"
echo "Open $out/crossval/report.html"
