#!/usr/bin/python3
"""A perfect draw of the target scanner on the evaluation's grid: bench/ideal_output.sh's ideal outputs with
the noise of each target scan.

    /usr/bin/python3 bench/ideal_drawn.py CROSSVAL_OUT CLEAN_PREP IDEAL_PREP CLEAN_IDEAL_PREP OUT_PREP

CROSSVAL_OUT's prep/ holds the real scans; CLEAN_PREP the same cohort simulated at 100x the SNR and
preprocessed alike; IDEAL_PREP bench/ideal_output.sh's prep/ run with each scanner's own SNR (SNR_1P5T=26
SNR_3T=20: its intensity scaling, set by the 0.1/99.9 percentiles, is then the target's), CLEAN_IDEAL_PREP the
same at 100x the SNR. Resampling onto the grid changes the noise (the 1.5 T session's is smoothed, the grid
session's not), so per subject the ideal's noise (bench/noise_on_grid.py's residual) is scaled by the target
scan's noise sd over its own: ideal - (1 - k) * noise, k = sd(target noise) / sd(ideal noise). Written into
OUT_PREP with prep/'s names; then `bench/ideal_output.sh CROSSVAL_OUT WORK` with WORK/prep -> OUT_PREP scores
it. Needs python3-nibabel and python3-scipy.
"""
import os
import shutil
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

from noise_on_grid import image, load, path, residual


def main():
    out, clean, ideal, clean_ideal, dest = sys.argv[1:6]
    grid = "ses-3T"
    real = f"{out}/prep"
    subs = sorted(s for s in os.listdir(real) if s.startswith("sub-"))
    os.makedirs(dest, exist_ok=True)
    shutil.copy(f"{ideal}/dataset.json", f"{dest}/dataset.json")
    print("| subject | session of the ideal | ideal noise sd | target noise sd | k |")
    print("|---|---|---:|---:|---:|")
    for sub in subs:
        mask_path = f"{real}/{sub}/{grid}/anat/{sub}_{grid}_desc-brain_mask.nii.gz"
        mask = load(mask_path) > 0.5
        os.makedirs(f"{dest}/{sub}/{grid}/anat", exist_ok=True)
        shutil.copy(mask_path, f"{dest}/{sub}/{grid}/anat/")
        inner = ndimage.binary_erosion(mask, iterations=2)
        for src, tgt in (("ses-1p5T", "ses-3T"), ("ses-3T", "ses-1p5T")):
            tn, _ = residual(image(real, sub, tgt, grid), image(clean, sub, tgt, grid), mask)
            noisy = nib.load(path(ideal, sub, src, grid))
            x = noisy.get_fdata(dtype=np.float32)
            n, _ = residual(x, image(clean_ideal, sub, src, grid), mask)
            k = float(tn[inner].std() / n[inner].std())
            y = (x - (1 - k) * n).astype(np.float32)
            p = path(dest, sub, src, grid)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            nib.save(nib.Nifti1Image(y, noisy.affine, noisy.header), p)
            print(f"| {sub} | {src} | {n[inner].std():.4f} | {tn[inner].std():.4f} | {k:.2f} |")


if __name__ == "__main__":
    main()
