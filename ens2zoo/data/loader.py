"""Loading neurons and datasets, through the on-disk cache."""

from __future__ import annotations

import logging
from pathlib import Path

from ens2zoo.data import cache as neuron_cache
from ens2zoo.data.dataset import Dataset
from ens2zoo.data.discovery import find_datasets
from ens2zoo.data.groups import dataset_pattern, select_neurons
from ens2zoo.data.neuron import Neuron, build_neuron
from ens2zoo.defaults import SAMPLING_RATE
from ens2zoo.errors import InputError
from ens2zoo.utils.checks import check_rate
from ens2zoo.utils.files import sha256_file
from ens2zoo.utils.progress import ProgressArg, progress_callback

__all__ = ["load_dataset", "load_datasets", "load_neuron", "selected_datasets"]

log = logging.getLogger("ens2zoo.data")

CacheArg = bool | str | Path


def _check_rate(sampling_rate: float) -> float:
    return check_rate(sampling_rate, "sampling_rate", flag="sampling_rate=60.0")


def _cache_root(cache: CacheArg) -> Path | None:
    if cache is False or cache is None:
        return None
    if cache is True:
        return neuron_cache.cache_dir()
    return Path(cache)


def load_neuron(path: str | Path, sampling_rate: float = SAMPLING_RATE,
                cache: CacheArg = True) -> Neuron:
    """Load one neuron's ground truth, preprocessed as published.

    Args:
        path: CASCADE ``.mat`` file of one neuron.
        sampling_rate: target rate in Hz (60 Hz for the published models).
        cache: True for the user cache (``$ENS2ZOO_CACHE`` or ``~/.cache/ens2zoo``),
            a folder to use instead, or False to always recompute.

    Returns:
        The :class:`~ens2zoo.data.neuron.Neuron`; ``neuron.skipped`` lists the
        trials left out, with reasons.

    Raises:
        InputError: the file is absent, unreadable or not in the CASCADE format,
            or ``sampling_rate`` is not positive.
    """
    path = Path(path)
    rate = _check_rate(sampling_rate)
    root = _cache_root(cache)
    if root is None:
        return build_neuron(path, rate)
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass the path of a CASCADE ground-truth .mat file")
    sha = sha256_file(path)
    neuron = neuron_cache.read_cached(path, sha, rate, root)
    if neuron is None:
        neuron = build_neuron(path, rate)
        neuron_cache.write_cached(neuron, sha, root)
    return neuron


def load_dataset(folder: str | Path, sampling_rate: float = SAMPLING_RATE,
                 cache: CacheArg = True, progress: ProgressArg = None) -> Dataset:
    """Load every neuron (``*.mat`` file) of one ground-truth dataset folder.

    Args:
        folder: a ``DSnn-<indicator>-<species>-<region>`` folder of ``.mat`` files.
        sampling_rate: target rate, Hz.
        cache: as for :func:`load_neuron`.
        progress: None, True for a tqdm bar, or a callable ``f(done, total, name)``
            called after each file.

    Returns:
        The :class:`~ens2zoo.data.dataset.Dataset`, neurons sorted by file name.
        Files that are unreadable or keep no recording are listed in
        ``dataset.skipped`` and logged, never silently dropped.

    Raises:
        InputError: the folder is absent or holds no ``.mat`` file.
    """
    folder = Path(folder)
    rate = _check_rate(sampling_rate)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; pass a ground-truth dataset folder "
                         "(e.g. ground_truth/DS09-GCaMP6f-m-V1)")
    files = sorted(p for p in folder.glob("*.mat") if p.is_file())
    if not files:
        raise InputError(f"{folder}: holds no .mat file; pass a folder of CASCADE "
                         "ground-truth files")
    report, bar = progress_callback(progress, len(files), folder.name)
    neurons: list[Neuron] = []
    skipped: list[tuple[str, str]] = []
    try:
        for done, path in enumerate(files, start=1):
            try:
                neuron = load_neuron(path, rate, cache)
            except InputError as exc:
                skipped.append((path.name, str(exc)))
                log.warning("%s skipped: %s", path, exc)
            else:
                if neuron.recordings:
                    neurons.append(neuron)
                else:
                    reason = "no usable recording (" + "; ".join(
                        f"trial {i}: {why}" for i, why in neuron.skipped) + ")"
                    skipped.append((path.name, reason))
                    log.warning("%s skipped: %s", path, reason)
            if report is not None:
                report(done, len(files), path.name)
    finally:
        if bar is not None:
            bar.close()
    return Dataset(name=folder.name, path=folder, neurons=neurons, sampling_rate=rate,
                   skipped=skipped)


def load_datasets(root: str | Path, pattern: str = "*", cell_type: str | None = None,
                  sampling_rate: float = SAMPLING_RATE, cache: CacheArg = True,
                  progress: ProgressArg = None) -> list[Dataset]:
    """:func:`load_dataset` for every folder that :func:`find_datasets` selects."""
    return [load_dataset(folder, sampling_rate, cache, progress)
            for folder in find_datasets(root, pattern, cell_type)]


def selected_datasets(root: str | Path, pattern: str) -> list[Dataset]:
    """The datasets under ``root`` with the neurons the selection ``pattern`` keeps
    (:mod:`ens2zoo.data.groups`: dataset globs, ``DS/FILE`` globs, ``!`` exclusions, group names; e.g. a
    mouse fold's ``held_out``)."""
    folders = find_datasets(root, dataset_pattern(pattern))
    if not folders:
        raise InputError(f"no dataset under {root} matches {pattern!r}: check --data and --datasets")
    return select_neurons([load_dataset(f, progress=None) for f in folders], pattern)
