"""Fit and measure the indicator advice: can a neuron's transients tell jGCaMP8 from the classic indicators?

    .venv/bin/python benchmarks/gcamp8/kinetics_probe.py [--data ../shared/ground_truth]

Every neuron of DS30–DS32 (jGCaMP8f/m/s) and of the classic excitatory datasets (DS02–DS21) is
re-imaged at 30 Hz at its own noise (condition ``30:0``; the native ~122 Hz would make it too
easy) and measured by :mod:`ens2zoo.inference.kinetics` (rise ratio, decay ratio at 100 ms, peak
ΔF/F over its transient peaks).  A class-balanced logistic model (L2 0.1 on standardised
features) is then

* measured held out: each classic dataset, and each GCaMP8 mouse fold (M1–M5), predicted by a
  model fitted on all the others; prints the share named right per family, the confusion matrix
  per dataset, and the same for the per-recording majority the warning uses;
* fitted on all neurons: prints the constants :mod:`ens2zoo.inference.kinetics` holds (and
  whether they match) and each family's feature ranges (10th–90th percentile) for the manifest.

Writes ``benchmarks/gcamp8/results/kinetics.json`` (per-neuron features and held-out calls).
``--record`` then stores each family's feature ranges in the zoo manifest
(``metrics.transient_kinetics`` of ``ens2-exc`` and ``ens2-gcamp8``: what their training data's
transients look like at 30 Hz).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS, GROUPS, mouse_of
from ens2zoo.data.reimage import reimage_trace
from ens2zoo.inference import kinetics as K

OUT = Path(__file__).resolve().parent / "results" / "kinetics.json"
#: recordings shorter than this (s) are skipped (too few transients to measure)
MIN_SECONDS = 10.0
L2 = 0.1


def measure(data: str) -> list[dict]:
    neurons = []
    for group in ("gcamp8", "excitatory"):
        for folder in find_datasets(data, GROUPS[group]):
            ds = load_dataset(folder, progress=None)
            for n in ds.neurons:
                ratios = [K.peak_ratios(reimage_trace(rec.trace, K.ADVICE_RATE, None, np.random.default_rng(0),
                                                      rec.sampling_rate).trace)
                          for rec in n.recordings if len(rec.trace) >= MIN_SECONDS * rec.sampling_rate]
                rise, decay, peak, count = K.kinetics_of(ratios)
                fold = ds.name[:4]
                if group == "gcamp8":
                    fold = next(f.name for f in GCAMP8_MOUSE_FOLDS.values() if f"_{mouse_of(n.name)}_" in f.held_out)
                neurons.append({"dataset": ds.name, "neuron": n.name, "family": K.GCAMP8 if group == "gcamp8"
                                else K.CLASSIC, "fold": fold, "rise_ratio": rise, "decay_ratio": decay,
                                "peak_dff": peak, "n_peaks": count})
    return neurons


def features(neurons: list[dict]) -> np.ndarray:
    return K.Kinetics(*(np.array([n[k] for n in neurons], dtype=np.float64)
                        for k in ("rise_ratio", "decay_ratio", "peak_dff", "n_peaks"))).features()


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coefficients, bias) of a class-balanced, L2-penalised logistic regression."""
    mean, scale = x.mean(0), x.std(0)
    z = np.c_[(x - mean) / scale, np.ones(len(x))]
    w = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ b
        p = 1 / (1 + np.exp(-s))
        grad = z.T @ (w * (p - y)) + 2 * L2 * np.r_[b[:-1], 0.0]
        return float(np.sum(w * (np.logaddexp(0, s) - y * s)) + L2 * np.sum(b[:-1] ** 2)), grad

    b = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}).x
    return mean, scale, b[:-1], float(b[-1])


def held_out_gcamp8(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Per neuron, whether the model :func:`fit` on every other fold (classic dataset or GCaMP8 mouse fold) of
    ``folds`` names it jGCaMP8."""
    called = np.zeros(len(x), dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        mean, scale, coef, bias = fit(x[~test], y[~test])
        called[test] = ((x[test] - mean) / scale) @ coef + bias > 0
    return called


#: zoo family → the feature ranges of its training data's indicator family
RECORDED = {"ens2-exc": K.CLASSIC, "ens2-gcamp8": K.GCAMP8}


def record(path: Path = OUT) -> None:
    from ens2zoo.zoo.manifest import upsert_record

    ranges = json.loads(path.read_text())["ranges"]
    for name, family in RECORDED.items():
        upsert_record(name, metrics={"transient_kinetics": {
            **ranges[family], "condition": "30:0", "percentiles": [10, 90],
            "source": "benchmarks/gcamp8/kinetics_probe.py (ens2zoo.inference.kinetics)"}})
        print(f"{name}: metrics['transient_kinetics'] = {ranges[family]}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="../shared/ground_truth")
    p.add_argument("--record", action="store_true", help="store the ranges of results/kinetics.json in the zoo")
    args = p.parse_args()
    if args.record:
        return record()
    neurons = [n for n in measure(args.data) if np.isfinite(n["rise_ratio"])]
    x = features(neurons)
    y = np.array([n["family"] == K.GCAMP8 for n in neurons], dtype=np.float64)
    folds = np.array([n["fold"] for n in neurons])
    held = np.where(held_out_gcamp8(x, y, folds), K.GCAMP8, K.CLASSIC)
    for n, call in zip(neurons, held):
        n["held_out_call"] = call
    print(f"{len(neurons)} neurons with ≥ {K.MIN_PEAKS} transient peaks at 30 Hz (condition 30:0)")
    for family in (K.GCAMP8, K.CLASSIC):
        mine = [n for n in neurons if n["family"] == family]
        right = sum(n["held_out_call"] == family for n in mine)
        print(f"held out, {family} neurons named {family}: {right}/{len(mine)} = {100 * right / len(mine):.1f} %")
    print("\nconfusion per dataset (held out): dataset  called gcamp8 / called classic")
    for ds in sorted({n["dataset"] for n in neurons}):
        c = Counter(n["held_out_call"] for n in neurons if n["dataset"] == ds)
        print(f"  {ds:<42} {c[K.GCAMP8]:>3} / {c[K.CLASSIC]:>3}")
    mean, scale, coef, bias = fit(x, y)
    fitted = {"_MEAN": mean, "_SCALE": scale, "_COEF": coef, "_BIAS": bias}
    print("\nfitted on all (ens2zoo/inference/kinetics.py):")
    for k, v in fitted.items():
        print(f"{k} = {np.array2string(np.round(v, 4), separator=', ') if np.ndim(v) else round(v, 4)}")
    same = all(np.allclose(np.round(v, 4), getattr(K, k)) for k, v in fitted.items())
    print(f"the package's constants {'match' if same else 'DIFFER: paste the lines above'}")
    print("\nfeature ranges (10th-90th percentile) per family, for the manifests:")
    ranges = {}
    for family in (K.GCAMP8, K.CLASSIC):
        mine = [n for n in neurons if n["family"] == family]
        ranges[family] = {k: [round(float(np.percentile([n[k] for n in mine], q)), 3) for q in (10, 90)]
                          for k in ("rise_ratio", "decay_ratio", "peak_dff")}
        print(f"  {family}: {ranges[family]}")
    OUT.write_text(json.dumps({"neurons": neurons, "ranges": ranges}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
