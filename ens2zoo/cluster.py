"""Many recordings, and the leave-one-dataset-out folds, on a Dask cluster (``pip install 'ens2zoo[dask]'``).

:func:`open_client` gives a ``distributed.Client``: ``"local"`` starts a ``LocalCluster`` on this
machine (worker processes with one thread each), an address (``tcp://host:8786``) joins a running
scheduler — for instance one that ``dask_jobqueue.SLURMCluster`` started — and ``None`` gives no
client (everything runs in this process).

:func:`run_inputs` plans every input (array files, suite2p planes, NWB files; globs expanded)
into one unit per output file, skips units whose output exists and is complete (it loads and
holds :data:`RESULT_KEYS`) unless ``overwrite``, and runs the rest as one task each — on the
cluster, or one after another here.  A task reads its input, loads its model once per worker
process (cached by model and device), sets torch's threads to the worker's thread count,
predicts and writes its result atomically.  An input that fails is reported with its error and
the others go on.  A worker that dies mid-task (killed, out of memory) has its task retried on
another worker, up to ``distributed.scheduler.allowed-failures`` times (Dask's setting, default
3), after which the input is reported as failed; a temporary file it left is removed, so no
partial output remains.  Results are identical to one-by-one runs.

:func:`run_folds` runs :func:`ens2zoo.benchmark.lodo.run_fold` calls as tasks, one fold per
worker, with the recipe's ``threads`` or else the worker's thread count: the weights are
bit-identical to a fold trained alone with the same thread count.

Paths are made absolute before they are sent: workers of a remote cluster must see the
same file system (inputs, outputs, weights, ground truth).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ens2zoo.errors import InputError
from ens2zoo.io.inputs import PlannedInput, check_distinct_outputs, expand_inputs, is_pattern, plan_input
from ens2zoo.utils.checks import check_rate
from ens2zoo.workflows.factory import ModelSpec  # re-exported: the model a worker loads

if TYPE_CHECKING:
    from distributed import Client

    from ens2zoo.model import SpikeModel

log = logging.getLogger(__name__)

#: What a complete result file holds (arrays, and the ``model`` metadata field).
RESULT_KEYS = ("rate", "spikes", "event_times", "event_offsets", "times", "dff", "model")
#: ``prepare`` options of :func:`run_inputs` (passed to :func:`ens2zoo.io.inputs.prepare_inputs`).
PREPARE_OPTIONS = ("frame_rate", "key", "transpose", "input_kind", "neuropil_key", "all_rois", "min_cell_prob",
                   "series", "neuropil", "baseline_window_s", "baseline_percentile", "baseline_smoothing_s")
#: ``predict`` options of :func:`run_inputs` (passed to :meth:`ens2zoo.model.SpikeModel.predict`).
PREDICT_OPTIONS = ("stride", "batch_size", "nan", "noise_level", "compile", "indicator", "spike_estimator")


# --- the client -----------------------------------------------------------------------------------

def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise InputError("--scheduler needs Dask's distributed: pip install 'ens2zoo[dask]' "
                         "(or leave out --scheduler to run in this process)") from exc
    return distributed


@contextlib.contextmanager
def open_client(scheduler: str | None, workers: int | None = None) -> Iterator[Client | None]:
    """A Dask client for ``scheduler`` (closed, with any cluster it started, on leaving the block).

    Args:
        scheduler: ``None`` (no client: run in this process), ``"local"`` (start a ``LocalCluster``
            of ``workers`` processes with one thread each; default: one per CPU core) or the
            address of a running scheduler (``tcp://host:8786``).
        workers: the local cluster's number of worker processes (only with ``"local"``).
    """
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: give at least 1 worker process")
    if scheduler is None:
        if workers is not None:
            raise InputError("--workers N sizes a local Dask cluster: add --scheduler local")
        yield None
        return
    distributed = _distributed()
    with _quiet_dask():
        if scheduler == "local":
            with _local_client(distributed, workers) as client:
                yield client
            return
        with _remote_client(distributed, scheduler, workers) as client:
            yield client


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own INFO records (cluster start and stop) only with DEBUG logging on ``ens2zoo``."""
    logger = logging.getLogger("distributed")
    previous = logger.level
    if not logging.getLogger("ens2zoo").isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


#: Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off glibc's adaptive
#: mmap threshold: every large temporary of the windowed inference is then mapped and unmapped
#: afresh, and a prediction spends ~3× its time in the kernel (measured: 243 s instead of 75 s for
#: 100 neurons × 30 min).  The local cluster's workers get glibc's defaults; see the README for others.
WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextlib.contextmanager
def _local_client(distributed: Any, workers: int | None) -> Iterator[Client]:
    import dask

    n = workers or os.cpu_count() or 1
    # the nannies write their workers' environment into this process's (Dask's "poisoning"): undone on leaving
    names = [*dask.config.get("distributed.nanny.pre-spawn-environ"), "PYTHONHASHSEED"]
    saved = {name: os.environ.get(name) for name in names}
    try:
        with dask.config.set(WORKER_ENVIRON):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.WARNING)
        try:
            client = distributed.Client(cluster)
            log.info("started a local Dask cluster: %d worker processes, 1 thread each (dashboard %s)", n,
                     client.dashboard_link)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _remote_client(distributed: Any, scheduler: str, workers: int | None) -> Iterator[Client]:
    if workers is not None:
        raise InputError(f"--workers sizes a local cluster; the cluster at {scheduler} has its own workers: "
                         "leave out --workers (or use --scheduler local)")
    if "://" not in scheduler and ":" not in scheduler:
        raise InputError(f"--scheduler {scheduler!r} is neither 'local' nor a scheduler address: "
                         "give e.g. tcp://host:8786, or local")
    try:
        client = distributed.Client(scheduler, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({first}): check the address "
                         "and that the scheduler is running") from exc
    try:
        yield client
    finally:
        client.close()


