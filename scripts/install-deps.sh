#!/usr/bin/env bash
# Installs every Debian package harmonize needs to build, test and run.
# Debian 12 (bookworm). Run as root, or with sudo available. The tests also
# use the official BIDS validator from the npm registry, installed into
# tools/bids-validator (its tests are skipped with a message where it is not).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev                # LibTorch 1.13 (CPU)
  libopenblas0-openmp         # fast BLAS for LibTorch (reference BLAS is ~30x slower)
  libinsighttoolkit5-dev      # NIfTI I/O, N4, resampling, registration v4
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev zlib1g-dev       # PNG previews, gzip
  mricron-data                # Colin27 templates: the embedded default anatomy
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi

# The BIDS validator for the tests (npm; Node.js from Debian when absent).
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs npm (for the BIDS validator used by the tests)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm || echo "install-deps: no npm; the BIDS validator tests will be skipped"
fi
validator="$(dirname "$0")/../tools/bids-validator"
if [ -x "$validator/node_modules/.bin/bids-validator" ]; then
  echo "install-deps: bids-validator present"
elif command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing bids-validator (npm, pinned by tools/bids-validator/package-lock.json; about a minute)"
  (cd "$validator" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    echo "install-deps: npm could not install bids-validator; its tests will be skipped"
fi
