"""Many short recordings against one long one, exact mode: seconds per neuron-hour.

    .venv/bin/python benchmarks/many_neurons.py [--neurons 500] [--minutes 5]

Simulated neurons at 30 Hz through the zoo's ``ens2-exc-v1`` (one U-Net), end to end, exact
(stride 1).  The input is large enough (≥ ``COMPILE_MIN_WINDOWS`` windows) for ``predict`` to
compile the network by itself; the compile time is part of the figure.  Then the same
recordings joined end to end into one neuron, for comparison.
"""

from __future__ import annotations

import argparse
import time

import ens2zoo
from ens2zoo.simulate import simulate_recording

FRAME_RATE = 30.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--neurons", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    model = ens2zoo.load("ens2-exc-v1")
    hours = args.neurons * args.minutes / 60
    many = simulate_recording(n_neurons=args.neurons, duration_s=args.minutes * 60, frame_rate=FRAME_RATE, seed=2)
    start = time.perf_counter()
    model.predict(many.dff, FRAME_RATE)
    seconds = time.perf_counter() - start
    print(f"{args.neurons} neurons × {args.minutes:g} min ({hours:.1f} neuron-hours): {seconds:.1f} s, "
          f"{seconds / hours:.2f} s per neuron-hour (compile included)", flush=True)
    one = many.dff.reshape(1, -1)  # the same recordings end to end
    start = time.perf_counter()
    model.predict(one, FRAME_RATE)
    seconds = time.perf_counter() - start
    print(f"1 neuron × {hours * 60:g} min: {seconds:.1f} s, {seconds / hours:.2f} s per neuron-hour "
          "(network already compiled in this process)")


if __name__ == "__main__":
    main()