# --- models, cached per worker process --------------------------------------------------------------

#: models loaded in this process, by :meth:`ModelSpec.key` (one per worker process and model)
_MODELS: dict[tuple, Any] = {}


def cached_model(spec: ModelSpec) -> SpikeModel:
    """``spec``'s model, loaded once per process."""
    key = spec.key()
    if key not in _MODELS:
        _MODELS[key] = spec.load()
    return _MODELS[key]


def _worker_threads() -> int | None:
    """The thread count of the Dask worker running this code (None outside a worker)."""
    if "distributed" not in sys.modules:  # never imported: not a worker
        return None
    from distributed import get_worker

    try:
        return int(get_worker().state.nthreads)
    except ValueError:
        return None


_checked_malloc: list[bool] = []


def _check_malloc() -> None:
    """Warn once per worker process started with Dask's ``MALLOC_TRIM_THRESHOLD_`` (see :data:`WORKER_ENVIRON`)."""
    if not _checked_malloc:
        _checked_malloc.append(True)
        if os.environ.get("MALLOC_TRIM_THRESHOLD_"):
            log.warning("this Dask worker runs with MALLOC_TRIM_THRESHOLD_=%s, which makes spike inference ~3x "
                        "slower: start the workers with distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_ "
                        "set to null in the Dask configuration (see the README)", os.environ["MALLOC_TRIM_THRESHOLD_"])


def use_worker_threads(threads: int | None = None) -> int | None:
    """Set torch's (and Numba's) CPU threads to ``threads`` or, in a Dask worker, to its thread count."""
    worker_threads = _worker_threads()
    if worker_threads:
        _check_malloc()
    threads = threads or worker_threads
    if threads:
        import numba
        import torch

        torch.set_num_threads(threads)
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return threads


# --- one input ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One unit of :func:`run_inputs`, as sent to a worker.

    Attributes:
        source: what to read (absolute).
        label: its name in messages and the ``input`` recorded in the result (as the user named it).
        output: the result file (absolute).
        model: the model to use.
        prepare: options of :func:`ens2zoo.io.inputs.prepare_inputs`.
        predict: options of :meth:`ens2zoo.model.SpikeModel.predict`.
    """

    source: Path
    label: str
    output: Path
    model: ModelSpec
    prepare: dict[str, Any] = field(default_factory=dict)
    predict: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What became of one input: ``status`` is ``"done"``, ``"skipped"`` or ``"failed"``."""

    label: str
    status: str
    output: Path | None = None
    error: str = ""
    seconds: float = 0.0
    neurons: int = 0
    spikes: int = 0
    warnings: tuple[str, ...] = ()
    worker: str = ""


