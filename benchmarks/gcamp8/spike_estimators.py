"""Discrete spike estimators held out (RESULTS.md section 15): the published greedy estimator against the
count-preserving one, per neuron of a fold under each condition, on the same rates.

    .venv/bin/python benchmarks/gcamp8/spike_estimators.py --folds M1 [--conditions 30:0,30:4,30:8,7.5:4]
    .venv/bin/python benchmarks/gcamp8/spike_estimators.py --folds DS02,DS03,... --conditions 30:4   # ens2-exc
    .venv/bin/python benchmarks/gcamp8/spike_estimators.py --folds DS02,DS03,... --conditions native --stride 1

A jGCaMP8 mouse fold's family predicts with each recording's indicator, window stride 4, as ``evaluate_folds.sh``
scores it; a classic dataset ``DSxx`` is scored by its leave-one-dataset-out ``ens2-exc`` (DS22–DS27:
``ens2-inh``; ``benchmarks/lodo/weights``; DS01: the zoo's ``ens2-exc``), no indicator. The rates are kept in
``runs/spike_estimators/<fold>_<condition>[_stride<s>].npz`` (ignored by git), so re-scoring another estimator does
not predict again. Under a condition each recording's rate is turned into spikes on its own (as ``predict``
does); ``native`` rows use the published read-out of the neuron's concatenated recordings and estimate its
spikes once over them (as the LODO tables do: with ``--stride 1`` their greedy rows are those tables'). The
neuron's recordings are scored together with :func:`ens2zoo.metrics.evaluate_many`: medians over the neurons of
``spike_count`` (Σ discrete spikes / true spikes), ``count`` (Σ rate / true spikes), ``er50`` (%, lower is better)
and ``vpd`` (Victor–Purpura distance per true spike), and each estimator's er50 paired per neuron against the
first's.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch

import ens2zoo
from ens2zoo.benchmark.conditions import condition_prediction, parse_conditions
from ens2zoo.data import selected_datasets
from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS, INHIBITORY_FOLDS, get_fold
from ens2zoo.defaults import SAMPLING_RATE
from ens2zoo.inference.spikes import SPIKE_ESTIMATORS, estimate_spikes, spike_times
from ens2zoo.metrics import evaluate_many

CACHE = Path("runs/spike_estimators")


def _fold(fold: str, data: str) -> tuple[ens2zoo.SpikeModel, list, bool]:
    """(model, held-out datasets, whether to pass each dataset's indicator) of a jGCaMP8 mouse fold (``M1``: its
    ``ens2-gcamp8``) or a classic leave-one-dataset-out fold (``DS10``: its ``ens2-exc``, ``DS22``–``DS27``: its
    ``ens2-inh``; ``DS01``, where the zoo's designs are chosen: the zoo's ``ens2-exc``; no indicator gains)."""
    if fold in GCAMP8_MOUSE_FOLDS:
        held_out = selected_datasets(data, get_fold(fold).held_out)
        return ens2zoo.load_folder(f"benchmarks/gcamp8/folds/{fold}"), held_out, True
    family = "ens2-inh" if fold in INHIBITORY_FOLDS else "ens2-exc"
    folder = f"benchmarks/lodo/weights/{family}_lodo_{fold}"
    model = ens2zoo.load(family) if fold == "DS01" else ens2zoo.load_folder(folder)
    return model, selected_datasets(data, f"{fold}*"), False


def fold_rates(fold: str, condition, data: str, stride: int = 4) -> dict[str, np.ndarray]:
    """The fold's predicted rates, true rates, true events and the lengths of the stretches whose spikes are
    estimated on their own (each recording; ``native``: the neuron's concatenated recordings, as published) per
    held-out neuron (cached)."""
    path = CACHE / f"{fold}_{condition.label.replace(':', '-')}{'' if stride == 4 else f'_stride{stride}'}.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    model, datasets, own_indicator = _fold(fold, data)
    out: dict[str, np.ndarray] = {}
    for d in datasets:
        for n in d.neurons:
            p = condition_prediction(model, n, condition, stride=stride, dataset=d.name,
                                     indicator=d.indicator if own_indicator else None)
            key = f"{d.name}/{n.name}"
            out[f"{key}|pred"] = p.pred_rate
            out[f"{key}|true"] = p.true_rate
            out[f"{key}|events"] = p.true_events
            out[f"{key}|lengths"] = (np.array([len(p.pred_rate)]) if condition.is_native
                                     else np.array([len(r) for r in n.recordings]))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def spikes_per_recording(pred: np.ndarray, lengths: np.ndarray, estimator) -> np.ndarray:
    """Spike times (s, concatenated clock) estimating each stretch of ``lengths`` on its own."""
    edges = np.concatenate([[0], np.cumsum(lengths)])
    counts = np.concatenate([estimator(pred[a:b]) for a, b in itertools.pairwise(edges)])
    return spike_times(counts, SAMPLING_RATE)


ESTIMATORS = {name: (lambda r, name=name: estimate_spikes(r, estimator=name)) for name in SPIKE_ESTIMATORS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folds", default="M1")
    p.add_argument("--conditions", default="30:0,30:4,30:8,7.5:4")
    p.add_argument("--estimators", default=",".join(ESTIMATORS))
    p.add_argument("--stride", type=int, default=4, help="window stride (the LODO tables' native rows: 1)")
    p.add_argument("--data", default="../shared/ground_truth")
    args = p.parse_args()
    torch.set_num_threads(1)
    for cond in parse_conditions(args.conditions):
        cached = [fold_rates(f, cond, args.data, args.stride) for f in args.folds.split(",")]
        keys = [(c, k[:-5]) for c in cached for k in c if k.endswith("|pred")]
        er50 = {}
        for name in args.estimators.split(","):
            est = ESTIMATORS[name]
            rows = evaluate_many([c[f"{k}|pred"] for c, k in keys], [c[f"{k}|true"] for c, k in keys],
                                 [spikes_per_recording(c[f"{k}|pred"], c[f"{k}|lengths"], est) for c, k in keys],
                                 [c[f"{k}|events"] for c, k in keys], SAMPLING_RATE)
            rows = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
            med = {c: np.nanmedian([r[c] for r in rows]) for c in ("spike_count", "count", "er50", "vpd", "corr")}
            print(f"{cond.label:>7} {name:>12}: {len(rows)} neurons, spike_count {med['spike_count']:.2f} "
                  f"(count {med['count']:.2f}), er50 {med['er50']:.1f}, vpd {med['vpd']:.3f}", flush=True)
            er50[name] = np.array([r["er50"] for r in rows])
        first, *others = er50
        for name in others:
            diff = er50[name] - er50[first]
            print(f"{cond.label:>7} {name:>12}: er50 against {first}, paired mean {np.nanmean(diff):+.2f}, "
                  f"lower for {int((diff < 0).sum())}, higher for {int((diff > 0).sum())} neurons", flush=True)


if __name__ == "__main__":
    main()
