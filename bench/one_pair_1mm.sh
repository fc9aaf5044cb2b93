# Sourced by the 1 mm benchmarks: makes "$work/cohort" (one simulated 1 mm
# pair with its truth) and "$work/prep" (preprocessed at 1 mm, SLICExSLICE
# slices, the truth's brain masks, affine registration) unless they exist.
# Needs: hz, work, slice, threads.
mkdir -p "$work"
if [ ! -f "$work/cohort/participants.tsv" ]; then
  "$hz" simulate "$work/cohort" --subjects 1 --resolution 1 --force -q > /dev/null
fi
if [ ! -f "$work/prep/dataset.json" ]; then
  "$hz" preprocess "$work/cohort" "$work/prep" --spacing 1 --slice-size "$slice" --no-deformable \
    --mask-dir "$work/cohort/derivatives/truth" --threads "$threads" -q --force > /dev/null
fi
