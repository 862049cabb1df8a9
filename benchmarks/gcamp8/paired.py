"""Paired per-neuron comparison of two GCaMP8 condition tables (what RESULTS.md section 15 quotes as
"paired mean Δ" and "neurons better / worse / same").

    .venv/bin/python benchmarks/gcamp8/paired.py BASE NEW [--folds M2,M3,M4,M5] [--results results/exact]

BASE and NEW are model names of ``<results>/<model>_<FOLD>_conditions.csv`` (pooled over ``--folds``; ``--results``
default ``results``, ``results/exact`` for the stride-1 rows of ``exact_rows.sh``), or
paths of single condition tables (e.g. ``candidates/M1/ensemble_conditions.csv``).  Per condition, on the
neurons both tables score: the median correlation (%) of each, the difference of the medians, the mean of
the per-neuron differences NEW − BASE, how many neurons NEW scores higher, lower and the same, and the
median count (Σ rate / true spikes) of each.  The interval of the difference of the medians is a paired
bootstrap (:func:`~ens2zoo.benchmark.bootstrap.bootstrap_paired_difference_ci`: 10,000 resamples of the neurons
within each variant, both models' scores of every neuron drawn; 95 %).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ens2zoo.benchmark.bootstrap import bootstrap_paired_difference_ci
from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import read_csv

RESULTS = Path(__file__).resolve().parent / "results"


def rows(table: str, folds: list[str], results: Path = RESULTS) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(dataset, neuron, condition) → (correlation %, count) of a model's fold tables in ``results``, or of one
    table's path."""
    paths = [Path(table)] if table.endswith(".csv") else [results / f"{table}_{f}_conditions.csv" for f in folds]
    return {(r["dataset"], r["neuron"], row_condition(r).label): (float(r["corr"]), float(r["count"]))
            for p in paths for r in read_csv(p)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base")
    p.add_argument("new")
    p.add_argument("--folds", default="M2,M3,M4,M5", help="mouse folds pooled for model names (default: report)")
    p.add_argument("--results", type=Path, default=RESULTS, help="folder of the fold tables (default: results)")
    args = p.parse_args()
    folds = args.folds.split(",")
    base, new = rows(args.base, folds, args.results), rows(args.new, folds, args.results)
    print("| condition | neurons | median base | median new | Δ median [95 % CI] | paired mean Δ "
          "| better / worse / same | count base / new |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label in dict.fromkeys(k[2] for k in new):
        keys = [k for k in new if k[2] == label and k in base]
        if not keys:
            continue
        (b, b_count), (n, n_count) = (np.array([table[k] for k in keys]).T for table in (base, new))
        d = n - b
        lo, hi = bootstrap_paired_difference_ci(n, b, [k[0] for k in keys])
        print(f"| {label} | {len(keys)} | {np.median(b):.1f} | {np.median(n):.1f} "
              f"| {np.median(n) - np.median(b):+.2f} [{lo:+.2f}, {hi:+.2f}] "
              f"| {d.mean():+.2f} | {(d > 0).sum()} / {(d < 0).sum()} / {(d == 0).sum()} "
              f"| {np.nanmedian(b_count):.2f} / {np.nanmedian(n_count):.2f} |")


if __name__ == "__main__":
    main()
