#!/usr/bin/env python3
"""The report's relative table from `harmonize evaluate` CSVs of methods evaluated outside a crossval.

For each method of the CSVs (per direction), the change of the mean over subjects relative to Original,
100 (mean_method / mean_Original - 1), of AHD, MSE (the per-subject sum over brain voxels, as the report), the tissue volume difference (mean over CSF, GM and WM of
the absolute volume difference to the target's segmentation) and the WM volume difference, each with a 95 %
paired bootstrap interval over subjects (2000 draws, nearest-rank 2.5 / 97.5 percentiles), and the stripe
index over the target's (ratio of the means). The quantities and the bootstrap are those of docs/METRICS.md and
src/report/relative.cpp; the random draws are Python's, so the point estimates equal the report's and an interval
bound can differ from its bound by a few points of the skewed volume changes (e.g. [+250, +790] against the report's
[+237, +768]; AHD and MSE bounds within 0.4). Standard library only.
With --versus METHOD it adds a head-to-head table: each method's mean over METHOD's (e.g. HM), paired bootstrap
over the subjects both have, and on how many subjects the method's value is the lower.
Usage: bench/relative_change.py [--versus METHOD] CSV...   (e.g. the per-subject CSVs of bench/few_step_texture.sh)
"""
import argparse
import csv
import math
import random
from collections import defaultdict


def read(paths):
    # rows[(direction, method)][subject] = {quantity: value}
    vol = defaultdict(dict)
    q = defaultdict(lambda: defaultdict(dict))
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                sub, d, m, ref, met, cls = (r["subject"], r["direction"], r["method"], r["reference"],
                                            r["metric"], r["class"])
                try:
                    v = float(r["value"])
                except ValueError:
                    continue
                if met == "volume_mm3":
                    vol[(d, sub, cls)][m] = v
                elif ref == "target" and met in ("ahd", "mse_sum"):
                    q[(d, m)][sub][met] = v
                elif met == "stripe_index":
                    q[(d, m)][sub]["stripe"] = v
    for (d, sub, cls), by in vol.items():
        t = by.get("Target")
        if t is None:
            continue
        for m, v in by.items():
            if m != "Target":
                q[(d, m)][sub]["abs_" + cls] = abs(v - t)
    for key in q:
        for sub, x in q[key].items():
            cl = [x.get("abs_" + c) for c in ("CSF", "GM", "WM")]
            if all(c is not None for c in cl):
                x["volume"] = sum(cl) / 3
            if "abs_WM" in x:
                x["wm"] = x["abs_WM"]
    return q


def change(a, b):
    return 100 * (sum(a) / sum(b) - 1) if sum(b) else math.nan


def interval(pairs, draws=2000, seed=1):
    rng = random.Random(seed)
    n = len(pairs)
    if n < 2:
        return (math.nan, math.nan)
    vals = []
    for _ in range(draws):
        s = [pairs[rng.randrange(n)] for _ in range(n)]
        vals.append(change([a for a, _ in s], [b for _, b in s]))
    vals.sort()
    lo = vals[max(0, math.ceil(0.025 * draws) - 1)]
    hi = vals[max(0, math.ceil(0.975 * draws) - 1)]
    return (lo, hi)


def cells(mine, ref, subs, lower=False):
    # Per quantity: the change of mine's mean over ref's (subjects both have) with its interval; with lower, on
    # how many subjects mine is the lower.
    out = []
    for name in ("ahd", "mse_sum", "volume", "wm"):
        pairs = [(mine[s][name], ref[s][name]) for s in subs if name in mine[s] and name in ref.get(s, {})]
        if not pairs:
            out.append("")
            continue
        lo, hi = interval(pairs)
        c = change([a for a, _ in pairs], [b for _, b in pairs])
        out.append(f"{c:+.1f} % [{lo:+.1f}, {hi:+.1f}]" + (" (through 0)" if lo <= 0 <= hi else "")
                   + (f" ({sum(a < b for a, b in pairs)}/{len(pairs)})" if lower else ""))
    return out


def main(paths, versus=None):
    q = read(paths)
    print("| direction | method | n | AHD | MSE | tissue volume difference | WM volume difference | stripes / target's |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for d in sorted({d for d, _ in q}):
        orig, tgt = q.get((d, "Original"), {}), q.get((d, "Target"), {})
        for m in sorted(m for dd, m in q if dd == d and m not in ("Original", "Target")):
            subs = sorted(q[(d, m)])
            st = [(q[(d, m)][s]["stripe"], tgt[s]["stripe"]) for s in subs
                  if "stripe" in q[(d, m)][s] and "stripe" in tgt.get(s, {})]
            sr = f"{sum(a for a, _ in st) / sum(b for _, b in st):.2f}" if st else ""
            print(f"| {d} | {m} | {len(subs)} | " + " | ".join(cells(q[(d, m)], orig, subs)) + f" | {sr} |")
    if versus is None:
        return
    print(f"\nHead to head: each method's mean over {versus}'s, paired bootstrap (lower on k of n subjects)\n")
    print("| direction | method | n | AHD | MSE | tissue volume difference | WM volume difference |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for d in sorted({d for d, _ in q}):
        r = q.get((d, versus), {})
        for m in sorted(m for dd, m in q if dd == d and m not in ("Original", "Target", versus)):
            subs = sorted(s for s in q[(d, m)] if s in r)
            print(f"| {d} | {m} | {len(subs)} | " + " | ".join(cells(q[(d, m)], r, subs, lower=True)) + " |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--versus", metavar="METHOD", help="add the head-to-head table against METHOD (e.g. HM)")
    ap.add_argument("csv", nargs="+", help="harmonize evaluate CSVs")
    a = ap.parse_args()
    main(a.csv, a.versus)
