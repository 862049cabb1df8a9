"""Training on ground truth and the leave-one-dataset-out (LODO) benchmark.

:func:`train_and_save` is the training step of ``ens2zoo train`` (and of the
benchmark): load the datasets, train an architecture with the published
protocol, save the weights with a record of the training.

:func:`run_benchmark` is ``ens2zoo benchmark``: for each held-out dataset
(``DS09`` → folder ``DS09-*``), train on every other training dataset, save
``<arch>_lodo_<DSxx>.safetensors``, evaluate on the held-out dataset
(:func:`ens2zoo.evaluation.evaluate_model`), write ``<arch>_lodo_<DSxx>.csv``
and finally ``summary.csv``: our per-dataset medians next to the published ones
(``ens2_reference/published_lodo_metrics.csv`` under ``$ENS2ZOO_SHARED``,
default ``../shared``).  Existing weights are not retrained (an interrupted
benchmark resumes; an interrupted training resumes from its checkpoint), and an
existing per-neuron CSV newer than its weights is not re-evaluated.
"""

from __future__ import annotations

import csv
import os
import platform
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError
from ens2zoo.evaluation import nan_median

__all__ = ["EXCITATORY_TRAINING", "SUMMARY_COLUMNS", "TrainingSettings", "dataset_number", "log_every",
           "published_medians", "published_metrics_path", "run_benchmark", "train_and_save"]

#: Datasets ENS² trains its excitatory model on (DS01 is never used for training).
EXCITATORY_TRAINING = "DS0[2-9]*,DS1*,DS2[01]*"
#: Columns of ``summary.csv``.
SUMMARY_COLUMNS = ("dataset", "neurons", "corr", "er50", "vpd",
                   "published_neurons", "published_corr", "published_er50", "published_vpd")
_SUMMARY_METRICS = ("corr", "er50", "vpd")


@dataclass
class TrainingSettings:
    """How to train (the options of ``ens2zoo train``; defaults are the published ones)."""

    arch: str = "unet"
    loss: str = "mse"
    lr: float = 1e-3
    batch_size: int = 1024
    max_iter: int = 5000
    patience: int = 500
    seed: int = 0
    hours: float | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = None
    log_every: int = 100
    progress: bool | None = None
    loss_window: int = 1


def log_every(n: int) -> Callable:
    """A training callback printing the loss every ``n`` iterations."""
    start = time.perf_counter()

    def log(iteration: int, loss: float, state) -> None:
        if iteration % n == 0:
            print(f"iter {iteration:5d}  loss {loss:.5g}  best {state.best_loss:.5g} @ {state.best_iteration}  "
                  f"{time.perf_counter() - start:7.1f} s", flush=True)

    return log


