"""Reading one CASCADE-format ``.mat`` file into raw trials (no preprocessing).

A CASCADE ground-truth file holds a variable ``CAttached``: a 1×T cell array,
one 1×1 struct per recording (trial) of one neuron.  The three fields used are
``fluo_mean`` (ΔF/F), ``fluo_time`` (seconds) and ``events_AP`` (spike times in
units of 1e-4 s).  This module only unpacks those fields, drops NaN time stamps
and NaN spike times, and reports trials that cannot be used at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from ens2zoo.errors import InputError

__all__ = ["EPHYS_SAMPLING_RATE", "REQUIRED_FIELDS", "RawTrial", "read_trials"]

log = logging.getLogger("ens2zoo.data")

#: The struct fields every usable trial must have.
REQUIRED_FIELDS: tuple[str, str, str] = ("fluo_mean", "fluo_time", "events_AP")
#: ``events_AP`` counts ticks of a 10 kHz electrophysiology clock; times = ticks / this (Hz), as published.
EPHYS_SAMPLING_RATE: float = 1e4


@dataclass(frozen=True)
class RawTrial:
    """One recording as stored, with NaN time stamps and NaN spike times dropped.

    Attributes:
        index: position of the trial in the file's ``CAttached`` cell array (0-based).
        times: imaging frame time stamps, seconds, shape (N,), float64.
        trace: ΔF/F at those frames, shape (N,), dtype as stored (float64 or float32).
        spike_times: spike times, seconds, unsorted as stored, may lie outside the
            imaging window.
    """

    index: int
    times: np.ndarray
    trace: np.ndarray
    spike_times: np.ndarray


def _load_cells(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass the path of a CASCADE ground-truth .mat file")
    try:
        content = scipy.io.loadmat(str(path), variable_names=["CAttached"])
    except NotImplementedError as exc:  # MATLAB v7.3 (HDF5) files
        raise InputError(f"{path}: MATLAB v7.3 files are not supported ({exc}); "
                         "re-save the file with save(..., '-v7')") from exc
    except (ValueError, OSError, TypeError) as exc:
        raise InputError(f"{path}: not a readable MATLAB v5 file ({exc}); "
                         "pass a CASCADE ground-truth .mat file") from exc
    if "CAttached" not in content:
        raise InputError(f"{path}: no variable 'CAttached'; pass a CASCADE ground-truth "
                         "file (one 1×T cell array of structs named CAttached)")
    # a 1×T cell array (or, tolerated, a bare 1×T struct array): one entry per trial
    return content["CAttached"].reshape(-1)


def _struct_record(cell: object) -> np.void | None:
    """The single struct record of one cell, or None when the cell holds no struct."""
    if isinstance(cell, np.void) and cell.dtype.names:
        return cell
    if isinstance(cell, np.ndarray) and cell.dtype.names and cell.size >= 1:
        return cell.reshape(-1)[0]
    return None


def _read_trial(index: int, cell: object) -> RawTrial | str:
    rec = _struct_record(cell)
    if rec is None:
        return "cell does not hold a struct"
    names = rec.dtype.names or ()
    missing = [name for name in REQUIRED_FIELDS if name not in names]
    if missing:
        return "missing field(s) " + ", ".join(missing)
    times = np.squeeze(np.asarray(rec["fluo_time"]))
    trace = np.squeeze(np.asarray(rec["fluo_mean"]))
    events = np.asarray(rec["events_AP"])
    if times.ndim != 1 or trace.ndim != 1:
        return (f"fluo_time {np.shape(rec['fluo_time'])} / fluo_mean "
                f"{np.shape(rec['fluo_mean'])} are not vectors")
    if times.dtype.kind not in "iuf" or trace.dtype.kind not in "iuf" \
            or events.dtype.kind not in "iuf":
        return "fluo_time, fluo_mean or events_AP is not numeric"
    if trace.shape[0] < times.shape[0]:
        return (f"fluo_mean has {trace.shape[0]} samples but fluo_time has "
                f"{times.shape[0]}")
    # fluo_mean may be longer than fluo_time: keep its first len(fluo_time) samples
    trace = trace[: times.shape[0]]
    keep = ~np.isnan(times)
    trace = trace[keep]
    times = times[keep]
    if times.shape[0] < 2:
        return f"only {times.shape[0]} frame(s) with a valid time stamp"
    events = events[~np.isnan(events)]  # flattens
    spike_times = events / EPHYS_SAMPLING_RATE
    return RawTrial(index=index, times=times.astype(np.float64, copy=False), trace=trace,
                    spike_times=np.asarray(spike_times, dtype=np.float64))


def read_trials(path: str | Path) -> list[tuple[int, RawTrial | str]]:
    """Unpack every trial of a CASCADE ``.mat`` file.

    Args:
        path: the ``.mat`` file (MATLAB v5, variable ``CAttached``).

    Returns:
        One ``(index, trial)`` pair per cell, in file order; ``trial`` is a
        :class:`RawTrial`, or a string saying why the cell cannot be used (a
        missing field, no valid time stamps, ...).

    Raises:
        InputError: the file is absent, unreadable or holds no ``CAttached``.
    """
    path = Path(path)
    cells = _load_cells(path)
    out: list[tuple[int, RawTrial | str]] = []
    for index, cell in enumerate(cells):
        out.append((index, _read_trial(index, cell)))
    return out
