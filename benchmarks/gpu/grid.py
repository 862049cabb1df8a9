"""The LODO grids on one GPU machine, in one prepared run with a deadline.

    python3 benchmarks/gpu/grid.py --data /tmp/shared/ground_truth --out $OUT --deadline 480 --workers 14

Runs, for every fold whose weights are not yet committed under ``benchmarks/lodo/weights/``,
the training/evaluation commands of the repository (``python3 -m ens2zoo benchmark``,
``python3 -m ens2zoo train``) as parallel processes sharing
the GPU (``--device cuda --threads 1``), in priority order, each task once the tasks it needs
are done:

1. ``unet`` (the paper's table, one setting) on the 19 excitatory folds;
2. the ``ens2-exc`` family recipe on the excitatory folds (its members, then the fold's family,
   scored with the recording conditions);
3. the same on the inhibitory folds DS22–DS27 (``ens2-inh`` families) and the zoo's
   ``ens2-inh-nm`` member on all inhibitory data;
4. the peers on 8 folds spanning the indicators: ``cascade`` (with conditions), ``mlp``, ``cnn``, ``lstm``.

``--plan fast`` runs instead the search for the fast model's recipe (issue 11): each student
variant of :data:`FAST_VARIANTS` distilled on the fast model's selection folds (the catalogue's
:data:`~ens2zoo.data.groups.FAST_SELECTION_FOLDS`) from the
fold's committed ``ens2-exc`` teacher (``benchmarks/fast/train_fast.py``), then scored against
that teacher (``benchmarks/fast/evaluate_fast.py --student``); weights and CSVs come back in
``w_fast.tar`` and ``tables.tar.gz``.

Every 30 s and at the end the results are packed into ``OUT`` (at most 8 files of < 16 MiB:
CSVs, manifests and logs in ``tables.tar.gz``; weights and checkpoints of unfinished trainings
in ``w_*.tar``), so a run cut short still returns what it finished; a fold resumes from its
checkpoint where it stopped (``ens2zoo benchmark`` resumes by itself).  No new task starts in
the last ``--tail`` seconds before ``--deadline``; at the deadline the remaining ones are stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ens2zoo.data.groups import (
    EXCITATORY_FOLDS,
    FAST_SELECTION_FOLDS,
    GROUPS,
    INHIBITORY_FOLDS,
    PEER_FOLDS,
    REIMAGED_CONDITIONS,
    lodo_name,
)

#: student variants: name → train_fast.py options (the first is the recipe of the zoo's student)
FAST_VARIANTS = {
    "base": ["--hours-original", "4", "--hours-reimaged", "4"],
    "data": ["--hours-original", "16", "--hours-reimaged", "32", "--iters", "12000"],
    "wide": ["--hours-original", "16", "--hours-reimaged", "32", "--iters", "12000", "--channels", "48",
             "--dilations", "1,2,4,8,16,32,64,1,2,4,8"],
}
FAST = Path("benchmarks/fast")
LODO = Path("benchmarks/lodo")


@dataclass
class Task:
    name: str
    argv: list[str]
    needs: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    started: float = 0.0
    status: str = "waiting"  # waiting, running, done, failed, stopped


def benchmark(recipe: str, fold: str, data: str, *, conditions: bool = False, inhibitory: bool = False) -> list[str]:
    argv = [sys.executable, "-m", "ens2zoo", "benchmark", "--recipe", recipe, "--lodo", fold, "--data", data,
            "-o", str(LODO), "--device", "cuda", "--threads", "1", "--log-every", "500"]
    if conditions:
        argv += ["--conditions", REIMAGED_CONDITIONS, "--conditions-stride", "4"]  # native rows exact
    if inhibitory:
        argv += ["--training-datasets", GROUPS["inhibitory"]]
    return argv


def committed(name: str) -> bool:
    """True if a fold's result is committed: ``weights/<name>.safetensors`` or a family folder."""
    weights = LODO / "weights"
    return (weights / f"{name}.safetensors").is_file() or (weights / name / "manifest.json").is_file()


