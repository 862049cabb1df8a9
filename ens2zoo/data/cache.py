"""On-disk cache of preprocessed neurons (``.npz``, no pickle).

One file per (source file content, preprocessing parameters):
``<cache dir>/ground_truth/<sha256 of the .mat>_<parameter hash>.npz``.  The
parameter hash covers the target rate, the window, the smoothing σ and
:data:`FORMAT_VERSION`, so changing any of them never reads stale arrays.  Files
are written to a temporary name and moved into place with ``os.replace``, so a
reader never sees half a file; a file that cannot be read is ignored (and
rebuilt).  The whole folder is safe to delete at any time.

The cache folder is ``$ENS2ZOO_CACHE`` if set, else ``$XDG_CACHE_HOME/ens2zoo``,
else ``~/.cache/ens2zoo``.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording
from ens2zoo.defaults import SMOOTHING_SIGMA_S, WINDOW
from ens2zoo.utils.atomic import atomic_path
from ens2zoo.utils.files import cache_dir

__all__ = ["FORMAT_VERSION", "cache_dir", "cache_path", "read_cached",
           "write_cached"]

log = logging.getLogger("ens2zoo.data")

#: Bump whenever the preprocessing or the file layout changes.
FORMAT_VERSION = 1
_SUBDIR = "ground_truth"
_warned_unwritable: set[str] = set()


def _params_hash(sampling_rate: float) -> str:
    text = (f"format={FORMAT_VERSION}|sampling_rate={float(sampling_rate)!r}|window={WINDOW}"
            f"|sigma_s={SMOOTHING_SIGMA_S!r}")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(sha256: str, sampling_rate: float, root: Path | None = None) -> Path:
    """Where the neuron preprocessed from a file with content hash ``sha256`` lives."""
    root = cache_dir() if root is None else Path(root)
    return root / _SUBDIR / f"{sha256}_{_params_hash(sampling_rate)}.npz"


def _to_arrays(neuron: Neuron, sha256: str) -> dict[str, np.ndarray]:
    recs = neuron.recordings
    lengths = [len(r) for r in recs]
    n_events = [r.event_times.shape[0] for r in recs]

    def cat(name: str, dtype: str) -> np.ndarray:
        parts = [getattr(r, name) for r in recs]
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

    return {
        "format_version": np.int64(FORMAT_VERSION),
        "source_sha256": np.str_(sha256),
        "sampling_rate": np.float64(neuron.sampling_rate),
        "noise_level": np.float64(neuron.noise_level),
        "firing_rate": np.float64(neuron.firing_rate),
        "frame_rate": np.float64(neuron.frame_rate),
        "trace": cat("trace", "float32"),
        "spikes": cat("spikes", "int32"),
        "rate": cat("rate", "float32"),
        "offsets": np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64),
        "event_times": cat("event_times", "float64"),
        "event_offsets": np.concatenate([[0], np.cumsum(n_events, dtype=np.int64)]).astype(
            np.int64),
        "rec_index": np.array([r.index for r in recs], dtype=np.int64),
        "rec_frame_rate": np.array([r.frame_rate for r in recs], dtype=np.float64),
        "rec_noise_level": np.array([r.noise_level for r in recs], dtype=np.float64),
        "rec_firing_rate": np.array([r.firing_rate for r in recs], dtype=np.float64),
        "skipped_index": np.array([i for i, _ in neuron.skipped], dtype=np.int64),
        "skipped_reason": np.array([s for _, s in neuron.skipped], dtype=np.str_).reshape(-1),
    }


def _from_arrays(z: dict[str, np.ndarray], path: Path) -> Neuron:
    sr = float(z["sampling_rate"])
    off = z["offsets"]
    eoff = z["event_offsets"]
    recs = []
    for j in range(off.shape[0] - 1):
        a, b = int(off[j]), int(off[j + 1])
        recs.append(Recording(
            trace=z["trace"][a:b], spikes=z["spikes"][a:b], rate=z["rate"][a:b],
            event_times=z["event_times"][int(eoff[j]):int(eoff[j + 1])],
            frame_rate=float(z["rec_frame_rate"][j]), noise_level=float(z["rec_noise_level"][j]),
            firing_rate=float(z["rec_firing_rate"][j]), index=int(z["rec_index"][j]),
            sampling_rate=sr))
    skipped = [(int(i), str(s)) for i, s in zip(z["skipped_index"], z["skipped_reason"])]
    return Neuron(path=path, dataset=path.parent.name, recordings=recs,
                  noise_level=float(z["noise_level"]), firing_rate=float(z["firing_rate"]),
                  frame_rate=float(z["frame_rate"]), sampling_rate=sr, skipped=skipped)


def read_cached(source: Path, sha256: str, sampling_rate: float,
                root: Path | None = None) -> Neuron | None:
    """The cached neuron for ``source`` (content hash ``sha256``), or None.

    None when there is no cache file or it cannot be used (corrupt, truncated,
    another format version or parameters); such a file is simply rebuilt.
    """
    target = cache_path(sha256, sampling_rate, root)
    if not target.is_file():
        return None
    try:
        with np.load(target, allow_pickle=False) as npz:
            z = {k: npz[k] for k in npz.files}
        if (int(z["format_version"]) != FORMAT_VERSION or str(z["source_sha256"]) != sha256
                or float(z["sampling_rate"]) != float(sampling_rate)):
            log.info("cache file %s does not match; rebuilding", target)
            return None
        return _from_arrays(z, Path(source))
    except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable cache file %s (%s); rebuilding", target, exc)
        return None


def write_cached(neuron: Neuron, sha256: str, root: Path | None = None) -> Path | None:
    """Store ``neuron`` atomically; returns the file, or None if the cache is unwritable."""
    target = cache_path(sha256, neuron.sampling_rate, root)
    arrays = _to_arrays(neuron, sha256)
    try:
        with atomic_path(target) as tmp:
            np.savez(tmp, **arrays)
        return target
    except OSError as exc:
        folder = str(target.parent)
        if folder not in _warned_unwritable:
            _warned_unwritable.add(folder)
            warnings.warn(f"cannot write the ground-truth cache in {folder} ({exc}); "
                          "continuing without it (set ENS2ZOO_CACHE to a writable folder)",
                          RuntimeWarning, stacklevel=3)
        return None
