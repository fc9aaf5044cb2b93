#!/usr/bin/env bash
# Does histogram matching's AHD lead over a faithful output come from the cohort's anatomy? On a simulated cohort
# (SIMULATE_OPTIONS: Colin27 by default, or --anatomy with the label maps), each subject scored without
# segmentation (`harmonize evaluate --no-segmentation`: MSE, AHD, stripes) in both directions: Original,
# histogram matching with the target-session scan of another subject as reference (the first subject of the
# other half of the cohort, as a 2-fold crossval takes the first training subject), and the ideal output at the
# scanners' own SNR (the cohort simulated again with the same options and seed and the protocols swapped,
# bench/swapped_protocols.sh: the target scanner's noisy image of the source acquisition). Preprocessed like
# scripts/demo.sh (1 mm, 192x192, affine, the simulation's masks). Existing WORK/cohort, WORK/prep,
# WORK/ideal/cohort and WORK/ideal/prep are reused (e.g. links to a crossval's cohort and prep/ and to
# bench/ideal_output.sh's folder run with SNR_1P5T=26 SNR_3T=20). Prints bench/relative_change.py's table.
# One process at a time; about 12 min for 14 label-map subjects at 1 mm on 2 cores.
# Usage: bench/hm_anatomy.sh WORK_DIR SIMULATE_OPTIONS...
#   e.g. bench/hm_anatomy.sh /work/hm_labelmaps --subjects 14 --resolution 1 --anatomy ../shared/data/labelmaps
set -euo pipefail
cd "$(dirname "$0")/.."
w="$1"
shift
hz=./build/harmonize
. bench/swapped_protocols.sh
grid=ses-3T
prep_flags=(--spacing 1 --slice-size 192 --no-deformable)
mkdir -p "$w/ideal"
[ -f "$w/cohort/code/harmonize_simulate.json" ] || "$hz" simulate "$w/cohort" "$@" --force -q
[ -f "$w/ideal/cohort/code/harmonize_simulate.json" ] ||
  "$hz" simulate "$w/ideal/cohort" "$@" --snr-1p5T 26 --snr-3T 20 "${swapped_protocol_flags[@]}" --force -q
for t in "$w"/cohort/derivatives/truth/sub-*/ses-*/anat/*_desc-brain_mask.nii.gz; do
  cmp -s "$t" "$w/ideal/cohort/${t#"$w"/cohort/}" || { echo "not the same anatomy: ${t#"$w"/cohort/} differs" >&2; exit 1; }
done
for c in "$w" "$w/ideal"; do
  [ -f "$c/prep/dataset.json" ] ||
    "$hz" preprocess "$c/cohort" "$c/prep" "${prep_flags[@]}" --mask-dir "$c/cohort/derivatives/truth" -q
done
image() {  # image ROOT SUB SES: the preprocessed scan of SES on the grid session's grid
  local space=""
  [ "$3" != "$grid" ] && space="_space-${grid/-/}"
  echo "$1/prep/$2/$3/anat/$2_$3${space}_desc-preproc_T1w.nii.gz"
}
mask() { echo "$w/prep/$1/$grid/anat/$1_${grid}_desc-brain_mask.nii.gz"; }
mapfile -t subs < <(ls "$w/prep" | grep '^sub-')
half=$((${#subs[@]} / 2))
for dir in 1p5T-to-3T 3T-to-1p5T; do
  src=ses-${dir%%-to-*} tgt=ses-${dir##*-to-}
  for i in "${!subs[@]}"; do
    sub=${subs[i]} ref=${subs[0]}
    ((i < half)) && ref=${subs[half]}
    csv="$w/${dir}_$sub.csv"
    [ -f "$csv" ] || "$hz" evaluate --source "$(image "$w" "$sub" "$src")" --target "$(image "$w" "$sub" "$tgt")" \
      --mask "$(mask "$sub")" --histogram-reference "$(image "$w" "$ref" "$tgt")" --histogram-reference-mask "$(mask "$ref")" \
      --method "ideal=$(image "$w/ideal" "$sub" "$src")" --no-segmentation --subject "$sub" --direction "$dir" \
      --out "$csv" --force --threads 2 -q
  done
done
python3 bench/relative_change.py "$w"/*_sub-*.csv