def plan(data: str) -> list[Task]:
    """Every task whose result is not committed yet (``benchmarks/lodo/weights/``), in priority order."""
    tasks = [Task(f"unet:{f}", benchmark("unet", f, data)) for f in EXCITATORY_FOLDS
             if not committed(lodo_name("unet", f))]
    for family, folds, inh in (("ens2-exc", EXCITATORY_FOLDS, False), ("ens2-inh", INHIBITORY_FOLDS, True)):
        for f in folds:
            if committed(lodo_name(family, f)):
                continue
            # the family recipe trains the fold's members, then writes and scores its family folder
            tasks.append(Task(f"{family}:{f}", benchmark(family, f, data, conditions=True, inhibitory=inh)))
        if inh and not Path("zoo_weights/ens2-inh-nm.safetensors").is_file():
            tasks.append(Task("zoo:ens2-inh-nm", [
                sys.executable, "-m", "ens2zoo", "train", "--recipe", "ens2-nm", "--data", data,
                "--datasets", GROUPS["inhibitory"], "-o", "zoo_weights/ens2-inh-nm.safetensors", "--device", "cuda",
                "--threads", "1", "--log-every", "500", "--resume", "--keep-checkpoint"]))
    tasks += [Task(f"{r}:{f}", benchmark(r, f, data, conditions=True)) for r in ("cascade", "cascade-fixed")
              for f in PEER_FOLDS if not committed(lodo_name(r, f))]
    tasks += [Task(f"{r}:{f}", benchmark(r, f, data)) for r in ("mlp", "cnn", "lstm") for f in PEER_FOLDS
              if not committed(lodo_name(r, f))]
    return tasks


def plan_fast(data: str) -> list[Task]:
    """Each student variant on each selection fold: distil, then score against the fold's teacher.

    The teacher is scored once per fold: the first variant's scoring writes its CSVs, and the other
    variants' scorings wait for it and reuse them (``--reuse-teacher``)."""
    tasks = []
    for fold in FAST_SELECTION_FOLDS:
        first_score = None
        for variant, options in FAST_VARIANTS.items():
            weights = FAST / "weights" / f"{lodo_name(f'ens2-exc-fast-{variant}', fold)}.safetensors"
            name = f"fast-{variant}:{fold}"
            if not weights.is_file():
                tasks.append(Task(name, [sys.executable, "benchmarks/fast/train_fast.py", "--fold", fold,
                                         "--data", data, "--device", "cuda", "--resume", "-o", str(weights),
                                         *options]))
            needs = ([] if weights.is_file() else [name]) + ([first_score] if first_score else [])
            tasks.append(Task(f"eval-{name}", [sys.executable, "benchmarks/fast/evaluate_fast.py", "--fold", fold,
                                               "--data", data, "--device", "cuda", "--student", str(weights),
                                               "--reuse-teacher"], needs=needs))
            first_score = first_score or f"eval-{name}"
    return tasks


def select(tasks: list[Task], only: str | None) -> list[Task]:
    """The tasks whose names start with one of the comma-separated prefixes ``only`` (all if None);
    a need left out of the selection no longer holds a task back."""
    if only:
        tasks = [t for t in tasks if any(t.name.startswith(p) for p in only.split(","))]
    names = {t.name for t in tasks}
    for t in tasks:
        t.needs = [n for n in t.needs if n in names]
    return tasks


