# Sourced by the benches that read a crossval run's folder ($out): where its preprocessed images lie.
# grid_ses: the session whose grid each pair shares (plan.json's target_session);
# image SUB SES: the preprocessed image of session SES on that grid; brain_mask SUB: the pair's brain mask;
# json_list FILE KEY: the list KEY of a run's JSON file (config.json, harmonize.json), space-separated;
# demo_train_flags: scripts/demo.sh's training recipe, for `harmonize train` (the loss norm left to the caller);
# demo_flags_less FLAGS...: sets the array base to demo_train_flags less the flags FLAGS give again (they replace them);
# evaluate_beside SUB DIRECTION CSV METHOD_ARGS...: `harmonize evaluate` of SUB's outputs (--method NAME=PATH ...) beside
# the crossval's own output and histogram matching for that direction, into CSV;
# summarize_methods CSV...: per method of `harmonize evaluate` CSVs, the means over subjects of MSE, AHD,
# the signed volume difference to the target (%), the absolute one (mm3) and the stripe index over the target's.
grid_ses=$(tr -d ' \n' < "$out/plan.json" | grep -o '"target_session":"[^"]*"' | head -1 | sed 's/.*:"//; s/"//')
image() {
  local sub="$1" ses="$2" space=""
  [ "$ses" != "$grid_ses" ] && space="_space-${grid_ses/-/}"
  echo "$out/prep/$sub/$ses/anat/${sub}_${ses}${space}_desc-preproc_T1w.nii.gz"
}
brain_mask() { echo "$out/prep/$1/$grid_ses/anat/${1}_${grid_ses}_desc-brain_mask.nii.gz"; }
demo_train_flags=(--preset small --prediction x0 --max-steps 4000 --batch 4 --lr 1e-3 --lr-schedule cosine
  --warmup-steps 100 --grad-clip 1 --ema 0.995 --patch-size 64 --orientations sagittal,coronal,axial
  --histogram-loss 4 --validate-every 0 --sampler ddim --steps 1 --step-spacing trailing)
demo_flags_less() {
  base=()
  local i
  for ((i = 0; i < ${#demo_train_flags[@]}; i += 2)); do
    [[ " $* " == *" ${demo_train_flags[i]} "* ]] || base+=("${demo_train_flags[i]}" "${demo_train_flags[i + 1]}")
  done
}
json_list() { tr -d ' \n' < "$1" | grep -o "\"$2\":\[[^]]*\]" | sed 's/.*\[//; s/\]//; s/"//g; s/,/ /g'; }
evaluate_beside() {
  local sub="$1" dir="$2" csv="$3"
  shift 3
  ./build/harmonize evaluate --source "$(image "$sub" "ses-${dir%%-to-*}")" --target "$(image "$sub" "ses-${dir##*-to-}")" \
    --mask "$(brain_mask "$sub")" "$@" --method "crossval=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
    --method "HM=$out/harmonized/$dir/${sub}_desc-histmatch_T1w.nii.gz" \
    --subject "$sub" --direction "$dir" --out "$csv" --force --threads 2 -q
}
summarize_methods() {
  cat "$@" | awk -F, '
    $5 == "volume_mm3" { v[$1 FS $3 FS $6] = $7; m[$3] = 1 }
    $4 == "target" && ($5 == "mse_mean" || $5 == "ahd") { a[$3 FS $5] += $7; n[$3 FS $5]++ }
    $5 == "stripe_index" { st[$1 FS $3] = $7 }
    END {
      for (k in st) {
        split(k, p, FS); t = st[p[1] FS "Target"]
        if (p[2] != "Target" && t > 0) { sr[p[2]] += st[k] / t; sn[p[2]]++ }
      }
      for (k in v) {
        split(k, p, FS); if (p[2] == "Target") continue
        t = v[p[1] FS "Target" FS p[3]]; key = p[2] FS p[3]
        sd[key] += (v[k] - t) / t * 100; ad[key] += (v[k] > t ? v[k] - t : t - v[k]); c[key]++
      }
      for (x in m) if (x != "Target")
        printf "%-12s MSE %.5f  AHD %7.0f  signed %% CSF %+.2f GM %+.2f WM %+.2f  abs mm3 CSF %5.0f GM %5.0f WM %5.0f  stripes %.2f\n", x,
          a[x FS "mse_mean"] / n[x FS "mse_mean"], a[x FS "ahd"] / n[x FS "ahd"], sd[x FS "CSF"] / c[x FS "CSF"],
          sd[x FS "GM"] / c[x FS "GM"], sd[x FS "WM"] / c[x FS "WM"], ad[x FS "CSF"] / c[x FS "CSF"],
          ad[x FS "GM"] / c[x FS "GM"], ad[x FS "WM"] / c[x FS "WM"], sn[x] ? sr[x] / sn[x] : 0
    }' | sort
}
