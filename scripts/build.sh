#!/usr/bin/env bash
# Configures and builds harmonize into build/ (Release, ccache when present).
# Extra arguments go to the CMake configure step, e.g. -DHARMONIZE_WITH_ITK=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: paths relative to the checkout, so fresh clones (CI) hit the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif [ "$#" -gt 0 ]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j"$(nproc)"