@dataclass
class BatchReport:
    """The outcomes of :func:`run_inputs`, in input order."""

    outcomes: list[Outcome]

    def of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def done(self) -> list[Outcome]:
        return self.of("done")

    @property
    def skipped(self) -> list[Outcome]:
        return self.of("skipped")

    @property
    def failed(self) -> list[Outcome]:
        return self.of("failed")

    def summary(self) -> str:
        return (f"{len(self.outcomes)} inputs: {len(self.done)} done, {len(self.skipped)} skipped, "
                f"{len(self.failed)} failed")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, InputError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _task_error(exc: BaseException) -> str:
    """A task's failure on the cluster, in one line (a dead worker named as such)."""
    if type(exc).__name__ == "KilledWorker":
        return ("KilledWorker: the worker process running it died on each try (killed, or out of memory; "
                "Dask retries distributed.scheduler.allowed-failures times): see the workers' logs")
    return _one_line(exc)


def output_complete(path: str | os.PathLike) -> bool:
    """Whether a result file exists, loads and holds :data:`RESULT_KEYS` (``.npz``, ``.mat``, ``.h5``)."""
    path = Path(path)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            import numpy as np

            with np.load(path, allow_pickle=False) as z:
                if not set(RESULT_KEYS) <= set(z.files):
                    return False
                if z["event_offsets"].ndim != 1 or not str(z["model"]):  # reading proves the members decompress
                    return False
            return True
        if suffix == ".mat":
            import scipy.io

            return set(RESULT_KEYS) <= {name for name, _, _ in scipy.io.whosmat(path)}
        if suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as fh:
                return set(RESULT_KEYS) <= set(fh.keys()) | set(fh.attrs.keys())
    except Exception:  # truncated, foreign or unreadable: not complete
        return False
    return False


def remove_partial(output: str | os.PathLike) -> list[Path]:
    """Remove temporary files that an interrupted write of ``output`` left (see ``atomic_path``)."""
    output = Path(output)
    pattern = f".{glob.escape(output.name)}.*.part{glob.escape(output.suffix)}"
    removed = []
    for part in output.parent.glob(pattern):
        with contextlib.suppress(OSError):
            part.unlink()
            removed.append(part)
    return removed


def predict_one(job: Job) -> tuple[int, int]:
    """Read ``job``'s input, predict with its (cached) model and write the result atomically
    (:func:`ens2zoo.workflows.predict.predict_input`).

    Returns ``(neurons, spikes)``.  Raises on failure (nothing is written then).
    """
    from ens2zoo.io.inputs import prepare_inputs
    from ens2zoo.workflows.predict import predict_input

    items = prepare_inputs(job.source, **job.prepare)
    if len(items) != 1:
        raise InputError(f"{job.label} holds {len(items)} planes: give each plane folder as its own input")
    item = items[0]
    item.metadata["input"] = job.label  # as the user named it, whatever path the worker read
    remove_partial(job.output)  # a retried task: what the dead worker left
    done = predict_input(item, cached_model(job.model), job.output, predict={**job.predict, "progress": False})
    return done.result.n_neurons, done.spikes


def predict_task(job: Job) -> Outcome:
    """The task of one input (run on a worker, or here): never raises for the input's own errors."""
    start = time.perf_counter()
    use_worker_threads()
    worker = ""
    if "distributed" in sys.modules:
        from distributed import get_worker

        with contextlib.suppress(ValueError):
            worker = str(get_worker().address)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            neurons, spikes = predict_one(job)
        except Exception as exc:
            log.debug("%s failed", job.label, exc_info=True)
            return Outcome(job.label, "failed", job.output, error=_one_line(exc),
                           seconds=time.perf_counter() - start, worker=worker)
    messages = tuple(dict.fromkeys(" ".join(str(w.message).split()) for w in caught
                                   if issubclass(w.category, UserWarning)))
    return Outcome(job.label, "done", job.output, seconds=time.perf_counter() - start, neurons=neurons,
                   spikes=spikes, warnings=messages, worker=worker)


