"""Fit ens2-gcamp8's spike-count calibration, cross-fitted over the GCaMP8 mouse folds, and record it.

    .venv/bin/python benchmarks/gcamp8/fit_calibration.py [--data ../shared/ground_truth]

Reads the per-neuron rows of the uncalibrated family on each fold's held-out mice
(``results/ens2-gcamp8-uncalibrated_<FOLD>_conditions.csv``, M1–M5) and fits the gains
``1 / median count`` per jGCaMP8 variant and pooled (``ens2zoo.benchmark.calibration``) over the
re-imaged conditions (30:0, 30:4, 30:8, 7.5:4: the frame rates users record at; the native
~122 Hz rows are left out):

* fold Mk's family (``folds/Mk/``) gets the gains fitted on the other four folds' held-out
  neurons, never on its own, so its scores stay held-out;
* the zoo's ``ens2-gcamp8`` (trained on all 16 mice) gets the gains fitted on all five folds.

Then, on the same rows, the ν curve (``fit_noise_curve``: a factor per octave of ν on the
indicator-calibrated counts), each row's ν being the one the family measured on the re-imaged trace
(``condition_noise_level``: the evaluation's re-imaging, no network run; kept in
``results/noise_levels.csv``).

Each gain is written into the family's ``manifest.json`` (``count_calibration``, with how it was
fitted under ``provenance.count_calibration``); ``predict(..., indicator=...)`` applies it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ens2zoo.benchmark.calibration import fit_count_gains, fit_noise_curve
from ens2zoo.benchmark.conditions import condition_noise_level, parse_conditions, row_condition
from ens2zoo.benchmark.evaluation import read_csv, write_csv
from ens2zoo.cli.training import selected_datasets
from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS
from ens2zoo.zoo.entries import zoo_dir
from ens2zoo.zoo.manifest import set_count_calibration

HERE = Path(__file__).resolve().parent
CONDITIONS = ("30:0", "30:4", "30:8", "7.5:4")
FAMILY = "ens2-gcamp8"
#: the ν each scored neuron measured under each condition (computed once by this script)
NOISE_LEVELS = HERE / "results" / "noise_levels.csv"


def noise_levels(rows: list[dict], data: str) -> dict[tuple, float]:
    """ν per (dataset, neuron, condition label) of ``rows``: read from NOISE_LEVELS, computed (and written
    there) for rows it lacks."""
    known = {(r["dataset"], r["neuron"], row_condition(r).label): r["noise_level"]
             for r in (read_csv(NOISE_LEVELS) if NOISE_LEVELS.is_file() else [])}
    missing = [r for r in rows if (r["dataset"], r["neuron"], row_condition(r).label) not in known]
    if missing:
        neurons = {(d.name, n.name): n for d in selected_datasets(data, "gcamp8") for n in d.neurons}
        for r in missing:
            cond = row_condition(r)
            known[r["dataset"], r["neuron"], cond.label] = condition_noise_level(
                r["dataset"], neurons[r["dataset"], r["neuron"]], cond)
        write_csv(NOISE_LEVELS, [{"dataset": d, "neuron": n, **parse_conditions(c)[0].columns(), "noise_level": nu}
                                 for (d, n, c), nu in sorted(known.items())],
                  ["dataset", "neuron", "condition_frame_rate", "condition_noise", "noise_level"])
    return known


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/ground_truth")
    args = parser.parse_args()
    folds = list(GCAMP8_MOUSE_FOLDS)
    rows = {f: [r for r in read_csv(HERE / "results" / f"{FAMILY}-uncalibrated_{f}_conditions.csv")
                if row_condition(r).label in CONDITIONS] for f in folds}
    nus = noise_levels([r for f in folds for r in rows[f]], args.data)
    rows = {f: [{**r, "noise_level": nus[r["dataset"], r["neuron"], row_condition(r).label]} for r in fold_rows]
            for f, fold_rows in rows.items()}
    how = (f"1 / median count of the uncalibrated family's held-out neurons under {', '.join(CONDITIONS)} "
           "(per jGCaMP8 variant; 'default' pooled), then 1 / median calibrated count per octave of ν "
           "(count_noise_curve), on GCaMP8 mouse folds {}")
    targets = [(HERE / "folds" / f, [g for g in folds if g != f]) for f in folds] + [(zoo_dir(), folds)]
    for folder, fitted_on in targets:
        fitted = [r for f in fitted_on for r in rows[f]]
        gains = fit_count_gains(fitted, conditions=CONDITIONS)
        curve = fit_noise_curve(fitted, gains, conditions=CONDITIONS)
        set_count_calibration(folder, FAMILY, gains, how.format(", ".join(fitted_on)), curve)
        print(f"{folder}: {gains}, ν curve {curve} (fitted on {', '.join(fitted_on)})")


if __name__ == "__main__":
    main()