def pack(out: Path, logs: Path) -> None:
    """Results into at most 8 files under ``out`` (each written to a temporary name, then renamed)."""
    groups = {
        "tables.tar.gz": [*LODO.glob("*.csv"), *LODO.glob("weights/*/manifest.json"), *FAST.glob("*.csv"),
                          *logs.glob("*.log")],
        "w_fast.tar": [*FAST.glob("weights/ens2-exc-fast-*_lodo_*.safetensors"),
                       *FAST.glob("weights/*.distill/*.ckpt.safetensors")],
        "w_unet.tar": list(LODO.glob("unet_lodo_*.safetensors")),
        "w_ens2.tar": list(LODO.glob("weights/ens2-*_lodo_*/*.safetensors")),  # family members (and checkpoints)
        "w_peers.tar": [p for r in ("cascade", "mlp", "cnn", "lstm") for p in LODO.glob(f"{r}_lodo_*.safetensors")],
        "w_zoo.tar": list(Path("zoo_weights").glob("ens2-inh-nm*.safetensors")),
    }
    for name, files in groups.items():
        tmp = out / f".{name}.tmp"
        with tarfile.open(tmp, "w:gz" if name.endswith(".gz") else "w") as tar:
            for f in files:
                if f.is_file():
                    tar.add(f)
        os.replace(tmp, out / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", help="where the packed results go (required unless --list)")
    parser.add_argument("--deadline", type=float, help="seconds from now to stop everything (required unless --list)")
    parser.add_argument("--tail", type=float, default=45.0, help="no new task in the last TAIL seconds")
    parser.add_argument("--workers", type=int, default=14)
    parser.add_argument("--logs", default="/tmp/ens2zoo-gridlogs", help="per-task logs (packed with the tables)")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script")
    parser.add_argument("--only", help="comma-separated task-name prefixes to run (e.g. 'unet:DS05')")
    parser.add_argument("--plan", choices=("lodo", "fast"), default="lodo",
                        help="the LODO grids, or the fast model's recipe search")
    parser.add_argument("--list", action="store_true", help="print the planned tasks as JSON and exit")
    args = parser.parse_args()
    start = time.monotonic()
    tasks = plan(args.data) if args.plan == "lodo" else plan_fast(args.data)
    for t in tasks:
        t.argv = [args.device if a == "cuda" else a for a in t.argv]
    tasks = select(tasks, args.only)
    if args.list:
        print(json.dumps([{"name": t.name, "argv": t.argv, "needs": t.needs} for t in tasks]))
        return
    if args.out is None or args.deadline is None:
        parser.error("--out and --deadline are required to run the tasks")
    out, logs = Path(args.out), Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    by_name = {t.name: t for t in tasks}
    log = open(logs / "grid.log", "a", buffering=1)
    log.write(f"{len(tasks)} tasks, {args.workers} workers, deadline {args.deadline:.0f} s\n")
    last_pack = time.monotonic()
    while True:
        now = time.monotonic() - start
        for t in tasks:
            if t.status == "running" and t.proc.poll() is not None:
                t.status = "done" if t.proc.returncode == 0 else "failed"
                log.write(f"{now:6.0f} s  {t.status:6s} {t.name} ({now - t.started:.0f} s)\n")
        running = [t for t in tasks if t.status == "running"]
        if now < args.deadline - args.tail:
            for t in tasks:
                if len(running) >= args.workers:
                    break
                if t.status == "waiting" and all(by_name.get(n) and by_name[n].status == "done" for n in t.needs):
                    t.proc = subprocess.Popen(t.argv, stdout=open(logs / f"{t.name.replace(':', '_')}.log", "w"),
                                              stderr=subprocess.STDOUT)
                    t.status, t.started = "running", now
                    running.append(t)
                    log.write(f"{now:6.0f} s  start  {t.name}\n")
        waiting = [t for t in tasks if t.status == "waiting" and not any(
            by_name.get(n) and by_name[n].status == "failed" for n in t.needs)]
        if not running and (not waiting or now >= args.deadline - args.tail):
            break
        if now >= args.deadline:
            for t in running:
                t.proc.terminate()
            time.sleep(3)
            for t in running:
                if t.proc.poll() is None:
                    t.proc.kill()
                t.status = "stopped"
                log.write(f"{now:6.0f} s  stopped {t.name} at the deadline\n")
            break
        if time.monotonic() - last_pack > 30:
            pack(out, logs)
            last_pack = time.monotonic()
        time.sleep(1)
    counts = {s: sum(t.status == s for t in tasks) for s in ("done", "failed", "stopped", "waiting")}
    log.write(f"end at {time.monotonic() - start:.0f} s: {counts}\n")
    pack(out, logs)
    print(counts)


if __name__ == "__main__":
    main()
