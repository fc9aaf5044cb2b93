#!/usr/bin/python3
"""MSE of bench/ideal_output.sh's ideal outputs, each rescaled linearly to its target (in-sample, so optimistic).

    /usr/bin/python3 bench/ideal_mse.py CROSSVAL_OUT WORK_DIR     # WORK_DIR of bench/ideal_output.sh; needs python3-nibabel

A noise-free image's 0.1/99.9 percentile scaling differs from a noisy one's, so the ideal output's MSE as
preprocessed is not comparable; fitted with a*ideal + b to the target inside the brain mask it is the
MSE a perfect noise-free output reaches up to an intensity scaling. Printed per direction beside the
crossval's output (means over held-out subjects).
"""
import os
import sys

import nibabel as nib
import numpy as np


def image(root, sub, ses, grid):
    space = "" if ses == grid else "_space-" + grid.replace("-", "")
    return nib.load(f"{root}/{sub}/{ses}/anat/{sub}_{ses}{space}_desc-preproc_T1w.nii.gz").get_fdata(dtype=np.float32)


def main():
    out, work = sys.argv[1], sys.argv[2]
    grid = "ses-3T"
    subs = sorted(s for s in os.listdir(f"{out}/prep") if s.startswith("sub-"))
    print("| direction | subjects | ideal as preprocessed | ideal rescaled to the target | crossval output | scale, offset |")
    print("|---|---:|---:|---:|---:|---:|")
    for d in sorted(os.listdir(f"{out}/harmonized")):
        src, tgt = "ses-" + d.split("-to-")[0], "ses-" + d.split("-to-")[1]
        rows = []
        for sub in subs:
            m = nib.load(f"{out}/prep/{sub}/{grid}/anat/{sub}_{grid}_desc-brain_mask.nii.gz").get_fdata() > 0.5
            t = image(f"{out}/prep", sub, tgt, grid)[m]
            i = image(f"{work}/prep", sub, src, grid)[m]
            o = nib.load(f"{out}/harmonized/{d}/{sub}_desc-harmonized_T1w.nii.gz").get_fdata(dtype=np.float32)[m]
            a = np.vstack([i, np.ones_like(i)]).T
            coef = np.linalg.lstsq(a, t, rcond=None)[0]
            rows.append([np.mean((i - t) ** 2), np.mean((a @ coef - t) ** 2), np.mean((o - t) ** 2), coef[0], coef[1]])
        r = np.array(rows).mean(0)
        print(f"| {d} | {len(rows)} | {r[0]:.5f} | {r[1]:.5f} | {r[2]:.5f} | {r[3]:.3f}, {r[4]:.4f} |")


if __name__ == "__main__":
    main()
