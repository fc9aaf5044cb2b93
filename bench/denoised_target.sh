#!/usr/bin/env bash
# What a noise-free output can reach (issue 15): each listed held-out subject's target scan, smoothed by
# [1,2,1]/4 along each axis (its noise sd cut to about a quarter, edges barely blurred; bench/smooth_nifti.py,
# plain Python), scored as a method beside the crossval's harmonized output: MSE, AHD and tissue-volume
# differences to the target scan itself. Python 3 (no packages) for the smoothing; one LibTorch-free process.
# Usage: bench/denoised_target.sh CROSSVAL_OUT WORK_DIR SUBJECT...
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2"
shift 2
hz=./build/harmonize
mkdir -p "$w"
. bench/crossval_paths.sh
echo "| direction | subject | method | MSE | AHD | abs. volume diff. CSF / GM / WM (mm³) |"
echo "|---|---|---|---:|---:|---:|"
for dir in $(ls "$out/harmonized"); do
  for sub in "$@"; do
    src=ses-${dir%%-to-*} tgt=ses-${dir##*-to-}
    smooth="$w/${sub}_${tgt}_smoothed.nii.gz"
    [ -f "$smooth" ] || python3 bench/smooth_nifti.py "$(image "$sub" "$tgt")" "$smooth"
    "$hz" evaluate --source "$(image "$sub" "$src")" --target "$(image "$sub" "$tgt")" \
      --mask "$(brain_mask "$sub")" \
      --method "target smoothed=$smooth" --method "harmonize DM=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
      --subject "$sub" --direction "$dir" --out "$w/${dir}_${sub}.csv" --force --threads 2 -q
    for m in Original "harmonize DM" "target smoothed"; do
      awk -F, -v m="$m" -v d="$dir" -v s="$sub" '
        $3 == m && $4 == "target" && $5 == "mse_mean" { mse = $7 }
        $3 == m && $4 == "target" && $5 == "ahd" { ahd = $7 }
        $3 == m && $4 == "target" && $5 == "volume_abs_diff_mm3" { vol[$6] = $7 }
        END { printf "| %s | %s | %s | %.5f | %.0f | %.0f / %.0f / %.0f |\n", d, s, m, mse, ahd, vol["CSF"], vol["GM"], vol["WM"] }' \
        "$w/${dir}_${sub}.csv"
    done
  done
done
