"""The GPU checks of the speed issue, in one run: parity, inference throughput, training speed.

    python3 benchmarks/gpu/gpu_checks.py --shared /tmp/shared --out $OUT/gpu_checks.json

1. Parity on the published sample (6 neurons at 10 Hz, the published weights): our rate on the
   GPU against the published code's outputs (relative L2 error per neuron, target ≤ 1e-4) and
   its spikes (identical, or each differing frame listed); also GPU against our CPU rate.
2. Throughput, neuron-hours of recording per second of wall time, end to end (resampling,
   network, spikes) and rate only: 100 simulated neurons × 10 min at 30 Hz (16.7 neuron-hours)
   through ``ens2-exc`` exact (stride 1), stride 4, stride 16, and ``ens2-exc-fast``; the
   published-style reference (``ens2zoo/benchmark/reference.py``) on this machine's CPU for 1 neuron
   × 10 min as the baseline.  Each after a warm-up on 2 neurons; the best of 2 runs.
3. Training: seconds per iteration of ``fit`` on the GPU for the U-Net (batch 1024) and the
   CASCADE peer (batch 8192) over 200 iterations of real windows (DS09), after 20 warm-up ones.

Writes one JSON object; prints it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

import ens2zoo
from ens2zoo.benchmark.reference import load_published, published_pipeline
from ens2zoo.data import TrainingWindows, find_datasets, load_dataset
from ens2zoo.simulate import simulate_recording

FRAME_RATE = 30.0


def best_of(model, dff: np.ndarray, runs: int = 2, **kw) -> float:
    """Best wall time of ``runs`` predictions (NumPy results: the GPU is done when predict returns)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.predict(dff, FRAME_RATE, **kw)
        times.append(time.perf_counter() - start)
    return min(times)


def parity(shared: Path, device: str) -> dict:
    ref = np.load(shared / "ens2_reference" / "sample_reference_exc.npz")
    weights = shared / "ens2_reference" / "ens2_exc_state_dict.pt"
    gpu = ens2zoo.create("unet", weights=weights, device=device).predict(ref["dff"], frame_rate=10.0)
    cpu = ens2zoo.create("unet", weights=weights).predict(ref["dff"], frame_rate=10.0)
    out = {"neurons": []}
    for i in range(ref["dff"].shape[0]):
        expected = ref[f"rate_{i}"]
        differing = np.flatnonzero(gpu.spikes[i] != ref[f"spike_{i}"])
        out["neurons"].append({
            "rate_rel_error_vs_published": float(np.linalg.norm(gpu.rate[i] - expected) / np.linalg.norm(expected)),
            "rate_rel_error_vs_cpu": float(np.linalg.norm(gpu.rate[i] - cpu.rate[i]) / np.linalg.norm(cpu.rate[i])),
            "spike_frames_differing": differing.tolist(),
            "spikes_total": int(ref[f"spike_{i}"].sum()),
        })
    out["max_rate_rel_error"] = max(n["rate_rel_error_vs_published"] for n in out["neurons"])
    out["spikes_identical"] = all(not n["spike_frames_differing"] for n in out["neurons"])
    return out


def throughput(device: str, neurons: int) -> dict:
    rec = simulate_recording(n_neurons=neurons, duration_s=600.0, frame_rate=FRAME_RATE, seed=1)
    hours = rec.dff.shape[0] * rec.dff.shape[1] / FRAME_RATE / 3600
    out: dict = {"neuron_hours": hours}
    modes = [("ens2-exc exact", "ens2-exc", 1), ("ens2-exc stride 4", "ens2-exc", 4),
             ("ens2-exc stride 16", "ens2-exc", 16), ("ens2-exc-fast", "ens2-exc-fast", None)]
    for label, name, stride in modes:
        model = ens2zoo.load(name, device=device)
        kw = {} if stride is None else {"stride": stride}
        model.predict(rec.dff[:2], FRAME_RATE, **kw)  # warm-up: CUDA kernels, numba
        full = best_of(model, rec.dff, **kw)
        rate = best_of(model, rec.dff, spikes=False, **kw)
        out[label] = {"seconds": full, "neuron_hours_per_s": hours / full,
                      "rate_only_seconds": rate, "rate_only_neuron_hours_per_s": hours / rate}
        print(label, out[label], flush=True)
    return out


def reference_cpu(shared: Path) -> dict:
    trace = simulate_recording(n_neurons=1, duration_s=600.0, frame_rate=FRAME_RATE, seed=1).dff[0]
    net = load_published(shared / "ens2_reference" / "ens2_exc_state_dict.pt")
    start = time.perf_counter()
    with torch.no_grad():
        published_pipeline(net, trace, FRAME_RATE)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "neuron_hours_per_s": (600.0 / 3600) / seconds,
            "torch_threads": torch.get_num_threads()}


def training(shared: Path, device: str, iterations: int) -> dict:
    (folder,) = find_datasets(shared / "ground_truth", "DS09-*")
    dataset = load_dataset(folder)
    out = {}
    for arch, batch, window in (("unet", 1024, 96), ("cascade", 8192, 64)):
        windows = TrainingWindows([dataset], window=window)
        model = ens2zoo.create(arch, device=device)
        optimizer = "adagrad" if arch == "cascade" else "adam"
        model.fit(windows, max_iter=20, batch_size=batch, optimizer=optimizer, device=device)
        model.fit(windows, max_iter=iterations, batch_size=batch, optimizer=optimizer, device=device)
        report = model.training_report_
        out[arch] = {"batch_size": batch, "iterations": report.iterations,
                     "seconds_per_iteration": report.seconds_per_iteration,
                     "iterations_per_s": 1 / report.seconds_per_iteration}
        print(arch, out[arch], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", required=True, help="folder with ground_truth/ and ens2_reference/")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script")
    parser.add_argument("--neurons", type=int, default=100, help="throughput input: neurons × 10 min")
    parser.add_argument("--iterations", type=int, default=200, help="timed training iterations")
    parser.add_argument("--checks", default="parity,training,throughput,reference_cpu",
                        help="comma-separated subset of the checks to run")
    args = parser.parse_args()
    shared, dev = Path(args.shared), args.device
    result = {"gpu": torch.cuda.get_device_name(0) if dev == "cuda" else None, "torch": torch.__version__,
              "cpu": platform.processor() or platform.machine(), "cpu_threads": torch.get_num_threads()}
    for name, step in (("parity", lambda: parity(shared, dev)),
                       ("training", lambda: training(shared, dev, args.iterations)),
                       ("throughput", lambda: throughput(dev, args.neurons)),
                       ("reference_cpu", lambda: reference_cpu(shared))):
        if name not in args.checks.split(","):
            continue
        start = time.perf_counter()
        try:
            result[name] = step()
        except Exception as exc:  # one failing check must not lose the others
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result[name + "_wall_s"] = round(time.perf_counter() - start, 1)
        Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
