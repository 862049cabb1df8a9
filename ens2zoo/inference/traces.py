"""Checking ΔF/F traces and bringing them to the models' sampling rate."""

from __future__ import annotations

import numpy as np
import scipy.signal

from ens2zoo.defaults import MIN_DURATION_S, SAMPLING_RATE
from ens2zoo.errors import InputError
from ens2zoo.utils.checks import check_rate

NAN_POLICIES = ("raise", "interpolate")


def interpolate_nans(traces: np.ndarray) -> tuple[np.ndarray, int]:
    """Fill non-finite samples by linear interpolation along time (edges: nearest value).

    Returns the filled copy and the number of samples filled.  A neuron with no
    finite sample at all cannot be filled and raises :class:`InputError`.
    """
    filled = traces.copy()
    bad = ~np.isfinite(filled)
    for i in np.flatnonzero(bad.any(axis=1)):
        good = ~bad[i]
        if not good.any():
            raise InputError(f"neuron {i} has no finite sample: remove it before inference")
        x = np.arange(filled.shape[1])
        filled[i, ~good] = np.interp(x[~good], x[good], filled[i, good])
    return filled, int(bad.sum())


def check_traces(traces: object, frame_rate: float, *, nan: str = "raise") -> tuple[np.ndarray, int]:
    """Validate ΔF/F traces; return them as a float64 (neurons × frames) array and the NaN count filled.

    Args:
        traces: one trace (frames,) or several (neurons × frames).
        frame_rate: Hz.
        nan: ``"raise"`` refuses NaN/inf; ``"interpolate"`` fills them linearly.
    """
    frame_rate = check_rate(frame_rate)
    if nan not in NAN_POLICIES:
        raise InputError(f"nan={nan!r} is not one of {NAN_POLICIES}")
    try:
        array = np.asarray(traces, dtype=np.float64)
    except ValueError as exc:
        raise InputError("traces are ragged (neurons of different lengths): pad or cut them to one length, "
                         "or predict each neuron separately") from exc
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise InputError(f"traces must be 1-D (frames) or 2-D (neurons × frames), got shape {array.shape}: "
                         "reshape or select one plane")
    if array.size == 0:
        raise InputError(f"traces are empty (shape {array.shape}): give at least one neuron and "
                         f"{MIN_DURATION_S:g} s of frames")
    duration = array.shape[1] / frame_rate
    if duration < MIN_DURATION_S:
        raise InputError(f"traces last {duration:.3g} s ({array.shape[1]} frames at {frame_rate:g} Hz), shorter than "
                         f"{MIN_DURATION_S:g} s: give longer recordings (or check --transpose: neurons must be rows)")
    n_filled = 0
    if not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        if nan == "raise":
            rows = np.flatnonzero((~np.isfinite(array)).any(axis=1))
            raise InputError(f"{n_bad} NaN/inf samples in neurons {rows[:10].tolist()}: clean them, or use "
                             "nan='interpolate' (--nan interpolate) to fill the gaps linearly")
        array, n_filled = interpolate_nans(array)
    return array, n_filled


def resampled_length(n_frames: int, frame_rate: float, sampling_rate: float = SAMPLING_RATE) -> int:
    """Number of samples at ``sampling_rate`` for ``n_frames`` at ``frame_rate`` (as published: round)."""
    return round(n_frames * sampling_rate / frame_rate)


def resample(traces: np.ndarray, frame_rate: float, sampling_rate: float = SAMPLING_RATE) -> np.ndarray:
    """Fourier-resample (neurons × frames) traces from ``frame_rate`` to ``sampling_rate`` Hz.

    This is the published ENS² resampler (``scipy.signal.resample``), applied to
    all neurons in one call.
    """
    num = resampled_length(traces.shape[-1], frame_rate, sampling_rate)
    return scipy.signal.resample(traces, num, axis=-1)
