#!/usr/bin/python3
"""The noise of preprocessed scans on the evaluation's grid, from noisy and noise-free twins.

    /usr/bin/python3 bench/noise_on_grid.py NAME=NOISY_PREP:CLEAN_PREP ...    # needs python3-nibabel, python3-scipy

Each pair is the `harmonize preprocess` output of a cohort and of the same cohort simulated again with the
same options and seed at 100 times the SNR (anatomy, poses and bias fields identical, only the noise gone).
Per subject and session, inside the grid session's brain mask (eroded by 2 voxels): the residual of the
noisy image after a least-squares fit a * clean + b (the percentile scaling of the two differs), less its
own smooth part (normalised Gaussian, sigma 4 voxels: N4's field differs between the twins). Printed per
cohort and session: the median over subjects of the residual's sd (the noise as the metrics see it, in
preprocessed units) and its mean lag-1 autocorrelation along the three axes (0 for white noise; the
resampling onto the other session's grid correlates neighbours and lowers the sd).
"""
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage


def load(path):
    return nib.load(path).get_fdata(dtype=np.float32)


def path(root, sub, ses, grid):
    """The preprocessed scan of session `ses` on the grid session's grid (prep/'s names)."""
    space = "" if ses == grid else "_space-" + grid.replace("-", "")
    return f"{root}/{sub}/{ses}/anat/{sub}_{ses}{space}_desc-preproc_T1w.nii.gz"


def image(root, sub, ses, grid):
    return load(path(root, sub, ses, grid))


def residual(noisy, clean, mask):
    """The noise of `noisy`: its residual after a * clean + b inside the mask, less the residual's smooth part."""
    m = mask
    a = np.vstack([clean[m], np.ones(m.sum(), np.float32)]).T
    coef = np.linalg.lstsq(a, noisy[m], rcond=None)[0]
    r = np.where(m, noisy - coef[0] * clean - coef[1], 0).astype(np.float32)
    w = ndimage.gaussian_filter(m.astype(np.float32), 4)
    smooth = ndimage.gaussian_filter(r, 4) / np.maximum(w, 1e-6)
    return np.where(m, r - smooth, 0).astype(np.float32), coef[0]


def noise(noisy, clean, mask):
    r, scale = residual(noisy, clean, mask)
    inner = ndimage.binary_erosion(mask, iterations=2)
    sd = float(r[inner].std())
    lag = []
    for ax in range(3):
        both = inner & np.roll(inner, 1, axis=ax)
        lag.append(float(np.corrcoef(r[both], np.roll(r, 1, axis=ax)[both])[0, 1]))
    return sd, float(np.mean(lag)), scale


def main():
    grid = "ses-3T"
    print("| cohort | session | subjects | noise sd (median) | range | lag-1 autocorrelation | scale a |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for arg in sys.argv[1:]:
        name, paths = arg.split("=", 1)
        noisy_root, clean_root = paths.split(":")
        subs = sorted(s for s in os.listdir(noisy_root) if s.startswith("sub-"))
        for ses in ("ses-1p5T", "ses-3T"):
            rows = []
            for sub in subs:
                mask = load(f"{noisy_root}/{sub}/{grid}/anat/{sub}_{grid}_desc-brain_mask.nii.gz") > 0.5
                rows.append(noise(image(noisy_root, sub, ses, grid), image(clean_root, sub, ses, grid), mask))
            r = np.array(rows)
            print(f"| {name} | {ses} | {len(rows)} | {np.median(r[:, 0]):.4f} | {r[:, 0].min():.4f}-{r[:, 0].max():.4f} "
                  f"| {r[:, 1].mean():.2f} | {r[:, 2].mean():.3f} |")


if __name__ == "__main__":
    main()
