"""Lag of the inferred rate against the true spikes on held-out ground truth, and the fold's table re-scored.

    .venv/bin/python benchmarks/lodo/lag.py --data ../shared/ground_truth --fold DS06 --recipes unet,mlp

For each recipe, the committed LODO weights of the fold (``benchmarks/lodo/weights``, as
``check_folds.py`` finds them) predict every held-out neuron exactly as ``ens2zoo evaluate``
does (:func:`ens2zoo.benchmark.evaluation.neuron_prediction`).  Printed per recipe:

* the lag: the shift (in 60 Hz samples) that maximises the correlation of the predicted
  rate with the true smoothed spike train, per neuron (integer peak, and the peak refined
  by a parabola through its neighbours); positive = the inferred rate is late;
* the largest difference of every metric column against the committed table
  ``benchmarks/lodo/<recipe>_lodo_<fold>.csv`` (0 when the evaluation clock is unchanged).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from check_folds import fold_weights  # beside this script

from ens2zoo.benchmark.evaluation import neuron_prediction, read_csv, score_predictions
from ens2zoo.cli.main import build_parser
from ens2zoo.cli.options import model_from_args
from ens2zoo.cli.training import selected_datasets
from ens2zoo.metrics import COLUMNS as METRICS

MAX_LAG = 12


def lag(pred: np.ndarray, true: np.ndarray) -> tuple[int, float]:
    """(integer, parabola-refined) shift L maximising corr(pred[t + L], true[t]), |L| ≤ MAX_LAG samples."""
    lags = np.arange(-MAX_LAG, MAX_LAG + 1)
    core = slice(MAX_LAG, len(true) - MAX_LAG)
    xc = np.array([np.corrcoef(pred[MAX_LAG + L:len(true) - MAX_LAG + L], true[core])[0, 1] for L in lags])
    k = int(np.nanargmax(xc))
    if 0 < k < len(lags) - 1:
        a, b, c = xc[k - 1], xc[k], xc[k + 1]
        return int(lags[k]), float(lags[k] + 0.5 * (a - c) / (a - 2 * b + c))
    return int(lags[k]), float(lags[k])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--fold", required=True, help="held-out dataset, e.g. DS06")
    parser.add_argument("--recipes", default="unet", help="comma-separated recipes with committed weights")
    args = parser.parse_args()
    torch.set_num_threads(1)
    (dataset,) = selected_datasets(args.data, f"{args.fold}*")
    for recipe in args.recipes.split(","):
        weights = fold_weights(recipe, args.fold)
        if weights is None:
            raise SystemExit(f"{recipe}: no committed weights for {args.fold}")
        options = ["evaluate", "--weights", str(weights), "--data", args.data, "-o", "unused.csv"]
        model = model_from_args(build_parser().parse_args(options))
        preds = [neuron_prediction(model, n) for n in dataset.neurons]
        lags = np.array([lag(p.pred_rate, p.true_rate.astype(np.float64)) for p in preds])
        rows = score_predictions(dataset.name, [n.name for n in dataset.neurons], preds)
        old = {r["neuron"]: r for r in read_csv(Path("benchmarks/lodo") / f"{recipe}_lodo_{args.fold}.csv")}
        columns = [c for c in METRICS if c in next(iter(old.values()))]  # tables older than a metric lack it
        worst = {c: max(abs(float(r[c]) - float(old[r["neuron"]][c])) if np.isfinite(float(r[c])) else 0.0
                        for r in rows) for c in columns}
        print(f"{recipe} {args.fold} ({len(preds)} neurons): lag per neuron {lags[:, 0].astype(int).tolist()} "
              f"samples, median {np.median(lags[:, 0]):g}; refined median {np.median(lags[:, 1]):+.2f}, "
              f"mean {lags[:, 1].mean():+.2f}")
        print("  largest |Δ| against the committed table: " + ", ".join(f"{c} {v:.1e}" for c, v in worst.items()),
              flush=True)


if __name__ == "__main__":
    main()
