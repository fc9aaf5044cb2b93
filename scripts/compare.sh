#!/usr/bin/env bash
# The full comparison (issue 17): the main job (scripts/demo.sh) with the
# paper's two learned baselines beside the diffusion model, a DeepHarmony-like
# regression network and a pGAN-like conditional GAN, each trained per fold
# and direction for the model's training time and applied without
# corrections. Run after the main job on the same OUT_DIR, it reuses
# everything done and adds the baselines (about 30 minutes more on 2 cores);
# on a fresh OUT_DIR it runs the main job first (about 65 minutes in all).
# The report (OUT/crossval/report.html and report.md) then holds all methods.
# Usage: scripts/compare.sh [OUT_DIR] [extra crossval options]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-demo}"
shift || true
exec bash scripts/demo.sh "$out" --baselines regression,gan "$@"