def train_and_save(folders: Sequence[Path], output: str | os.PathLike, settings: TrainingSettings, *,
                   checkpoint: str | os.PathLike | None = None, resume: bool = False,
                   keep_checkpoint: bool = False):
    """Train ``settings.arch`` on the dataset ``folders`` and save the weights to ``output``.

    Prints progress and a one-line report.  The weights file records the training
    (datasets, hours, settings, iterations, time, machine, versions) in its metadata.

    Args:
        folders: dataset folders (see :func:`ens2zoo.data.find_datasets`).
        output: ``.safetensors`` file to write (atomically).
        settings: architecture and training options.
        checkpoint: checkpoint file (default ``OUTPUT.ckpt.safetensors``).
        resume: continue from the checkpoint if it exists.
        keep_checkpoint: keep the checkpoint once the weights are written.

    Returns:
        ``(model, sha256)``: the trained :class:`~ens2zoo.SpikeModel` (best state) and
        the weights file's hash.
    """
    import torch

    import ens2zoo
    from ens2zoo.data import TrainingWindows, load_dataset

    if not folders:
        raise InputError("no training dataset selected: check --data and the dataset globs")
    if settings.threads:
        torch.set_num_threads(settings.threads)
    datasets = [load_dataset(f, progress=None) for f in folders]
    windows = TrainingWindows(datasets)
    if settings.hours:
        windows = windows.subset_hours(settings.hours, seed=settings.seed)
    model = ens2zoo.create(settings.arch, device=settings.device, **settings.hparams)
    ckpt = Path(checkpoint or f"{output}.ckpt.safetensors")
    print(f"training {settings.arch} on {len(folders)} datasets ({windows}); loss {settings.loss}", flush=True)
    model.fit(windows, loss=settings.loss, lr=settings.lr, batch_size=settings.batch_size,
              max_iter=settings.max_iter, patience=settings.patience, seed=settings.seed,
              progress=settings.progress, checkpoint=ckpt, resume=resume,
              callbacks=[log_every(settings.log_every)] if settings.log_every else (),
              loss_window=settings.loss_window)
    report = model.training_report
    training = {
        "datasets": [Path(f).name for f in folders], "hours": round(windows.hours, 3), "windows": len(windows),
        "loss": settings.loss, "lr": settings.lr, "batch_size": settings.batch_size,
        "max_iter": settings.max_iter, "patience": settings.patience, "seed": settings.seed,
        "loss_window": settings.loss_window,
        "iterations": report.iterations, "best_iteration": report.best_iteration,
        "best_loss": report.best_loss, "stopped_early": report.stopped_early,
        "seconds": round(report.seconds, 1), "seconds_per_iteration": round(report.seconds_per_iteration, 4),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
                   f"{settings.device}",
        "torch": torch.__version__, "ens2zoo": ens2zoo.__version__,
    }
    sha = model.save(output, {"training": training})
    if not keep_checkpoint:
        ckpt.unlink(missing_ok=True)
    print(f"{report.iterations} iterations ({'early stop' if report.stopped_early else 'max_iter'}), best loss "
          f"{report.best_loss:.5g} at {report.best_iteration}, {report.seconds:.0f} s "
          f"({report.seconds_per_iteration * 1000:.0f} ms/iteration)")
    print(f"wrote {output} (sha256 {sha})", flush=True)
    return model, sha


_DS_RE = re.compile(r"^(?:DS)?0*(\d+)$", re.IGNORECASE)


def dataset_number(label: str) -> int:
    """``"DS09"``, ``"ds9"``, ``"9"`` or a folder name ``"DS09-GCaMP6f-m-V1"`` → 9."""
    head = label.strip().split("-", 1)[0]
    match = _DS_RE.match(head)
    if not match:
        raise InputError(f"{label!r} does not name a dataset: use its DS prefix, e.g. DS09")
    return int(match.group(1))


def published_metrics_path() -> Path | None:
    """``$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv`` (default ``../shared``), if it exists."""
    roots = [Path(os.environ["ENS2ZOO_SHARED"])] if os.environ.get("ENS2ZOO_SHARED") else \
        [Path("../shared"), Path(__file__).resolve().parents[1].parent / "shared"]
    for root in roots:
        path = root / "ens2_reference" / "published_lodo_metrics.csv"
        if path.is_file():
            return path
    return None


def read_published_metrics(path: Path | None) -> list[dict]:
    """Rows of the published per-neuron LODO table as floats (none if ``path`` is None)."""
    if path is None:
        return []
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                out.append({k: float(v) for k, v in row.items() if v not in ("", None)})
            except ValueError as exc:
                raise InputError(f"{path}: not a published metrics table ({exc})") from exc
    return out


def published_medians(number: int, rows: Sequence[dict]) -> dict:
    """Published medians (corr, er50, vpd) and neuron count of dataset ``number``."""
    mine = [r for r in rows if int(r.get("dset", -1)) == number]
    if not mine:
        return {"published_neurons": None, **{f"published_{m}": None for m in _SUMMARY_METRICS}}
    return {"published_neurons": len(mine),
            **{f"published_{m}": nan_median(r.get(m) for r in mine) for m in _SUMMARY_METRICS}}


def _fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return format(value, spec)


def summary_table(rows: Sequence[dict]) -> str:
    """The benchmark summary as an aligned text table."""
    header = (f"{'dataset':<10} {'n':>3} {'corr %':>7} {'pub':>7} {'er50 %':>7} {'pub':>7} "
              f"{'vpd':>6} {'pub':>6} {'pub n':>5}")
    lines = [header]
    for r in rows:
        lines.append(f"{r['dataset']!s:<10} {_fmt(r['neurons'], 'd'):>3} {_fmt(r['corr'], '.1f'):>7} "
                     f"{_fmt(r['published_corr'], '.1f'):>7} {_fmt(r['er50'], '.1f'):>7} "
                     f"{_fmt(r['published_er50'], '.1f'):>7} {_fmt(r['vpd'], '.2f'):>6} "
                     f"{_fmt(r['published_vpd'], '.2f'):>6} {_fmt(r['published_neurons'], 'd'):>5}")
    return "\n".join(lines)


