"""Peak memory of predicting one 24-hour trace (30 Hz) — the bounded-memory claim.

    .venv/bin/python benchmarks/long_trace_memory.py [--hours 24] [--stride 16]

Prints the process's peak resident memory (ru_maxrss) before and after
``predict``.  The stride only changes how many windows are evaluated, not the
size of any array, so a large stride measures the memory of the exact mode quickly.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import ens2zoo


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--stride", type=int, default=16)
    parser.add_argument("--model", default="unet", help="architecture (random weights: memory does not depend on them)")
    args = parser.parse_args()
    model = ens2zoo.create(args.model)
    n = int(args.hours * 3600 * 30)
    trace = np.random.default_rng(0).normal(0, 0.1, n).astype(np.float32)
    before = peak_mb()
    start = time.perf_counter()
    result = model.predict(trace, 30.0, stride=args.stride)
    print(f"{args.hours:g} h at 30 Hz ({n} frames → {result.rate.shape[1]} samples at 60 Hz), stride {args.stride}: "
          f"{time.perf_counter() - start:.1f} s; peak RSS {before:.0f} MB before, {peak_mb():.0f} MB after predict")


if __name__ == "__main__":
    main()
