"""Where `predict` spends its time: one neuron, 10 min at 30 Hz, published-shape U-Net.

    .venv/bin/python benchmarks/profile_predict.py

Times each stage (resampling, windowed forward + overlap-add, spike
estimation) and prints the torch profiler's top operators of the forward.
"""

from __future__ import annotations

import time

import torch

import ens2zoo
from ens2zoo.inference.spikes import estimate_spikes
from ens2zoo.inference.traces import resample
from ens2zoo.inference.windows import cpu_batch_pool, trace_rate
from ens2zoo.simulate import simulate_recording


def main() -> None:
    trace = simulate_recording(1, 600.0, 30.0, seed=1).dff
    model = ens2zoo.load("ens2-exc")
    model.predict(trace[:, :3000], 30.0)  # warm-up (oneDNN primitives, Numba)
    t0 = time.perf_counter()
    x60 = resample(trace, 30.0)
    t1 = time.perf_counter()
    with torch.inference_mode(), cpu_batch_pool(torch.device("cpu")) as pool:
        rate = trace_rate(model.net, x60[0], pool=pool)
    t2 = time.perf_counter()
    estimate_spikes(rate)
    t3 = time.perf_counter()
    total = t3 - t0
    for name, dt in (("resample", t1 - t0), ("forward + overlap-add", t2 - t1), ("spike estimation", t3 - t2)):
        print(f"{name:<24} {dt * 1000:8.1f} ms  {100 * dt / total:5.1f} %")
    with torch.inference_mode(), torch.profiler.profile() as prof:
        trace_rate(model.net, x60[0])
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))


if __name__ == "__main__":
    main()
