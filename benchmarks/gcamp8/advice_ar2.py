"""Does an AR(2) decay time help the indicator advice (RESULTS.md section 15)?

    .venv/bin/python benchmarks/gcamp8/advice_ar2.py [--data ../shared/ground_truth]

The issue suggests "an AR(2) fit as OASIS does": each recording of the neurons ``kinetics_probe.py`` measured
(``results/kinetics.json``), re-imaged at 30 Hz at its own noise as there, gets OASIS's AR(2) coefficients
(``oasis.functions.estimate_time_constant``, 10 autocovariance lags, noise by ``GetSn``); the neuron's decay time
constant τ (s) is the median over its recordings of −1 / (30 Hz · ln r), r the larger root's modulus.  Prints the
median τ per family and the share of jGCaMP8 and classic neurons named right held out (each classic dataset and
each GCaMP8 mouse fold predicted by ``kinetics_probe.fit`` on all the others) with the three features as they are
and with log τ as a fourth.
"""

from __future__ import annotations

import argparse
import json

import kinetics_probe as probe
import numpy as np
from oasis.functions import GetSn, estimate_time_constant

from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS
from ens2zoo.data.reimage import reimage_trace
from ens2zoo.inference import kinetics as K


def decay_time(trace: np.ndarray) -> float:
    """The AR(2) decay time constant (s) of one 30 Hz trace; NaN where the fit is not a decaying one."""
    g = estimate_time_constant(trace, p=2, sn=GetSn(trace), lags=10)
    r = np.abs(np.roots([1.0, -g[0], -g[1]])).max()
    return float(-1.0 / (K.ADVICE_RATE * np.log(r))) if 0 < r < 1 else float("nan")


def decay_times(data: str) -> dict[tuple[str, str], float]:
    """(dataset, neuron) → median AR(2) decay time (s) over its recordings of at least MIN_SECONDS."""
    taus = {}
    for group in ("gcamp8", "excitatory"):
        for folder in find_datasets(data, GROUPS[group]):
            ds = load_dataset(folder, progress=None)
            for n in ds.neurons:
                per = [decay_time(reimage_trace(rec.trace, K.ADVICE_RATE, None, np.random.default_rng(0),
                                                rec.sampling_rate).trace.astype(np.float64))
                       for rec in n.recordings if len(rec.trace) >= probe.MIN_SECONDS * rec.sampling_rate]
                taus[(ds.name, n.name)] = float(np.nanmedian(per)) if per else float("nan")
    return taus


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/ground_truth")
    args = p.parse_args()
    taus = decay_times(args.data)
    neurons = [n for n in json.loads(probe.OUT.read_text())["neurons"] if np.isfinite(n["rise_ratio"])]
    tau = np.array([taus[(n["dataset"], n["neuron"])] for n in neurons])
    y = np.array([n["family"] == K.GCAMP8 for n in neurons], dtype=np.float64)
    folds = np.array([n["fold"] for n in neurons])
    print(f"median τ: jGCaMP8 {np.nanmedian(tau[y == 1]):.2f} s, classic {np.nanmedian(tau[y == 0]):.2f} s "
          f"({np.isfinite(tau).sum()} of {len(tau)} neurons fitted)")
    x0 = probe.features(neurons)
    for name, x in (("the three features", x0), ("with log τ", np.c_[x0, np.log(tau)])):
        called = probe.held_out_gcamp8(x, y, folds)
        print(f"{name}: jGCaMP8 {100 * (called[y == 1] == 1).mean():.1f} %, "
              f"classic {100 * (called[y == 0] == 0).mean():.1f} %")


if __name__ == "__main__":
    main()
