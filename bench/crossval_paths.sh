# Sourced by the benches that read a crossval run's folder ($out): where its preprocessed images lie.
# grid_ses: the session whose grid each pair shares (plan.json's target_session);
# image SUB SES: the preprocessed image of session SES on that grid; brain_mask SUB: the pair's brain mask;
# json_list FILE KEY: the list KEY of a run's JSON file (config.json, harmonize.json), space-separated.
grid_ses=$(tr -d ' \n' < "$out/plan.json" | grep -o '"target_session":"[^"]*"' | head -1 | sed 's/.*:"//; s/"//')
image() {
  local sub="$1" ses="$2" space=""
  [ "$ses" != "$grid_ses" ] && space="_space-${grid_ses/-/}"
  echo "$out/prep/$sub/$ses/anat/${sub}_${ses}${space}_desc-preproc_T1w.nii.gz"
}
brain_mask() { echo "$out/prep/$1/$grid_ses/anat/${1}_${grid_ses}_desc-brain_mask.nii.gz"; }
json_list() { tr -d ' \n' < "$1" | grep -o "\"$2\":\[[^]]*\]" | sed 's/.*\[//; s/\]//; s/"//g; s/,/ /g'; }
