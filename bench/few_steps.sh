#!/usr/bin/env bash
# Few-step sampling of one trained model side by side (issue 15): DDIM with
# 1, 2, 4 and 8 network passes per slice (trailing step spacing: every chain
# starts at t = 999; the crossval's uniform 8 steps beside them) on one held-out subject of a
# crossval run, each with the model's orientations fused and with sagittal
# slices only, the bare output (no end noise, no quantile map); then the
# paper's full 1000-step DDPM as the reference on every STRIDE-th sagittal
# brain slice (slice-level MSE and AHD of every setting on those slices).
# Prints two Markdown tables: whole-volume metrics (MSE, AHD, tissue-volume
# differences to the target's segmentation, stripe index over the target's)
# with apply seconds, and the slice-level comparison with the 1000-step
# reference. Run on a quiet machine: one LibTorch process at a time.
# Usage: bench/few_steps.sh CROSSVAL_OUT [FOLD=1] [DIRECTION=1p5T-to-3T] [STRIDE=5] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" fold="${2:-1}" dir="${3:-1p5T-to-3T}" stride="${4:-5}"
work="${5:-$(mktemp -d)}"
mkdir -p "$work"
hz=./build/harmonize
model_dir="$out/models/fold-${fold}_${dir}"
. bench/crossval_paths.sh
sub=$(json_list "$model_dir/harmonize.json" subjects | cut -d' ' -f1)
src=$(image "$sub" "ses-${dir%%-to-*}") tgt=$(image "$sub" "ses-${dir##*-to-}")
brain=$(brain_mask "$sub")
views=$(json_list "$model_dir/config.json" orientations | tr ' ' ',')
common=(--model "$model_dir/model.pt" --input "$src" --mask "$brain" --preprocessed --end-noise none
        --calibration none --force --threads 2 -q)
echo "Model $model_dir/model.pt (trained on: $views), held-out subject $sub, $dir; bare outputs"
echo
methods=() times=()
settings=("$views")
[ "$views" != sagittal ] && settings+=(sagittal)
for v in "${settings[@]}"; do
  for steps in 1 2 4 8; do
    name="DDIM $steps ${v//,/+}"  # no commas: names go into a CSV
    f="$work/ddim${steps}_${v//,/+}.nii.gz"
    /usr/bin/time -f '%e' -o "$work/t" "$hz" apply "${common[@]}" --output "$f" --sampler ddim --steps "$steps" \
      --step-spacing trailing --orientations "$v" > /dev/null
    methods+=(--method "$name=$f")
    times+=("$name=$(cat "$work/t")")
  done
done
# The crossval's own setting: DDIM 8 with uniform spacing (timesteps 0, 125, ..., 875).
name="DDIM 8 uniform ${views//,/+}"
f="$work/ddim8u.nii.gz"
/usr/bin/time -f '%e' -o "$work/t" "$hz" apply "${common[@]}" --output "$f" --sampler ddim --steps 8 --step-spacing uniform \
  --orientations "$views" > /dev/null
methods+=(--method "$name=$f")
times+=("$name=$(cat "$work/t")")
"$hz" evaluate --source "$src" --target "$tgt" --mask "$brain" "${methods[@]}" --subject "$sub" --direction "$dir" \
  --out "$work/volume.csv" --force --threads 2 -q
# The table: one row per setting from the metrics CSV (subject,direction,method,reference,metric,class,value).
printf '| setting | apply s | MSE | AHD | abs. volume diff. CSF / GM / WM (mm³) | stripe index / target |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for entry in "Original=" "${times[@]}"; do
  name="${entry%%=*}" secs="${entry#*=}"
  awk -F, -v m="$name" -v s="$secs" '
    $3 == "Target" && $5 == "stripe_index" { target = $7 }
    $3 == m && $4 == "target" && $5 == "mse_mean" { mse = $7 }
    $3 == m && $4 == "target" && $5 == "ahd" { ahd = $7 }
    $3 == m && $4 == "target" && $5 == "volume_abs_diff_mm3" { vol[$6] = $7 }
    $3 == m && $5 == "stripe_index" { stripe = $7 }
    END { printf "| %s | %s | %.5f | %.0f | %.0f / %.0f / %.0f | %.2f |\n", m, (s == "" ? "-" : s), mse, ahd,
          vol["CSF"], vol["GM"], vol["WM"], stripe / target }' "$work/volume.csv"
done
echo
# The reference: the paper's 1000-step DDPM on every STRIDE-th sagittal brain slice.
ref="$work/ddpm1000.nii.gz"
/usr/bin/time -f '%e' -o "$work/t" "$hz" apply "${common[@]}" --output "$ref" --sampler ddpm --steps 1000 \
  --orientations sagittal --slice-stride "$stride" > /dev/null
ref_s=$(cat "$work/t")
slice_methods=(--method "DDPM 1000=$ref")
for steps in 1 2 4 8; do slice_methods+=(--method "DDIM $steps sagittal=$work/ddim${steps}_sagittal.nii.gz"); done
"$hz" evaluate --source "$src" --target "$tgt" --mask "$brain" "${slice_methods[@]}" --subject "$sub" --direction "$dir" \
  --out "$work/slices.csv" --force --threads 2 -q --no-segmentation --harmonized-slices-only
# The same slices scored against the DDPM-1000 output instead of the target scan.
"$hz" evaluate --source "$src" --target "$ref" --mask "$brain" "${slice_methods[@]}" --subject "$sub" --direction "$dir" \
  --out "$work/to_reference.csv" --force --threads 2 -q --no-segmentation --harmonized-slices-only
printf 'Every %s-th sagittal brain slice (DDPM 1000 steps: %s s for those slices, sagittal only)\n\n' "$stride" "$ref_s"
printf '| setting | MSE | AHD | MSE to the DDPM-1000 output | AHD to it |\n|---|---:|---:|---:|---:|\n'
for name in Original "DDPM 1000" "DDIM 1 sagittal" "DDIM 2 sagittal" "DDIM 4 sagittal" "DDIM 8 sagittal"; do
  awk -F, -v m="$name" '
    FNR == 1 { file++ }
    $3 == m && $4 == "target" && $5 == "mse_mean" { mse[file] = $7 }
    $3 == m && $4 == "target" && $5 == "ahd" { ahd[file] = $7 }
    END { printf "| %s | %.5f | %.0f | %.5f | %.0f |\n", m, mse[1], ahd[1], mse[2], ahd[2] }' \
    "$work/slices.csv" "$work/to_reference.csv"
done
