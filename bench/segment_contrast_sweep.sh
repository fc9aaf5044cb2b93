#!/usr/bin/env bash
# Does the segmentation hold across contrasts, not only at the simulator's
# defaults? For each setting of the simulator's relaxation (WM and cortex T1)
# and protocol (TI, flip angle) knobs, one Colin27 subject is simulated at
# 1 mm on both scanners and segmented (bench/segment_quality, against the
# simulated truth). One line per setting and scanner: the grey/white signal
# ratio the setting gives (pure tissues), Dice CSF/GM/WM and the hard volume
# error per class to the truth, the sweeps to convergence, and how far apart
# the GM and WM cores lie in noise sds (* where that is below the refinement
# threshold, so the means were refined on the histogram).
#   bash bench/segment_contrast_sweep.sh [OUT_DIR] [RESOLUTION_MM]   (default /tmp/hz_contrast, 1)
# SWEEP_QUALITY_OPTIONS=--no-stability skips segment_quality's second run with twice the sweeps.
# About a minute per setting at 1 mm on 2 cores after the build (up to four when
# EM reaches its cap on a very low contrast). Rerun: finished
# simulations are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
hz=./build/harmonize
quality=./build/bench/segment_quality
out="${1:-/tmp/hz_contrast}"
res="${2:-1}"
[ -x "$quality" ] || { echo "build the benchmarks first: cmake --build build --target segment_quality" >&2; exit 1; }
# name | simulate options (1.5 T and 3 T knobs; defaults: TI 1100/900 ms, flip 15/9 deg, T1 WM 646/838, cortex 1197/1607 ms)
settings=(
  "default|"
  "TI long|--ti-1p5T 1200 --ti-3T 1050"
  "TI short|--ti-1p5T 900 --ti-3T 800"
  "flip low|--flip-1p5T 8 --flip-3T 6"
  "flip high|--flip-1p5T 20 --flip-3T 12"
  "cortex T1 -8%|--gm-t1-1p5T 1100 --gm-t1-3T 1480"
  "WM T1 +13%|--wm-t1-1p5T 730 --wm-t1-3T 946"
  "WM T1 +15%|--wm-t1-1p5T 745 --wm-t1-3T 966"
  "WM T1 +16%|--wm-t1-1p5T 750 --wm-t1-3T 970"
  "WM T1 +8%, cortex T1 -8%|--wm-t1-1p5T 700 --wm-t1-3T 905 --gm-t1-1p5T 1100 --gm-t1-3T 1480"
  "lowest: WM +16%, cortex -12%, TI long|--wm-t1-1p5T 750 --wm-t1-3T 970 --gm-t1-1p5T 1050 --gm-t1-3T 1410 --ti-1p5T 1200 --ti-3T 1050"
)
printf '| setting | scanner | WM/GM signal | Dice CSF | Dice GM | Dice WM | vol. err. CSF | GM | WM | sweeps | GM-WM sep. |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
i=0
for s in "${settings[@]}"; do
  name="${s%%|*}"
  opts="${s#*|}"
  dir="$out/setting-$i"
  i=$((i + 1))
  if [ ! -f "$dir/participants.tsv" ]; then
    # shellcheck disable=SC2086
    "$hz" simulate "$dir" --subjects 1 --patients 0 --resolution "$res" --force -q $opts > /dev/null
  fi
  ratios=($(grep -o '"wm_gm_signal_ratio": [0-9.]*' "$dir/code/harmonize_simulate.json" | awk '{print $2}'))
  "$quality" "$dir" ${SWEEP_QUALITY_OPTIONS:-} > "$dir/quality.txt"
  while read -r scan dc dg dw _ vc vg vw _ _ _ _ _ _ sweeps _ _ sep _; do
    case "$scan" in
      sub-*_ses-1p5T) ses=1.5T; r=${ratios[0]} ;;
      sub-*_ses-3T) ses=3T; r=${ratios[1]} ;;
      *) continue ;;
    esac
    printf '| %s | %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$ses" "$r" "$dc" "$dg" "$dw" "$vc" "$vg" "$vw" "$sweeps" "$sep"
  done < "$dir/quality.txt"
done
