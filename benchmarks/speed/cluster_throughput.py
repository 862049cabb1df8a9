"""Many recordings: ``ens2zoo predict`` one after another in one process vs ``--scheduler local --workers N``.

Simulates R recordings of N neurons × M minutes of ΔF/F (``ens2zoo.simulate.simulate_recording``; each
recording is stitched from 60-s simulations because the simulator's cost grows with spikes × frames),
then runs the same command both ways, each as its own process, sampling the resident memory (RSS) of
the command and of every process it starts every 0.2 s (psutil).  Prints the wall and CPU times (user +
system, of the command and all its processes), the peak RSS of the in-process run and of each Dask
worker, and checks that both ways write identical arrays.

    .venv/bin/python benchmarks/cluster_throughput.py --recordings 20            # 1,000 neuron-hours
    .venv/bin/python benchmarks/cluster_throughput.py --recordings 4 --workers 2  # what CLUSTER.md reports

Results: benchmarks/CLUSTER.md.  Needs the dask extra (pip install 'ens2zoo[dask]').
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

CLI = str(Path(sys.executable).with_name("ens2zoo"))


def simulate(folder: Path, recordings: int, neurons: int, minutes: float, frame_rate: float) -> list[Path]:
    from ens2zoo.simulate import simulate_recording

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for r in range(recordings):
        path = folder / f"rec{r:02d}.npy"
        paths.append(path)
        if path.is_file():
            continue
        chunks = [simulate_recording(n_neurons=neurons, duration_s=60.0, frame_rate=frame_rate,
                                     seed=1000 * r + c).dff for c in range(round(minutes))]
        np.save(path, np.concatenate(chunks, axis=1).astype(np.float32))
        print(f"simulated {path} ({neurons} neurons × {minutes:g} min)", flush=True)
    return paths


def run_sampled(argv: list[str], interval: float = 0.2) -> dict:
    """Run ``argv``; wall time, return code, and the peak RSS of it and of each process it starts."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks: dict[int, dict] = {}
    done = threading.Event()

    def sample() -> None:
        main = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [main, *main.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    cmd = " ".join(p.cmdline())
                except psutil.Error:
                    continue
                entry = peaks.setdefault(p.pid, {"rss": 0, "cmd": cmd, "main": p.pid == proc.pid})
                entry["rss"] = max(entry["rss"], rss)
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and every process it waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    thread.join()
    workers = [v["rss"] for v in peaks.values() if "spawn_main" in v["cmd"] and "resource_tracker" not in v["cmd"]]
    main = [v["rss"] for v in peaks.values() if v["main"]]
    return {"wall_s": wall, "cpu_s": cpu, "rc": proc.returncode, "main_peak_rss": main[0] if main else None,
            "worker_peak_rss": sorted(workers, reverse=True), "output": out}


def same_outputs(a: Path, b: Path) -> bool:
    for fa in sorted(a.glob("*.ens2zoo.npz")):
        with np.load(fa) as x, np.load(b / fa.name) as y:
            if sorted(x.files) != sorted(y.files):
                return False
            if any(x[k].tobytes() != y[k].tobytes() for k in x.files):
                return False
    return len(list(a.glob("*.ens2zoo.npz"))) == len(list(b.glob("*.ens2zoo.npz")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", type=int, default=20)
    ap.add_argument("--neurons", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--frame-rate", type=float, default=30.0)
    ap.add_argument("--stride", type=int, default=16, help="window stride (left out for whole-trace models, "
                                                           "e.g. ens2-exc-fast, which refuse it)")
    ap.add_argument("--model", default="ens2-exc")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "ens2zoo_cluster_bench",
                    help="folder for the simulated recordings (kept between runs) and the outputs")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    inputs = simulate(args.data / "inputs", args.recordings, args.neurons, args.minutes, args.frame_rate)
    import ens2zoo

    windowed = ens2zoo.load(args.model).readout != "whole-trace"
    common = ["predict", *map(str, inputs), "--frame-rate", str(args.frame_rate),
              *(["--stride", str(args.stride)] if windowed else []), "--model", args.model, "--no-progress"]
    results = {}
    for name, extra in (("in-process, one after another", []),
                        (f"--scheduler local --workers {args.workers}",
                         ["--scheduler", "local", "--workers", str(args.workers)])):
        out = args.data / ("out_cluster" if extra else "out_serial")
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        r = run_sampled([CLI, *common, "--output-dir", str(out), *extra])
        r["load_before"] = load
        if r["rc"] != 0:
            print(r["output"])
            raise SystemExit(f"{name}: exit status {r['rc']}")
        results[name] = r
        workers = ", ".join(f"{x / 2**20:.0f}" for x in r["worker_peak_rss"]) or "—"
        print(f"{name}: {r['wall_s']:.0f} s ({r['cpu_s']:.0f} CPU-s); peak RSS command "
              f"{r['main_peak_rss'] / 2**20:.0f} MiB, workers {workers} MiB (load average before: {load:.1f})",
              flush=True)
    identical = same_outputs(args.data / "out_serial", args.data / "out_cluster")
    hours = args.recordings * args.neurons * args.minutes / 60
    serial, cluster = results.values()
    print(f"\n{args.recordings} recordings × {args.neurons} neurons × {args.minutes:g} min at {args.frame_rate:g} Hz "
          f"({hours:g} neuron-hours), {args.model}, {f'stride {args.stride}' if windowed else 'whole trace'}; "
          f"{os.cpu_count()} CPU cores")
    print("| run | wall time | CPU time | neuron-hours / min | peak RSS |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, r in results.items():
        mem = (f"workers {', '.join(f'{x / 2**20:.0f}' for x in r['worker_peak_rss'])} MiB; "
               f"client {r['main_peak_rss'] / 2**20:.0f} MiB") if r["worker_peak_rss"] \
            else f"{r['main_peak_rss'] / 2**20:.0f} MiB"
        print(f"| {name} | {r['wall_s']:.0f} s | {r['cpu_s']:.0f} s | {hours / (r['wall_s'] / 60):.1f} | {mem} |")
    print(f"speed-up {serial['wall_s'] / cluster['wall_s']:.2f}×; outputs identical: {identical}")
    if args.json:
        args.json.write_text(json.dumps({"recordings": args.recordings, "neurons": args.neurons,
                                         "minutes": args.minutes, "identical": identical,
                                         "results": {k: {kk: vv for kk, vv in v.items() if kk != "output"}
                                                     for k, v in results.items()}}, indent=1))


if __name__ == "__main__":
    main()
