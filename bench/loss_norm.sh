#!/usr/bin/env bash
# The L1 prediction loss against the crossval's L2 models (issue 15): for one fold of a 1 mm crossval made by
# scripts/demo.sh, trains each direction's model again with the demo's recipe and --loss-norm l1 on the same
# training subjects, applies it bare (one fused pass, no end noise, no quantile map) to the fold's held-out
# subjects and evaluates it beside the crossval's own output (L2) and histogram matching. Prints, per direction,
# the means over subjects: MSE, AHD, signed volume difference to the target (%) and absolute difference (mm3).
# About 15 min per direction on 2 cores; run on a quiet machine (one LibTorch process at a time).
# Usage: bench/loss_norm.sh CROSSVAL_OUT WORK_DIR [FOLD]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$1" w="$2" fold="${3:-1}"
hz=./build/harmonize
. bench/crossval_paths.sh
for md in "$out"/models/fold-"$fold"_*; do
  dir="${md##*_}" src="ses-${md##*_}" tgt="ses-${md##*-to-}"
  src="${src%%-to-*}" d="$w/$dir"
  train_subs=$(json_list "$md/config.json" training_subjects) test_subs=$(json_list "$md/config.json" validation_subjects)
  mkdir -p "$d"
  /usr/bin/time -f "%e s: training $dir with --loss-norm l1" "$hz" train "$out/prep" --direction "$dir" --out "$d/run" \
    --preset small --prediction x0 --loss-norm l1 --max-steps 4000 --batch 4 --lr 1e-3 --lr-schedule cosine \
    --warmup-steps 100 --grad-clip 1 --ema 0.995 --patch-size 64 --orientations sagittal,coronal,axial \
    --subjects $train_subs --validate-every 0 --threads 2 --sampler ddim --steps 1 --step-spacing trailing --force -q
  ins=() masks=() outs=()
  for sub in $test_subs; do ins+=("$(image "$sub" "$src")") masks+=("$(brain_mask "$sub")") outs+=("$d/$sub.nii.gz"); done
  "$hz" apply --model "$d/run/model.pt" --input "${ins[@]}" --mask "${masks[@]}" --output "${outs[@]}" --preprocessed \
    --calibration none --end-noise none --seed 7920 --force --threads 2 -q > /dev/null
  for sub in $test_subs; do
    "$hz" evaluate --source "$(image "$sub" "$src")" --target "$(image "$sub" "$tgt")" --mask "$(brain_mask "$sub")" \
      --method "L1=$d/$sub.nii.gz" --method "L2=$out/harmonized/$dir/${sub}_desc-harmonized_T1w.nii.gz" \
      --method "HM=$out/harmonized/$dir/${sub}_desc-histmatch_T1w.nii.gz" \
      --subject "$sub" --direction "$dir" --out "$d/$sub.csv" --force --threads 2 -q
  done
  echo "== $dir (fold $fold, held-out: $test_subs)"
  cat "$d"/sub-*.csv | awk -F, '
    $5 == "volume_mm3" { v[$1 FS $3 FS $6] = $7; m[$3] = 1 }
    $4 == "target" && ($5 == "mse_mean" || $5 == "ahd") { a[$3 FS $5] += $7; n[$3 FS $5]++ }
    END {
      for (k in v) {
        split(k, p, FS); if (p[2] == "Target") continue
        t = v[p[1] FS "Target" FS p[3]]; key = p[2] FS p[3]
        sd[key] += (v[k] - t) / t * 100; ad[key] += (v[k] > t ? v[k] - t : t - v[k]); c[key]++
      }
      for (x in m) if (x != "Target")
        printf "%-9s MSE %.5f  AHD %7.0f  signed %% CSF %+.2f GM %+.2f WM %+.2f  abs mm3 CSF %5.0f GM %5.0f WM %5.0f\n", x,
          a[x FS "mse_mean"] / n[x FS "mse_mean"], a[x FS "ahd"] / n[x FS "ahd"], sd[x FS "CSF"] / c[x FS "CSF"],
          sd[x FS "GM"] / c[x FS "GM"], sd[x FS "WM"] / c[x FS "WM"], ad[x FS "CSF"] / c[x FS "CSF"],
          ad[x FS "GM"] / c[x FS "GM"], ad[x FS "WM"] / c[x FS "WM"]
    }' | sort
done
