"""Where the discrete spikes of ens2-gcamp8 go (RESULTS.md section 15): per held-out neuron of a mouse fold, under
a condition, Σ rate / true spikes, Σ discrete spikes / true spikes, and the share of Σ rate below the greedy
estimator's zeroing threshold (0.02/σ spikes per 60 Hz sample, σ = 1.5 samples); medians printed.

    .venv/bin/python benchmarks/gcamp8/spike_diagnostic.py [--fold M2] [--conditions 30:0,30:8]

The fold's family predicts with each recording's indicator, window stride 4, as ``evaluate_folds.sh`` scores it.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import ens2zoo
from ens2zoo.benchmark.conditions import condition_prediction, parse_conditions
from ens2zoo.data import selected_datasets
from ens2zoo.data.groups import get_fold
from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S

THRESHOLD = 0.02 / (SMOOTHING_SIGMA_S * SAMPLING_RATE)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fold", default="M2")
    p.add_argument("--conditions", default="30:0,30:8")
    p.add_argument("--data", default="../shared/ground_truth")
    args = p.parse_args()
    torch.set_num_threads(2)
    model = ens2zoo.load_folder(f"benchmarks/gcamp8/folds/{args.fold}")
    datasets = selected_datasets(args.data, get_fold(args.fold).held_out)
    for cond in parse_conditions(args.conditions):
        per_neuron = []
        for d in datasets:
            for n in d.neurons:
                p = condition_prediction(model, n, cond, stride=4, dataset=d.name, indicator=d.indicator)
                true, rate = p.true_rate.sum(), p.pred_rate
                per_neuron.append((rate.sum() / true, len(p.pred_events) / true,
                                   rate[rate < THRESHOLD].sum() / rate.sum()))
        count, spikes, below = np.median(np.array(per_neuron), axis=0)
        print(f"{cond.label}: {len(per_neuron)} neurons, median count {count:.2f}, spike_count {spikes:.2f}, "
              f"share of the rate below the threshold {below:.2f}")


if __name__ == "__main__":
    main()
