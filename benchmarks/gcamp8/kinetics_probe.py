"""Can a neuron's transient kinetics tell jGCaMP8 from the classic indicators? (the indicator-advice probe)

    .venv/bin/python benchmarks/gcamp8/kinetics_probe.py [--rate 30]

Every neuron of DS30–DS32 (jGCaMP8f/m/s) and of the classic excitatory datasets (DS02–DS21) is
re-imaged at 30 Hz at its own noise (condition ``30:0``); on each recording, local maxima 6 noise
SDs above a running baseline (minimum of the 5-frame mean over the preceding 2 s) are taken as
transient peaks, and the neuron's *decay ratio* is the median over its peaks of
(ΔF/F three frames = 100 ms after the peak − baseline) / (peak − baseline).  Prints its
percentiles per dataset and, for thresholds, the share of GCaMP8 neurons below and of classic
neurons at or above (the advice would name the right family for those).
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS
from ens2zoo.data.reimage import reimage_trace


def decay_ratios(x: np.ndarray, fs: float, lag: int = 3) -> np.ndarray:
    """(x[peak + lag] − baseline) / (x[peak] − baseline) at each transient peak of ``x`` (ΔF/F at ``fs`` Hz)."""
    sd = np.median(np.abs(np.diff(x))) / 0.6745 / np.sqrt(2)
    base = minimum_filter1d(uniform_filter1d(x, 5), int(2 * fs), origin=int(fs) - 1)
    y = x - base
    peaks = np.flatnonzero((x == maximum_filter1d(x, 9)) & (y > 6 * sd))
    peaks = peaks[peaks < len(x) - lag]
    return (x[peaks + lag] - base[peaks]) / y[peaks]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="../shared/ground_truth")
    p.add_argument("--rate", type=float, default=30.0)
    args = p.parse_args()
    by: dict[str, list[float]] = defaultdict(list)
    for group in ("gcamp8", "excitatory"):
        for folder in find_datasets(args.data, GROUPS[group]):
            ds = load_dataset(folder, progress=None)
            for n in ds.neurons:
                r = [decay_ratios(reimage_trace(rec.trace, args.rate, 0.0, np.random.default_rng(0)).trace, args.rate)
                     for rec in n.recordings if len(rec.trace) >= 10 * 60]
                r = np.concatenate(r) if r else np.zeros(0)
                by[(group, ds.name[:4])].append(float(np.median(r)) if r.size >= 5 else np.nan)
    for (group, name), v in by.items():
        print(f"{group:<10} {name} n={len(v):>3} decay ratio p10/p50/p90 "
              f"{np.round(np.nanpercentile(v, [10, 50, 90]), 3)}")
    g8 = np.array([x for (g, _), v in by.items() if g == "gcamp8" for x in v])
    classic = np.array([x for (g, _), v in by.items() if g == "excitatory" for x in v])
    for th in np.arange(0.35, 0.80, 0.05):
        print(f"threshold {th:.2f}: GCaMP8 below {np.mean(g8 < th):.1%}, "
              f"classic at or above {np.mean(classic >= th):.1%}")


if __name__ == "__main__":
    main()
