"""Do squares and products of the indicator advice's three features help (RESULTS.md section 15)?

    .venv/bin/python benchmarks/gcamp8/advice_terms.py

Reads the per-neuron features ``kinetics_probe.py`` measured (``results/kinetics.json``) and, for the features as
they are, with their squares and products, and with their products only, at L2 0.01–3, prints the share of
jGCaMP8 and classic neurons named right held out (each classic dataset and each GCaMP8 mouse fold predicted by
``kinetics_probe.fit`` on all the others), as ``kinetics_probe.py`` measures the shipped model.
"""

from __future__ import annotations

import json

import kinetics_probe as probe
import numpy as np

from ens2zoo.inference import kinetics as K

TERMS = {"as they are": lambda x: x,
         "with squares and products": lambda x: np.hstack([x] + [x[:, [i]] * x[:, [j]]
                                                                 for i in range(3) for j in range(i, 3)]),
         "with products only": lambda x: np.hstack([x] + [x[:, [i]] * x[:, [j]]
                                                          for i in range(3) for j in range(i + 1, 3)])}


def main() -> None:
    neurons = [n for n in json.loads(probe.OUT.read_text())["neurons"] if np.isfinite(n["rise_ratio"])]
    x0 = probe.features(neurons)
    y = np.array([n["family"] == K.GCAMP8 for n in neurons], dtype=np.float64)
    folds = np.array([n["fold"] for n in neurons])
    for name, terms in TERMS.items():
        x = terms(x0)
        for l2 in (0.01, 0.1, 1.0, 3.0):
            probe.L2 = l2
            called = probe.held_out_gcamp8(x, y, folds)
            print(f"{name}, L2 {l2:g}: jGCaMP8 {100 * (called[y == 1] == 1).mean():.1f} %, "
                  f"classic {100 * (called[y == 0] == 0).mean():.1f} %")


if __name__ == "__main__":
    main()
