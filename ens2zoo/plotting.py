"""Figures of a prediction: ΔF/F, inferred rate and spikes, ν per neuron (true spikes when known).

:func:`plot_result` draws a fresh :class:`SpikeResult`; :func:`plot_saved` redraws a
result file written by ``ens2zoo predict`` (``.npz``).  The format follows the
extension (``.png``, ``.pdf``, ``.svg``); files are written atomically.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError
from ens2zoo.inference.clock import frame_times
from ens2zoo.inference.result import SpikeResult
from ens2zoo.utils.atomic import atomic_path

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def _split(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _draw(path: str | os.PathLike, *, dff: np.ndarray | None, frame_rate: float, start_time: float,
          times: np.ndarray,
          rate: np.ndarray, sampling_rate: float, events: Sequence[np.ndarray] | None,
          true_events: Sequence[np.ndarray] | None, noise_level: np.ndarray | None, roi_index: Any,
          neurons: Sequence[int], start: float, duration: float | None, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise InputError(f"-o {path}: the figure must end in {', '.join(FIGURE_SUFFIXES)}")
    n_frames = dff.shape[1] if dff is not None else 0
    t_in = frame_times(n_frames, frame_rate, start_time)
    end = start + duration if duration is not None else max(float(times[-1]) if times.size else 0.0,
                                                             float(t_in[-1]) if t_in.size else 0.0)
    n = len(neurons)
    fig, axes = plt.subplots(n, 1, figsize=(11, 2.2 * n), sharex=True, squeeze=False)
    for row, (i, ax) in enumerate(zip(neurons, axes[:, 0])):
        label = f"neuron {i}" + (f" (ROI {int(roi_index[i])})" if roi_index is not None else "")
        nu = f", ν = {noise_level[i]:.2f}" if noise_level is not None and np.isfinite(noise_level[i]) else ""
        ax.set_title(label + nu, fontsize=9, loc="left")
        if dff is not None:
            keep = (t_in >= start) & (t_in <= end)
            ax.plot(t_in[keep], dff[i, keep], color="0.35", lw=0.8, label="ΔF/F")
        ax.set_ylabel("ΔF/F")
        ax2 = ax.twinx()
        keep60 = (times >= start) & (times <= end)
        ax2.plot(times[keep60], rate[i, keep60] * sampling_rate, color="tab:blue", lw=0.9, label="rate (Hz)")
        ax2.set_ylabel("rate (Hz)", color="tab:blue")
        low, top = ax.get_ylim()
        span = top - low
        if events:
            ev = np.asarray(events[i])
            ev = ev[(ev >= start) & (ev <= end)]
            ax.vlines(ev, top - 0.08 * span, top, color="tab:red", lw=0.8, label="inferred spikes")
        if true_events is not None:
            tv = np.asarray(true_events[i])
            tv = tv[(tv >= start) & (tv <= end)]
            ax.vlines(tv, top - 0.18 * span, top - 0.1 * span, color="black", lw=0.8, label="true spikes")
        if row == 0:
            ax.legend(loc="upper left", fontsize=8, ncol=3)
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 0].set_xlim(start, end)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    return path


def choose_rows(total: int, *, neurons: Sequence[int] | None = None, rois: Sequence[int] | None = None,
                roi_index: Any = None, max_neurons: int = 6) -> list[int]:
    """The rows to draw: ``neurons`` (row numbers), or the rows holding suite2p/NWB ROIs ``rois``
    (by the result's ``roi_index``), else the first ``max_neurons``."""
    if neurons is not None and rois is not None:
        raise InputError("give either --neurons (rows) or --rois (ROI numbers), not both")
    if rois is not None:
        if roi_index is None:
            raise InputError("--rois picks suite2p/NWB ROI numbers but this result has no roi_index: "
                             "use --neurons with row numbers")
        index = [int(r) for r in np.asarray(roi_index).ravel()]
        missing = [int(r) for r in rois if int(r) not in index]
        if missing or not rois:
            shown = ", ".join(map(str, index[:30])) + (" …" if len(index) > 30 else "")
            raise InputError(f"--rois: ROIs {missing or 'none'} are not in this result; it holds ROIs {shown}")
        return [index.index(int(r)) for r in rois]
    if neurons is None:
        return list(range(min(total, max_neurons)))
    chosen = [int(i) for i in neurons]
    bad = [i for i in chosen if not 0 <= i < total]
    if bad or not chosen:
        raise InputError(f"--neurons {','.join(map(str, chosen))}: the result has neurons 0–{total - 1}; "
                         "pick rows in that range, e.g. --neurons 0,1 (or suite2p ROI numbers with --rois)")
    return chosen


def plot_result(path: str | os.PathLike, traces: np.ndarray, result: SpikeResult, *,
                true_spikes: Sequence[np.ndarray] | None = None, max_neurons: int = 6,
                max_seconds: float | None = 60.0, roi_index: Any = None,
                neurons: Sequence[int] | None = None, start: float = 0.0) -> Path:
    """Write a figure with one panel per neuron (at most ``max_neurons``, ``max_seconds`` from ``start``)."""
    traces = np.atleast_2d(traces)
    return _draw(path, dff=traces, frame_rate=result.frame_rate, start_time=result.start_time, times=result.times,
                 rate=result.rate,
                 sampling_rate=result.sampling_rate, events=result.events, true_events=true_spikes,
                 noise_level=result.noise_level, roi_index=roi_index,
                 neurons=choose_rows(result.n_neurons, neurons=neurons, max_neurons=max_neurons), start=start,
                 duration=max_seconds,
                 title=f"{result.model}: {result.n_neurons} neurons, {result.frame_rate:g} Hz input")


#: arrays a predict result file must hold
REQUIRED = ("rate", "times", "sampling_rate", "frame_rate", "event_times", "event_offsets")


def plot_saved(result_path: str | os.PathLike, path: str | os.PathLike, *, neurons: Sequence[int] | None = None,
               rois: Sequence[int] | None = None, start: float = 0.0, duration: float | None = None,
               max_neurons: int = 6) -> tuple[Path, list[int], list[int] | None]:
    """Redraw a result file written by ``ens2zoo predict`` (``.npz``) as a figure at ``path``.

    ``neurons`` picks rows, ``rois`` the rows holding those suite2p/NWB ROI numbers (``roi_index``).
    Returns (the figure, the rows drawn, their ROI numbers or None where the result has none).
    """
    result_path = Path(result_path)
    if not result_path.is_file():
        raise InputError(f"{result_path} does not exist: give a result file written by `ens2zoo predict` (.npz)")
    if result_path.suffix.lower() != ".npz":
        raise InputError(f"{result_path} is not a .npz result: redraw results saved as .npz by `ens2zoo predict`")
    try:
        with np.load(result_path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read {result_path} as .npz ({exc}): give a result written by "
                         "`ens2zoo predict`") from exc
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise InputError(f"{result_path} is not an ens2zoo result (no {', '.join(missing)}): give a file written by "
                         "`ens2zoo predict`")
    if start < 0 or (duration is not None and duration <= 0):
        raise InputError(f"--start {start:g} must be ≥ 0 and --duration positive (seconds)")
    rate = np.atleast_2d(data["rate"])
    events = _split(data["event_times"], data["event_offsets"])
    true_events = (_split(data["true_event_times"], data["true_event_offsets"])
                   if "true_event_times" in data and "true_event_offsets" in data else None)
    model = str(data["model"]) if "model" in data else "?"
    frame_rate = float(data["frame_rate"])
    # results without a time_convention (ens2zoo < 0.2) put the first input frame at 1/frame_rate
    start_time = float(data.get("start_time", 0.0)) if "time_convention" in data else 1.0 / frame_rate
    roi_index = data.get("roi_index")
    rows = choose_rows(rate.shape[0], neurons=neurons, rois=rois, roi_index=roi_index, max_neurons=max_neurons)
    figure = _draw(path, dff=data.get("dff"), frame_rate=frame_rate, start_time=start_time, times=data["times"],
                   rate=rate, sampling_rate=float(data["sampling_rate"]), events=events, true_events=true_events,
                   noise_level=data.get("noise_level"), roi_index=roi_index, neurons=rows, start=start,
                   duration=duration,
                   title=f"{result_path.name} — {model}: {rate.shape[0]} neurons, {frame_rate:g} Hz input")
    return figure, rows, None if roi_index is None else [int(roi_index[i]) for i in rows]
