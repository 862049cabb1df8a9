"""End-to-end predict time, 1 neuron × 10 min at 30 Hz (the simulated trace of
benchmarks/speed/test_bench_inference.py).

    ENS2ZOO_SHARED=../shared .venv/bin/python benchmarks/fast/timing.py --threads 1

Times, in one run and the same process: the published reference pipeline
(``ens2zoo/benchmark/reference.py`` on the published weights, if ``$ENS2ZOO_SHARED/ens2_reference`` holds
them), ``ens2-exc`` exact (stride 1) and ``ens2-exc-fast``, each ``predict(trace, 30)`` with
spikes, the median of ``--rounds`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numba
import torch

import ens2zoo
from ens2zoo.simulate import simulate_recording

FRAME_RATE = 30.0


def timed(fn, rounds: int, threads: int) -> float:
    times = []
    for i in range(rounds + 1):  # the first run is a warm-up
        # Numba's OpenMP layer (the spike estimator) resets the OpenMP thread count torch shares: set both again
        torch.set_num_threads(threads)
        numba.set_num_threads(threads)
        start = time.perf_counter()
        fn()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    trace = simulate_recording(n_neurons=1, duration_s=600.0, frame_rate=FRAME_RATE, seed=1).dff[0]
    rounds, threads = args.rounds, args.threads
    rows = []
    weights = Path(os.environ.get("ENS2ZOO_SHARED", "../shared")) / "ens2_reference" / "ens2_exc_state_dict.pt"
    if weights.is_file():
        from ens2zoo.benchmark.reference import load_published, published_pipeline

        net = load_published(weights)

        def reference():
            with torch.no_grad():
                return published_pipeline(net, trace, FRAME_RATE)

        rows.append(("published reference (ens2zoo/benchmark/reference.py)", timed(reference, rounds, threads)))
    teacher, student = ens2zoo.load("ens2-exc"), ens2zoo.load("ens2-exc-fast")
    rows.append(("ens2-exc, exact (stride 1)", timed(lambda: teacher.predict(trace, FRAME_RATE), rounds, threads)))
    rows.append(("ens2-exc, stride 4", timed(lambda: teacher.predict(trace, FRAME_RATE, stride=4), rounds, threads)))
    rows.append(("ens2-exc-fast", timed(lambda: student.predict(trace, FRAME_RATE), rounds, threads)))
    rows.append(("ens2-exc-fast, rate only (spikes=False)",
                 timed(lambda: student.predict(trace, FRAME_RATE, spikes=False), rounds, threads)))
    fast = rows[-2][1]
    print(f"1 neuron × 10 min at 30 Hz, {args.threads} torch/Numba thread(s), median of {args.rounds}")
    print("| pipeline | seconds | × slower than ens2-exc-fast |")
    print("| --- | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / fast:.1f} |")


if __name__ == "__main__":
    main()
