#!/usr/bin/python3
"""The class means a segmentation should have found, measured on the truth, beside the ones it found.

    apt-get install -y python3-nibabel       # benchmark-only dependency (numpy comes with it)
    harmonize segment --input T1w --mask MASK --out-prefix SEG --write-bias
    /usr/bin/python3 bench/segment_oracle_means.py COHORT SUBJECT SESSION SEG [--sweep-gm 34.5,35,35.5]

COHORT is a dataset from `harmonize simulate` (its truth under
derivatives/truth). The truth's means: a least-squares fit of the
segmentation's bias-corrected image (input / the written field) on the true
fractions inside the brain mask (CSF, GM, WM; normalised to sum 1). Printed
beside the means of SEG's run record, with SEG's Dice against the three-class
truth (largest brain fraction) and its hard volume errors. With --sweep-gm
the scan is segmented again with `--class-means` at the truth's CSF and WM
means and each listed GM mean (the harmonize binary: --harmonize), to show
how far better means could take this model (docs/SEGMENT.md, "Limits").
"""
import argparse
import json
import os
import subprocess
import tempfile

import nibabel as nib
import numpy as np

CLASSES = ("CSF", "GM", "WM")


def load(path):
    return np.asarray(nib.load(path).dataobj, dtype=np.float64)


def score(truth, labels):
    dice = [2 * ((truth == k) & (labels == k)).sum() / max((truth == k).sum() + (labels == k).sum(), 1) for k in range(3)]
    vol = [100.0 * ((labels == k).sum() - (truth == k).sum()) / max((truth == k).sum(), 1) for k in range(3)]
    return dice, vol


def row(name, means, dice, vol):
    return (f"| {name} | " + " / ".join(f"{m:.2f}" for m in means) + " | " + " / ".join(f"{d:.4f}" for d in dice) +
            " | " + " / ".join(f"{v:+.2f}" for v in vol) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cohort")
    ap.add_argument("subject")
    ap.add_argument("session", help="1p5T or 3T")
    ap.add_argument("seg", help="the --out-prefix of a `harmonize segment ... --write-bias` run on that scan")
    ap.add_argument("--sweep-gm", default="", help="comma-separated GM means to segment with")
    ap.add_argument("--harmonize", default="build/harmonize")
    a = ap.parse_args()

    stem = f"{a.subject}_ses-{a.session}"
    truth_prefix = os.path.join(a.cohort, "derivatives", "truth", a.subject, f"ses-{a.session}", "anat", stem)
    image = os.path.join(a.cohort, a.subject, f"ses-{a.session}", "anat", stem + "_T1w.nii.gz")
    mask_path = truth_prefix + "_desc-brain_mask.nii.gz"
    mask = load(mask_path) > 0.5
    fractions = np.stack([load(f"{truth_prefix}_label-{c}_probseg.nii.gz") for c in CLASSES], -1)[mask]
    fractions /= np.maximum(fractions.sum(1, keepdims=True), 1e-6)
    truth = fractions.argmax(1)
    img = load(image)[mask]

    def measure(prefix):
        corrected = img / load(prefix + "_desc-bias_T1w.nii.gz")[mask]
        record = json.load(open(prefix + "_segment.json"))
        dice, vol = score(truth, load(prefix + "_dseg.nii.gz")[mask].astype(int) - 1)
        return corrected, [record["classes"][c]["mean"] for c in CLASSES], dice, vol

    corrected, found, dice, vol = measure(a.seg)
    oracle, *_ = np.linalg.lstsq(fractions, corrected, rcond=None)
    print(f"{stem}: means CSF / GM / WM of the bias-corrected image, Dice and hard volume error (%) against the truth")
    print("| means | CSF / GM / WM | Dice CSF / GM / WM | volume error CSF / GM / WM |")
    print("|---|---|---|---|")
    print(f"| the truth's (least squares) | " + " / ".join(f"{m:.2f}" for m in oracle) + " | | |")
    print(row("found (" + a.seg + ")", found, dice, vol))
    if a.sweep_gm:
        with tempfile.TemporaryDirectory() as tmp:
            for gm in [float(x) for x in a.sweep_gm.split(",")]:
                means = [oracle[0], gm, oracle[2]]
                prefix = os.path.join(tmp, "seg")
                subprocess.run([a.harmonize, "segment", "--input", image, "--mask", mask_path, "--out-prefix", prefix,
                                "--write-bias", "--quiet", "--force", "--class-means",
                                ",".join(f"{m:.4f}" for m in means)], check=True)
                _, used, dice, vol = measure(prefix)
                print(row(f"given, GM {gm:.2f}", used, dice, vol))


if __name__ == "__main__":
    main()
