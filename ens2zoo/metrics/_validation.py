"""Input checks shared by the spike-train and rate metrics.

Every failure raises :class:`ens2zoo.errors.InputError` with a message that
names the problem and the fix.
"""

from __future__ import annotations

import math

import numpy as np

from ens2zoo.errors import InputError


def spike_train(times, name: str) -> np.ndarray:
    """Return ``times`` as a sorted, contiguous 1-D float64 array of seconds.

    Unsorted input is sorted (a copy; the caller's array is left alone).
    NaN or infinite times are refused.
    """
    try:
        arr = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: spike times must be numbers in seconds ({exc}); "
                         "pass a 1-D array of floats") from None
    if arr.ndim == 0:
        raise InputError(f"{name}: got a scalar; pass a 1-D array of spike times in seconds "
                         "(use [t] for a single spike)")
    if arr.ndim != 1:
        raise InputError(f"{name}: spike times must be 1-D, got shape {arr.shape}; "
                         "flatten it or pass one train at a time")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "infinite"
        raise InputError(f"{name}: contains {bad} spike times; drop them before computing "
                         "the metric (e.g. times[np.isfinite(times)])")
    if arr.size > 1 and np.any(arr[1:] < arr[:-1]):
        arr = np.sort(arr)
    return np.ascontiguousarray(arr)


def rate_trace(values, name: str) -> np.ndarray:
    """Return a rate trace as a 1-D float64 array; NaN/inf refused."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: rates must be numbers ({exc}); "
                         "pass a 1-D array of spikes per frame") from None
    if arr.ndim != 1:
        arr = np.squeeze(arr)
        if arr.ndim != 1:
            raise InputError(f"{name}: rates must be 1-D, got shape {np.shape(values)}; "
                             "pass one neuron's trace at a time")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name}: contains NaN or infinite values; fill or drop them "
                         "before computing the metric")
    return np.ascontiguousarray(arr)


def same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise InputError(f"{name_a} has {a.size} samples but {name_b} has {b.size}; "
                         "pass traces of the same length at the same sampling rate")


def non_negative(value, name: str, *, allow_inf: bool = True,
                 allow_zero: bool = True) -> float:
    """Check a scalar parameter (cost, window, tau, ...) and return it as float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v):
        raise InputError(f"{name} is NaN; pass a non-negative number")
    if v < 0:
        raise InputError(f"{name} must be non-negative, got {v}; pass its absolute value")
    if v == 0 and not allow_zero:
        raise InputError(f"{name} must be positive, got 0")
    if math.isinf(v) and not allow_inf:
        raise InputError(f"{name} must be finite, got {v}")
    return v
