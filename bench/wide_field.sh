#!/bin/sh
# Seconds and peak memory of `harmonize apply` on one 1 mm scan as the
# simulator frames it, and on the same scan in the middle of a 512^3 field of
# view (a scanner file with a normal head in it), and on the same scan as a
# DICOM converter writes it (bench/scanner_form: axes permuted and reversed,
# an oblique grid, 40 mm of neck, uint16 scanner units; no mask given). Preprocessing works in the
# head's box plus 10 mm when the field of view is at least twice that box.
#   bench/wide_field.sh BUILD_DIR MODEL [WORK_DIR]
# APPLY_OPTS (default "--steps 20") is passed to apply: sampling costs the
# same for both inputs.
set -eu
build=${1:?build folder}
model=${2:?model file (e.g. a main-job model)}
work=${3:-/tmp/harmonize_wide_field}
hz="$build/harmonize"
opts=${APPLY_OPTS:---steps 20}
mkdir -p "$work"
[ -d "$work/cohort" ] || "$hz" simulate "$work/cohort" --subjects 1 --resolution 1 --seed 5 -q
scan="$work/cohort/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_T1w.nii.gz"
[ -f "$work/wide_T1w.nii.gz" ] || "$build/bench/wide_field" "$scan" "$work/wide_T1w.nii.gz" --size 512 >/dev/null
mask="$work/cohort/derivatives/truth/sub-001/ses-1p5T/anat/sub-001_ses-1p5T_desc-brain_mask.nii.gz"
[ -f "$work/scanner_T1w.nii.gz" ] || "$build/bench/scanner_form" "$scan" "$mask" "$work/scanner_T1w.nii.gz" --neck 40 >/dev/null
echo "apply options: $opts"
printf '| input | voxels | seconds | peak memory (MiB) |\n|---|---|---|---|\n'
for name in framed wide scanner; do
  in="$scan"
  [ "$name" = wide ] && in="$work/wide_T1w.nii.gz"
  [ "$name" = scanner ] && in="$work/scanner_T1w.nii.gz"
  rm -f "$work/${name}_out.nii.gz" "$work/${name}_out.json"
  /usr/bin/time -f "%e %M" -o "$work/$name.time" \
    "$hz" apply --model "$model" --input "$in" --output "$work/${name}_out.nii.gz" --threads 2 $opts -q >/dev/null
  dims=$("$hz" info "$in" | sed -n 's/^  size *//p' | tr -d ' ')
  read -r secs kib <"$work/$name.time"
  printf '| %s | %s | %s | %d |\n' "$name" "$dims" "$secs" $((kib / 1024))
done
