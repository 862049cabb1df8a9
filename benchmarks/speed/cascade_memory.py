"""Peak memory and time of ``predict`` on a large recording: CASCADE folders or zoo models.

    .venv/bin/python benchmarks/speed/cascade_memory.py \
        --model ../shared/cascade_reference/Global_EXC_30Hz_smoothing25ms --neurons 1000 --frames 80000 --threads 1

The input is synthetic ΔF/F at 30 Hz (float32, built in chunks of neurons so that building it costs no
more than the array itself): Poisson spikes at 0.5 Hz, exponential transients (τ 0.5 s, amplitude 0.3)
and white noise of σ 0.05.  Prints one JSON line: peak resident memory (``ru_maxrss``) before and after
``predict``, the input's size, the time and neuron-hours of recording per second.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import scipy.signal
import torch

import ens2zoo

FRAME_RATE = 30.0


def synthetic_dff(neurons: int, frames: int, seed: int = 0, chunk: int = 64) -> np.ndarray:
    """(neurons, frames) float32 ΔF/F at 30 Hz (see the module's notes)."""
    rng = np.random.default_rng(seed)
    out = np.empty((neurons, frames), dtype=np.float32)
    decay = np.exp(-1.0 / (0.5 * FRAME_RATE))
    for i in range(0, neurons, chunk):
        n = min(chunk, neurons - i)
        spikes = rng.poisson(0.5 / FRAME_RATE, (n, frames)).astype(np.float32)
        out[i:i + n] = scipy.signal.lfilter([0.3], [1.0, -decay], spikes, axis=1)
        out[i:i + n] += rng.normal(0.0, 0.05, (n, frames)).astype(np.float32)
    return out


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # Linux: KiB


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="a CASCADE model folder or a zoo name (e.g. ens2-exc)")
    p.add_argument("--neurons", type=int, default=1000)
    p.add_argument("--frames", type=int, default=80000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--stride", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = ens2zoo.load_folder(args.model) if Path(args.model).is_dir() else ens2zoo.load(args.model)
    dff = synthetic_dff(args.neurons, args.frames)
    before = peak_rss_gb()
    start = time.perf_counter()
    result = model.predict(dff, FRAME_RATE, stride=args.stride, progress=False)
    seconds = time.perf_counter() - start
    hours = args.neurons * args.frames / FRAME_RATE / 3600
    print(json.dumps({"model": model.name, "neurons": args.neurons, "frames": args.frames, "threads": args.threads,
                      "stride": args.stride, "input_gb": round(dff.nbytes / 2**30, 3),
                      "output_gb": round((result.rate.nbytes + result.spikes.nbytes) / 2**30, 3),
                      "peak_rss_before_gb": round(before, 3), "peak_rss_gb": round(peak_rss_gb(), 3),
                      "seconds": round(seconds, 1), "neuron_hours_per_s": round(hours / seconds, 3)}))


if __name__ == "__main__":
    main()
