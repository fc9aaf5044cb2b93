#!/usr/bin/env bash
# Set-up command 1: installs the Debian packages, builds, and runs the main job
# on the embedded default anatomy (Colin27 from Debian's mricron-data):
# simulates a small paired 1.5 T / 3 T cohort and tells where it went.
# Usage: scripts/demo.sh [OUT_DIR] [extra simulate options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out="${1:-demo/cohort}"
shift || true
./build/harmonize simulate "$out" --subjects 6 --preview --force "$@"
