#!/usr/bin/python3
"""dipy's TissueClassifierHMRF on the scans segment_quality reads, with the same table.

    apt-get install -y python3-dipy          # benchmark-only dependency (Debian 12: dipy 1.6)
    /usr/bin/python3 bench/segment_dipy.py COHORT [--beta 0.1] [--max-iter 20] [--subjects sub-001,...]

Per scan: the T1w times its truth brain mask (dipy puts voxels equal to 0 into
its extra background class), cropped to the mask's bounding box, classified
into 3 classes (dipy: HMRF with ICM, Gaussian classes, no bias field). dipy's
labels are 1 CSF, 2 GM, 3 WM (ordered by intensity) and PVE[..., 0:3] its
partial-volume maps. Columns as in segment_quality: Dice vs the three-class truth (largest brain fraction in the mask),
hard volume error (label count vs that truth's count inside the brain mask),
partial-volume volume error (sum of PVE vs sum of truth probseg), seconds.
"""
import argparse
import glob
import os
import time

import nibabel as nib
import numpy as np
from dipy.segment.tissue import TissueClassifierHMRF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cohort")
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--tolerance", type=float, default=1e-5)
    ap.add_argument("--max-iter", type=int, default=20)
    ap.add_argument("--subjects", default="")
    a = ap.parse_args()
    scans = sorted(glob.glob(os.path.join(a.cohort, "sub-*", "ses-*", "anat", "*_T1w.nii.gz")))
    print(f"dipy TissueClassifierHMRF, beta {a.beta}, tolerance {a.tolerance}, max_iter {a.max_iter}")
    print(f"{'scan':22s} {'dCSF':>6s} {'dGM':>6s} {'dWM':>6s} | {'vCSF%':>7s} {'vGM%':>7s} {'vWM%':>7s} | "
          f"{'pvCSF%':>7s} {'pvGM%':>7s} {'pvWM%':>7s} | {'sec':>6s}")
    dices, worst_v, worst_pv = [], np.zeros(3), np.zeros(3)
    for scan in scans:
        stem = os.path.basename(scan)[: -len("_T1w.nii.gz")]
        sub, ses = stem.split("_")[:2]
        if a.subjects and sub not in a.subjects.split(","):
            continue
        truth = os.path.join(a.cohort, "derivatives", "truth", sub, ses, "anat", f"{sub}_{ses}_")
        img = nib.load(scan).get_fdata(dtype=np.float32)
        brain = nib.load(truth + "desc-brain_mask.nii.gz").get_fdata() > 0.5
        probs = [nib.load(truth + f"label-{c}_probseg.nii.gz").get_fdata(dtype=np.float32) for c in ("CSF", "GM", "WM")]
        # The three-class truth inside the mask, as segment_quality defines it:
        # each mask voxel's largest brain fraction (the simulator's dseg calls up
        # to 0.6 % of the mask non-brain, which a three-class labelling cannot be).
        truth3 = np.where(brain, np.argmax(np.stack(probs), axis=0) + 1, 0).astype(np.uint8)
        idx = np.argwhere(brain)
        lo, hi = idx.min(0), idx.max(0) + 1
        box = tuple(slice(l, h) for l, h in zip(lo, hi))
        x = np.where(brain, img, 0)[box].astype(np.float64)
        t0 = time.time()
        _, final, pve = TissueClassifierHMRF(verbose=False).classify(x, 3, a.beta, tolerance=a.tolerance,
                                                                        max_iter=a.max_iter)
        sec = time.time() - t0
        labels = np.zeros(truth3.shape, np.uint8)
        labels[box] = np.where(brain[box], final, 0).astype(np.uint8)
        d, v, pv = [], [], []
        for k in range(3):
            ours, ref = labels == k + 1, truth3 == k + 1
            d.append(2 * np.sum(ours & ref) / max(1, np.sum(ours) + np.sum(ref)))
            v.append(100 * (np.sum(ours) - np.sum(ref & brain)) / np.sum(ref & brain))
            ours_pv = np.sum(np.where(brain[box], pve[..., k], 0))
            pv.append(100 * (ours_pv - probs[k].sum()) / probs[k].sum())
        dices.append(d)
        worst_v = np.maximum(worst_v, np.abs(v))
        worst_pv = np.maximum(worst_pv, np.abs(pv))
        print(f"{sub + '_' + ses:22s} {d[0]:6.3f} {d[1]:6.3f} {d[2]:6.3f} | {v[0]:+7.2f} {v[1]:+7.2f} {v[2]:+7.2f} | "
              f"{pv[0]:+7.2f} {pv[1]:+7.2f} {pv[2]:+7.2f} | {sec:6.1f}", flush=True)
    d = np.array(dices)
    print(f"{'mean Dice':22s} {d[:, 0].mean():6.3f} {d[:, 1].mean():6.3f} {d[:, 2].mean():6.3f}")
    print(f"{'worst':22s} {d[:, 0].min():6.3f} {d[:, 1].min():6.3f} {d[:, 2].min():6.3f} | "
          f"{worst_v[0]:7.2f} {worst_v[1]:7.2f} {worst_v[2]:7.2f} | {worst_pv[0]:7.2f} {worst_pv[1]:7.2f} {worst_pv[2]:7.2f}")


if __name__ == "__main__":
    main()