def run_benchmark(data: str | os.PathLike, held_out: Sequence[str], output: str | os.PathLike,
                  settings: TrainingSettings, *, training_datasets: str = EXCITATORY_TRAINING,
                  stride: int = 1, published: str | os.PathLike | None = None) -> list[dict]:
    """Leave-one-dataset-out benchmark; returns the summary rows (also written to ``summary.csv``).

    Args:
        data: folder of ``DSnn-*`` dataset folders.
        held_out: dataset prefixes (``"DS09"``); each is held out in turn.
        output: results folder.
        settings: training options (architecture, iterations, …).
        training_datasets: comma-separated globs of the training pool; the held-out
            dataset is removed from it.
        stride: inference stride for the evaluation (1 = exact).
        published: published per-neuron metrics CSV (default: :func:`published_metrics_path`).
    """
    import torch

    import ens2zoo
    from ens2zoo.data import find_datasets, load_dataset
    from ens2zoo.evaluation import evaluate_model, read_csv, write_csv

    if not held_out:
        raise InputError("--lodo names no dataset: give e.g. --lodo DS09,DS10")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    pub_path = Path(published) if published else published_metrics_path()
    if published and not pub_path.is_file():
        raise InputError(f"{pub_path}: no such published metrics file")
    pub_rows = read_published_metrics(pub_path)
    if pub_path is None:
        print("published metrics not found (set ENS2ZOO_SHARED): published columns left empty")

    pool = find_datasets(data, training_datasets)
    plan = []
    for label in held_out:
        number = dataset_number(label)
        prefix = f"DS{number:02d}"
        matches = find_datasets(data, f"{prefix}-*")
        if len(matches) != 1:
            found = ", ".join(m.name for m in matches) or "none"
            raise InputError(f"held-out {label}: expected one folder {prefix}-* under {data}, found {found}")
        training = [f for f in pool if f.name != matches[0].name]
        if not training:
            raise InputError(f"held-out {prefix}: no training dataset left under {data} matching "
                             f"{training_datasets!r}")
        plan.append((prefix, number, matches[0], training))

    summary = []
    all_rows = []
    for prefix, number, folder, training in plan:
        weights = out / f"{settings.arch}_lodo_{prefix}.safetensors"
        table = out / f"{settings.arch}_lodo_{prefix}.csv"
        print(f"== {prefix}: held out {folder.name}; training on {len(training)} datasets", flush=True)
        if weights.is_file():
            print(f"{weights} exists: not retraining")
        else:
            train_and_save(training, weights, settings, resume=True)
        if table.is_file() and table.stat().st_mtime >= weights.stat().st_mtime:
            print(f"{table} is up to date: not re-evaluating")
            rows = read_csv(table)
        else:
            model = ens2zoo.create(settings.arch, weights=weights, device=settings.device, **settings.hparams)
            dataset = load_dataset(folder, progress=None)
            start = time.perf_counter()
            rows = evaluate_model(model, [dataset], stride=stride)
            write_csv(table, rows)
            print(f"evaluated {len(rows)} neurons of {folder.name} in {time.perf_counter() - start:.0f} s; "
                  f"wrote {table}", flush=True)
        all_rows.extend(rows)
        summary.append({"dataset": prefix, "neurons": len(rows),
                        **{m: nan_median(r.get(m) for r in rows) for m in _SUMMARY_METRICS},
                        **published_medians(number, pub_rows)})
    if len(summary) > 1:
        numbers = {n for _, n, _, _ in plan}
        pooled = [r for r in pub_rows if int(r.get("dset", -1)) in numbers]
        summary.append({"dataset": "all", "neurons": len(all_rows),
                        **{m: nan_median(r.get(m) for r in all_rows) for m in _SUMMARY_METRICS},
                        "published_neurons": len(pooled) if pooled else None,
                        **{f"published_{m}": (nan_median(r.get(m) for r in pooled) if pooled else None)
                           for m in _SUMMARY_METRICS}})
    write_csv(out / "summary.csv", summary, SUMMARY_COLUMNS)
    print(summary_table(summary))
    print(f"wrote {out / 'summary.csv'}")
    return summary
