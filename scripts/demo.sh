#!/usr/bin/env bash
# Set-up command 1: installs the Debian packages, builds, and runs the main job
# on the embedded default anatomy (Colin27 from Debian's mricron-data):
#   1. simulate a paired 1.5 T / 3 T cohort (16 subjects, 9 controls and 7 MS
#      patients, 2 mm) with its ground truth;
#   2. cross-validate on it: preprocess, 2 folds x 2 directions of the
#      diffusion model (the "small" CPU preset, a short training budget),
#      harmonize the held-out subjects (DDIM, 8 steps, ending at noise sd
#      0.02, about half the scanners' own noise, each model's intensities
#      calibrated on its own training subjects; a second output per model
#      whose end noise is fitted to tissue volumes on training subjects),
#      histogram matching as the baseline, segment and evaluate everything;
#   3. the report: OUT/crossval/report.html (open it in a browser) and report.md.
# About 30 minutes after the build on 2 cores. The full-size study is in
# README.md ("The full-size study"). Rerunning continues a killed run.
# Usage: scripts/demo.sh [OUT_DIR] [extra crossval options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out="${1:-demo}"
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
  --sampler ddim --steps 8 --end-noise 0.02 --calibrate --volume-fit "$@"
echo "Open $out/crossval/report.html"