def plan_jobs(inputs: Sequence[str | os.PathLike], *, model: ModelSpec, output_dir: str | os.PathLike | None = None,
              fmt: str | None = None, prepare: Mapping[str, Any] | None = None,
              predict: Mapping[str, Any] | None = None, absolute: bool = True) -> list[Job | Outcome]:
    """In input order: a :class:`Job` per output of ``inputs`` (paths or globs), and a failed
    :class:`Outcome` for each input that cannot be planned (missing, matching nothing, no suite2p planes…).

    ``absolute``: give the jobs absolute paths (for workers elsewhere); else the paths as named, so
    that everything the result records (``frame_rate_source``…) is as in a one-by-one run.
    Raises :class:`InputError` when two inputs would write the same output.
    """
    prepare = dict(prepare or {})
    predict = dict(predict or {})
    unknown = sorted(set(prepare) - set(PREPARE_OPTIONS)) + sorted(set(predict) - set(PREDICT_OPTIONS))
    if unknown:
        raise InputError(f"unknown options {unknown}: prepare takes {', '.join(PREPARE_OPTIONS)}; "
                         f"predict takes {', '.join(PREDICT_OPTIONS)}")
    if prepare.get("frame_rate") is not None:
        prepare["frame_rate"] = check_rate(prepare["frame_rate"])
    planned: list[PlannedInput | Outcome] = []
    for text, paths in expand_inputs(inputs):
        if not paths:
            why = (f"{text} matches no file: check the pattern" if is_pattern(text)
                   else f"{text} does not exist: check the path")
            planned.append(Outcome(text, "failed", error=why))
        for path in paths:
            try:
                planned += plan_input(path, output_dir=output_dir, fmt=fmt, series=prepare.get("series"))
            except Exception as exc:
                planned.append(Outcome(str(path), "failed", error=_one_line(exc)))
    check_distinct_outputs([u for u in planned if isinstance(u, PlannedInput)])
    where = (lambda path: Path(os.path.abspath(path))) if absolute else Path
    return [Job(source=where(u.source), label=u.label, output=where(u.output), model=model, prepare=prepare,
                predict=predict) if isinstance(u, PlannedInput) else u for u in planned]


def run_inputs(inputs: Sequence[str | os.PathLike], *, model: ModelSpec, output_dir: str | os.PathLike | None = None,
               fmt: str | None = None, prepare: Mapping[str, Any] | None = None,
               predict: Mapping[str, Any] | None = None, overwrite: bool = False, client: Client | None = None,
               progress: bool | None = None, report: Callable[[Outcome], object] | None = None,
               task: Callable[[Job], Outcome] = predict_task) -> BatchReport:
    """Predict every input and write its result; one task per output, on ``client``'s cluster or here.

    Args:
        inputs: array files, suite2p plane folders or roots, NWB files, or globs of them.
        model: what to predict with (:meth:`ModelSpec.of`).
        output_dir: write the results here (see :mod:`ens2zoo.io.inputs` for the names); default beside
            each input.
        fmt: ``"npz"`` (default), ``"mat"`` or ``"h5"``.
        prepare: reading options (:data:`PREPARE_OPTIONS`), e.g. ``{"frame_rate": 30.0}`` for array files.
        predict: inference options (:data:`PREDICT_OPTIONS`), e.g. ``{"stride": 16}``.
        overwrite: redo inputs whose output exists and is complete (default: skip them).
        client: a ``distributed.Client`` (:func:`open_client`); None runs the inputs one after another here.
        progress: a progress bar over the inputs on stderr (None: when stderr is a terminal).
        report: called with each input's :class:`Outcome` as it comes in.
        task: the function a job runs (default :func:`predict_task`).

    Returns:
        A :class:`BatchReport`; inputs that failed do not stop the others.
    """
    from tqdm.auto import tqdm

    planned = plan_jobs(inputs, model=model, output_dir=output_dir, fmt=fmt, prepare=prepare, predict=predict,
                        absolute=client is not None)
    outcomes: dict[int, Outcome] = {}
    todo: dict[int, Job] = {}
    for i, item in enumerate(planned):
        if isinstance(item, Outcome):
            outcomes[i] = item
        elif not overwrite and output_complete(item.output):
            outcomes[i] = Outcome(item.label, "skipped", item.output)
        else:
            todo[i] = item
    for outcome in outcomes.values():
        if report:
            report(outcome)
    if todo:  # a model that cannot be loaded fails here, once, before any work
        if client is None:
            cached_model(model)
        else:
            model.load()
    show = progress if progress is not None else sys.stderr.isatty()
    with tqdm(total=len(todo), disable=not show, unit="input", desc="inputs", file=sys.stderr) as bar:
        for i, outcome in _run(todo, client, task):
            outcomes[i] = outcome
            bar.update(1)
            if report:
                report(outcome)
    return BatchReport([outcomes[i] for i in sorted(outcomes)])


