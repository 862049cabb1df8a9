"""Fit ens2-gcamp8's spike-count calibration, cross-fitted over the GCaMP8 mouse folds, and record it.

    .venv/bin/python benchmarks/gcamp8/fit_calibration.py

Reads the per-neuron rows of the uncalibrated family on each fold's held-out mice
(``results/ens2-gcamp8-uncalibrated_<FOLD>_conditions.csv``, M1–M5) and fits the gains
``1 / median count`` per jGCaMP8 variant and pooled (``ens2zoo.benchmark.calibration``) over the
re-imaged conditions (30:0, 30:4, 30:8, 7.5:4: the frame rates users record at; the native
~122 Hz rows are left out):

* fold Mk's family (``folds/Mk/``) gets the gains fitted on the other four folds' held-out
  neurons, never on its own, so its scores stay held-out;
* the zoo's ``ens2-gcamp8`` (trained on all 16 mice) gets the gains fitted on all five folds.

Each gain is written into the family's ``manifest.json`` (``count_calibration``, with how it was
fitted under ``provenance.count_calibration``); ``predict(..., indicator=...)`` applies it.
"""

from __future__ import annotations

from pathlib import Path

from ens2zoo.benchmark.calibration import fit_count_gains
from ens2zoo.benchmark.evaluation import read_csv
from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS
from ens2zoo.zoo.entries import zoo_dir
from ens2zoo.zoo.manifest import set_count_calibration

HERE = Path(__file__).resolve().parent
CONDITIONS = ("30:0", "30:4", "30:8", "7.5:4")
FAMILY = "ens2-gcamp8"


def rows_of(folds: list[str]) -> list[dict]:
    return [r for f in folds for r in read_csv(HERE / "results" / f"{FAMILY}-uncalibrated_{f}_conditions.csv")]


def main() -> None:
    folds = list(GCAMP8_MOUSE_FOLDS)
    how = (f"1 / median count of the uncalibrated family's held-out neurons under {', '.join(CONDITIONS)} "
           "(per jGCaMP8 variant; 'default' pooled) on GCaMP8 mouse folds {}")
    targets = [(HERE / "folds" / f, [g for g in folds if g != f]) for f in folds] + [(zoo_dir(), folds)]
    for folder, fitted_on in targets:
        gains = fit_count_gains(rows_of(fitted_on), conditions=CONDITIONS)
        set_count_calibration(folder, FAMILY, gains, how.format(", ".join(fitted_on)))
        print(f"{folder}: {gains} (fitted on {', '.join(fitted_on)})")


if __name__ == "__main__":
    main()
