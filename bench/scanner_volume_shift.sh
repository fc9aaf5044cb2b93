#!/usr/bin/env bash
# How much of the tissue-volume difference between a subject's 1.5 T and 3 T
# scans is a scanner effect that harmonization could remove, and how much is
# scan-to-scan variation that no harmonizer can: simulate a cohort, preprocess
# it as the main job does (2 mm, affine pair registration, truth brain masks),
# segment both scans of every subject (`harmonize evaluate`, Original only)
# and print, per class, the mean signed difference (the systematic shift, with
# its standard error and t), the same per group of participants.tsv (controls
# and patients: the anatomy changes it), the mean absolute difference (what
# the report's "Original" row shows), and what is left of it after removing
# the mean shift and after removing each group's shift: parts that depend on
# the image are what a harmonizer can remove; what stays is closer to the
# scan-to-scan variation that no harmonizer can.
#   bash bench/scanner_volume_shift.sh [OUT_DIR] [SUBJECTS]    (default /tmp/hz_shift, 40)
# About 7 minutes for 40 subjects on 2 cores after the build. Rerun: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
hz=./build/harmonize
out="${1:-/tmp/hz_shift}"
n="${2:-40}"
[ -f "$out/cohort/participants.tsv" ] || "$hz" simulate "$out/cohort" --subjects "$n" --resolution 2 --force -q
[ -f "$out/prep/dataset.json" ] || "$hz" preprocess "$out/cohort" "$out/prep" --spacing 2 --slice-size 96 \
  --no-deformable --mask-dir "$out/cohort/derivatives/truth" -q
mkdir -p "$out/metrics"
for p in "$out"/prep/sub-*; do
  s=$(basename "$p")
  [ -f "$out/metrics/$s.csv" ] || "$hz" evaluate --subject "$s" --direction 1p5T-to-3T -q \
    --source "$p/ses-1p5T/anat/${s}_ses-1p5T_space-ses3T_desc-preproc_T1w.nii.gz" \
    --target "$p/ses-3T/anat/${s}_ses-3T_desc-preproc_T1w.nii.gz" \
    --mask "$p/ses-3T/anat/${s}_ses-3T_desc-brain_mask.nii.gz" --out "$out/metrics/$s.csv"
done
python3 - "$out" <<'PY'
import csv, glob, statistics as st, sys
out = sys.argv[1]
group = {r["participant_id"]: r["group"] for r in csv.DictReader(open(out + "/cohort/participants.tsv"), delimiter="\t")}
vol = {}
for f in glob.glob(out + "/metrics/sub-*.csv"):
    for r in csv.DictReader(open(f)):
        if r["metric"] == "volume_mm3" and r["method"] in ("Original", "Target"):
            vol.setdefault(r["subject"], {})[(r["method"], r["class"])] = float(r["value"])
subs = sorted(vol)
print(f"{len(subs)} subjects; volumes of the 1.5 T scan's segmentation minus the 3 T scan's, mm^3")
groups = sorted(set(group[s] for s in subs))
print("| class | 3 T volume | mean shift [se] | t | " + " | ".join(f"shift {g} [sd]" for g in groups) +
      " | mean abs difference | without the mean shift | without the group shifts |")
print("|---|---:|---:|---:|" + "---:|" * len(groups) + "---:|---:|---:|")
for c in ("CSF", "GM", "WM"):
    d = {s: vol[s][("Original", c)] - vol[s][("Target", c)] for s in subs}
    x = list(d.values())
    m, se = st.mean(x), st.stdev(x) / len(x) ** 0.5
    gm = {g: st.mean(d[s] for s in subs if group[s] == g) for g in groups}
    gsd = {g: st.stdev([d[s] for s in subs if group[s] == g]) for g in groups}
    a = st.mean(abs(v) for v in x)
    b = st.mean(abs(v - m) for v in x)
    g2 = st.mean(abs(d[s] - gm[group[s]]) for s in subs)
    v = st.mean(vol[s][("Target", c)] for s in subs)
    print(f"| {c} | {v:.0f} | {m:+.0f} [{se:.0f}] | {m / se:+.1f} | " +
          " | ".join(f"{gm[g]:+.0f} [{gsd[g]:.0f}]" for g in groups) +
          f" | {a:.0f} | {b:.0f} ({100 * (b - a) / a:+.0f} %) | {g2:.0f} ({100 * (g2 - a) / a:+.0f} %) |")
PY