def _run(jobs: Mapping[int, Job], client: Client | None, task: Callable[[Job], Outcome]
         ) -> Iterator[tuple[int, Outcome]]:
    """(index, outcome) of each job, as they finish."""
    if client is None:
        for i, job in jobs.items():
            yield i, task(job)
        return
    distributed = _distributed()
    run = uuid.uuid4().hex[:8]
    futures = {client.submit(task, job, key=f"ens2zoo-predict-{run}-{i}", pure=False): i for i, job in jobs.items()}
    for future in distributed.as_completed(futures):
        i = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # the worker died (KilledWorker) or the task could not run there
            remove_partial(jobs[i].output)
            outcome = Outcome(jobs[i].label, "failed", jobs[i].output, error=_task_error(exc))
        future.release()
        yield i, outcome


# --- LODO folds -----------------------------------------------------------------------------------

def fold_task(fold: Mapping[str, Any]) -> list[dict]:
    """One LODO fold (:func:`ens2zoo.benchmark.lodo.run_fold`) with the recipe's threads, else the worker's."""
    from ens2zoo.benchmark.lodo import run_fold

    logging.getLogger("ens2zoo").setLevel(fold.get("_log_level", logging.INFO))
    use_worker_threads(fold["recipe"].threads)
    return run_fold(**{k: v for k, v in fold.items() if k != "_log_level"})


def run_folds(client: Client, folds: Sequence[Mapping[str, Any]], *, progress: bool | None = None
              ) -> list[list[dict]]:
    """Run LODO folds (keyword dicts of :func:`~ens2zoo.benchmark.lodo.run_fold`) as tasks on ``client``.

    Use as ``run_benchmark(..., fold_map=lambda folds: run_folds(client, folds))``.  Each fold's rows
    come back in order; the workers' ``ens2zoo`` log records are forwarded to this process.  A fold
    that fails (after Dask's retries for dead workers) is reported once all have finished: the
    others' weights and tables are written, and a rerun resumes.
    """
    from tqdm.auto import tqdm

    distributed = _distributed()
    level = logging.getLogger("ens2zoo").getEffectiveLevel()
    with contextlib.suppress(Exception):  # forwarding is a convenience
        client.forward_logging("ens2zoo", level=level)
    run = uuid.uuid4().hex[:8]
    sent = []
    for fold in folds:
        fold = dict(fold, out=Path(fold["out"]).resolve(), folder=Path(fold["folder"]).resolve(),
                    training=[Path(t).resolve() for t in fold["training"]], _log_level=level,
                    **({"weights": Path(fold["weights"]).resolve()} if fold.get("weights") else {}))
        sent.append(fold)
    futures = [client.submit(fold_task, fold, key=f"ens2zoo-fold-{run}-{fold['recipe'].name}-{fold['prefix']}",
                             pure=False) for fold in sent]
    results: dict[int, list[dict]] = {}
    errors = []
    index = {f.key: i for i, f in enumerate(futures)}
    show = progress if progress is not None else sys.stderr.isatty()
    with tqdm(total=len(futures), disable=not show, unit="fold", desc="folds", file=sys.stderr) as bar:
        for future in distributed.as_completed(futures):
            i = index[future.key]
            try:
                results[i] = future.result()
                log.info("fold %s of %s done", sent[i]["prefix"], sent[i]["recipe"].name)
            except Exception as exc:
                errors.append(f"{sent[i]['recipe'].name} {sent[i]['prefix']}: {_task_error(exc)}")
            bar.update(1)
    if errors:
        raise InputError(f"{len(errors)} of {len(futures)} folds failed ({'; '.join(errors)}); the others' "
                         "results are written and a rerun resumes")
    return [results[i] for i in range(len(futures))]


__all__ = ["PREDICT_OPTIONS", "PREPARE_OPTIONS", "RESULT_KEYS", "BatchReport", "Job", "ModelSpec", "Outcome",
           "cached_model", "fold_task", "open_client", "output_complete", "plan_jobs", "predict_one",
           "predict_task", "remove_partial", "run_folds", "run_inputs", "use_worker_threads"]
