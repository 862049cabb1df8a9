"""Re-score the condition rows a fold's high-noise member can now serve, in the committed tables.

    .venv/bin/python benchmarks/lodo/rescore_high_noise_rows.py DS04,DS06 [--data ../shared/ground_truth]

Adding the member ``-hn`` (ν ≥ 9) to a fold's family changes only the neurons whose re-imaged trace
measures ν ≥ 9: at the ν 8 conditions (``30:8``, ``7.5:8``) a few do; at ν ≤ 4 none.  This re-runs
those two conditions with the fold's family as it is now (window stride 4, as the tables were made)
and replaces their rows in ``benchmarks/lodo/<family>_lodo_DSxx_conditions.csv`` (atomically),
printing per condition the rows that changed and the change of the median correlation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ens2zoo.benchmark.conditions import evaluate_conditions, row_condition, write_condition_csv
from ens2zoo.benchmark.evaluation import nan_median, read_csv
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import INHIBITORY_FOLDS, lodo_name
from ens2zoo.workflows.factory import load_folder

LODO = Path("benchmarks/lodo")
CONDITIONS = ("30:8", "7.5:8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folds")
    parser.add_argument("--data", default="../shared/ground_truth")
    args = parser.parse_args()
    for fold in args.folds.upper().split(","):
        family = "ens2-inh" if fold in INHIBITORY_FOLDS else "ens2-exc"
        table = LODO / f"{lodo_name(family, fold)}_conditions.csv"
        model = load_folder(LODO / "weights" / lodo_name(family, fold))
        (folder,) = find_datasets(args.data, f"{fold}-*")
        fresh = evaluate_conditions(model, [load_dataset(folder, progress=None)], ",".join(CONDITIONS), stride=4)
        old = read_csv(table)
        for label in CONDITIONS:
            before = [r for r in old if row_condition(r).label == label]
            after = [r for r in fresh if row_condition(r).label == label]
            changed = sum(abs(a["corr"] - b["corr"]) > 1e-4 for a, b in zip(before, after, strict=True))
            delta = nan_median(r["corr"] for r in after) - nan_median(r["corr"] for r in before)
            print(f"{fold} {label}: {changed} of {len(after)} rows changed; median corr {delta:+.3f} points")
        rows = [r for r in old if row_condition(r).label not in CONDITIONS] + fresh
        order = {c: i for i, c in enumerate(dict.fromkeys(row_condition(r).label for r in old))}
        rows.sort(key=lambda r: order[row_condition(r).label])
        write_condition_csv(table, rows)


if __name__ == "__main__":
    main()
