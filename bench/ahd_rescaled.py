#!/usr/bin/python3
"""AHD of bench/ideal_output.sh's ideal outputs as they are and rescaled linearly to each target.

    /usr/bin/python3 bench/ahd_rescaled.py CROSSVAL_OUT WORK_DIR    # needs python3-nibabel, python3-scipy

WORK_DIR is a bench/ideal_output.sh work folder (its prep/ and per-subject CSVs, e.g. the perfect draw of
bench/ideal_drawn.py). The AHD is docs/METRICS.md's (255 bins on [0, 1], counts, clamped, brain voxels); the
first column must reproduce the CSVs' `ahd` of the method `ideal`, the check that this is the same quantity.
Rescaled: a * ideal + b fitted to the target by least squares inside the brain (in-sample, so optimistic), to
tell how much of the ideal's AHD is its intensity scale. Means over subjects per direction, beside histogram
matching's from the CSVs. With CLEAN_PREP (the cohort at 100x the SNR, preprocessed alike, as for
bench/noise_on_grid.py) also a rescan: the target scan with its own noise (bench/noise_on_grid.py's residual)
moved by 9 voxels along each axis, i.e. the same acquisition with another noise draw of the same texture: the
AHD that noise alone leaves.
"""
import csv
import glob
import os
import sys

import numpy as np

from noise_on_grid import image, load, residual


def ahd(a, b):
    def hist(x):
        return np.bincount(np.clip(np.floor(255 * x.astype(np.float64)), 0, 254).astype(int), minlength=255)
    return int(np.abs(hist(a) - hist(b)).sum())


def main():
    out, work = sys.argv[1], sys.argv[2]
    clean = sys.argv[3] if len(sys.argv) > 3 else None
    grid = "ses-3T"
    csv_ahd = {}
    for p in glob.glob(f"{work}/*_sub-*.csv"):
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                if r["metric"] == "ahd" and r["reference"] == "target":
                    csv_ahd[(r["direction"], r["subject"], r["method"])] = float(r["value"])
    print("| direction | subjects | ideal AHD | its CSV value | rescaled to the target | histogram matching | slope range "
          "| rescan (noise moved) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for d in sorted(os.listdir(f"{out}/harmonized")):
        src, tgt = "ses-" + d.split("-to-")[0], "ses-" + d.split("-to-")[1]
        rows = []
        for sub in sorted(s for s in os.listdir(f"{out}/prep") if s.startswith("sub-")):
            if (d, sub, "ideal") not in csv_ahd:
                continue
            m = load(f"{out}/prep/{sub}/{grid}/anat/{sub}_{grid}_desc-brain_mask.nii.gz") > 0.5
            full = image(f"{out}/prep", sub, tgt, grid)
            t = full[m]
            x = image(f"{work}/prep", sub, src, grid)[m]
            a = np.vstack([x, np.ones_like(x)]).T
            coef = np.linalg.lstsq(a, t, rcond=None)[0]
            rescan = float("nan")
            if clean:
                n, _ = residual(full, image(clean, sub, tgt, grid), m)
                rescan = ahd((full - n + np.roll(n, (9, 9, 9), axis=(0, 1, 2)))[m], t)
            rows.append([ahd(x, t), csv_ahd[(d, sub, "ideal")], ahd(a @ coef, t), csv_ahd[(d, sub, "HM")], coef[0],
                         rescan])
        r = np.array(rows)
        print(f"| {d} | {len(rows)} | {r[:, 0].mean():.0f} | {r[:, 1].mean():.0f} | {r[:, 2].mean():.0f} | "
              f"{r[:, 3].mean():.0f} | {r[:, 4].min():.3f}-{r[:, 4].max():.3f} | {r[:, 5].mean():.0f} |")


if __name__ == "__main__":
    main()
