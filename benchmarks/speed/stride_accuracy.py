"""Accuracy cost of ``stride`` > 1: correlation with the exact (stride 1) rate.

    .venv/bin/python benchmarks/stride_accuracy.py [--model ens2-exc] [--shared ../shared]

Inputs: the ENS² sample recording (6 neurons, 10 Hz) and the first recording of
the first two neurons of each excitatory ground-truth dataset (at 60 Hz).
Prints, per stride, the median and minimum Pearson correlation of the rate with
the stride-1 rate, the median relative change in the number of spikes, and the
time relative to stride 1, as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import scipy.io

import ens2zoo
from ens2zoo.data import find_datasets, load_neuron
from ens2zoo.data.groups import GROUPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="ens2-exc")
    parser.add_argument("--shared", default=os.environ.get("ENS2ZOO_SHARED", "../shared"))
    parser.add_argument("--strides", default="2,4,8,16")
    args = parser.parse_args()
    shared = Path(args.shared)
    model = ens2zoo.load(args.model)
    inputs = [("sample", scipy.io.loadmat(shared / "ens2_reference" / "sample_data.mat")["dff"], 10.0)]
    traces = []
    for folder in find_datasets(shared / "ground_truth", GROUPS["excitatory"]):
        for path in sorted(folder.glob("*.mat"))[:2]:
            neuron = load_neuron(path)
            if neuron.recordings:
                traces.append(neuron.recordings[0].trace)
    inputs += [("ground truth", t[None, :], 60.0) for t in traces]
    exact, t_exact = [], 0.0
    for _, x, fr in inputs:
        start = time.perf_counter()
        exact.append(model.predict(x, fr))
        t_exact += time.perf_counter() - start
    print(f"model {args.model}; sample: 6 neurons; ground truth: {len(traces)} recordings "
          f"({sum(len(t) for t in traces) / 60 / 3600:.2f} h at 60 Hz)\n")
    print("| stride | input | median corr | min corr | median Δ spikes | time vs stride 1 |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for stride in (int(s) for s in args.strides.split(",")):
        rows: dict[str, list[tuple[float, float]]] = {"sample": [], "ground truth": []}
        elapsed = 0.0
        for (kind, x, fr), ref in zip(inputs, exact):
            start = time.perf_counter()
            got = model.predict(x, fr, stride=stride)
            elapsed += time.perf_counter() - start
            for r_exact, r_got, s_exact, s_got in zip(ref.rate, got.rate, ref.spikes, got.spikes):
                corr = float(np.corrcoef(r_exact, r_got)[0, 1])
                dspk = abs(int(s_got.sum()) - int(s_exact.sum())) / max(int(s_exact.sum()), 1)
                rows[kind].append((corr, dspk))
        for kind, values in rows.items():
            c = np.array([v[0] for v in values])
            d = np.array([v[1] for v in values])
            print(f"| {stride} | {kind} | {np.median(c):.4f} | {c.min():.4f} | {100 * np.median(d):.1f} % | "
                  f"{elapsed / t_exact:.2f} |")


if __name__ == "__main__":
    main()
