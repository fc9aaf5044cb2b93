#!/usr/bin/env bash
# Set-up command 2: installs the Debian packages, builds, and runs the whole
# test suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
