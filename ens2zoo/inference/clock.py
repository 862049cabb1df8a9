"""The one time convention of every output, and input frames from model samples.

An input of ``n`` frames at ``frame_rate`` Hz without time stamps starts at ``t0 = 0``
(suite2p's and NWB's convention; an NWB series starts at its ``starting_time`` or first
time stamp): frame ``f`` is at ``t0 + f/frame_rate`` seconds.  Fourier resampling passes
through the input samples, so model sample ``j`` (at ``sampling_rate`` Hz) is at
``t0 + j/sampling_rate``: frame ``f`` and sample ``f·sampling_rate/frame_rate`` are the same
instant.  ``times``, ``event_times``, the frame sums of :func:`frame_sums`, the figures and
the NWB output all use it; results record it as :data:`TIME_CONVENTION`.

(ens2zoo < 0.2 labelled sample ``j`` ``(j + 1)/60`` s, the published code's origin.)
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ens2zoo.errors import InputError

#: recorded in every result (``time_convention``) so that results of other conventions can be told apart
TIME_CONVENTION = "frame f at start_time + f/frame_rate s; model sample j at start_time + j/sampling_rate s"

#: largest denominator of the frame-rate ratio (rates given to 6 decimals split exactly)
_MAX_DENOMINATOR = 10**6


def sample_times(n_samples: int, sampling_rate: float, start_time: float = 0.0) -> np.ndarray:
    """(n_samples,) float64 seconds of model samples: sample j at ``start_time + j/sampling_rate``."""
    return start_time + np.arange(int(n_samples)) / float(sampling_rate)


def frame_times(n_frames: int, frame_rate: float, start_time: float = 0.0) -> np.ndarray:
    """(n_frames,) float64 seconds of input frames: frame f at ``start_time + f/frame_rate``."""
    return sample_times(n_frames, frame_rate, start_time)


def sample_frames(n_samples: int, frame_rate: float, sampling_rate: float) -> np.ndarray:
    """The input frame of each model sample: ``floor(j·frame_rate/sampling_rate)``, int64 (n_samples,).

    Frame f gets the samples j with ``j·frame_rate/sampling_rate`` in ``[f, f + 1)``: those at or
    after its own instant and before the next frame's.  The ratio of the two rates is taken as the
    fraction of their decimal values (at most 10⁶ in the denominator) and the floor is computed
    in integers, so an integer ratio splits exactly (60 Hz → 30 Hz: 2, 2, 2 …; → 7.5 Hz: 8 each)
    and any other ratio gives every frame ⌊r⌋ or ⌈r⌉ samples (r = sampling_rate/frame_rate;
    9.7 Hz: 6 or 7).  A frame rate above ``sampling_rate`` leaves some frames without a sample.
    """
    if not (frame_rate > 0 and sampling_rate > 0):
        raise InputError(f"frame rate {frame_rate!r} and sampling rate {sampling_rate!r} must be positive (Hz)")
    ratio = (Fraction(repr(float(frame_rate))) / Fraction(repr(float(sampling_rate)))).limit_denominator(
        _MAX_DENOMINATOR)
    j = np.arange(int(n_samples), dtype=np.int64)
    return (j * ratio.numerator) // ratio.denominator


def frame_sums(values: np.ndarray, n_frames: int, frame_rate: float, sampling_rate: float) -> np.ndarray:
    """Per-sample ``values`` (rows × samples at ``sampling_rate``) summed per input frame (:func:`sample_frames`).

    Returns (rows, n_frames), float64 for floating input and int64 for integers; every
    sample lands in exactly one frame, so row totals are preserved.  Raises
    :class:`InputError` if a sample falls beyond the last frame (``values`` longer than
    ``n_frames`` frames at ``frame_rate``).
    """
    values = np.atleast_2d(np.asarray(values))
    n_samples = values.shape[1]
    frames = sample_frames(n_samples, frame_rate, sampling_rate)
    if n_samples and frames[-1] >= n_frames:
        raise InputError(f"{n_samples} samples at {sampling_rate:g} Hz reach past {n_frames} frames at "
                         f"{frame_rate:g} Hz: give the result's own n_input_frames and frame_rate")
    dtype = np.int64 if np.issubdtype(values.dtype, np.integer) else np.float64
    out = np.zeros((values.shape[0], int(n_frames)), dtype=dtype)
    if n_samples:
        first = np.searchsorted(frames, np.arange(n_frames), side="left")
        filled = first < np.searchsorted(frames, np.arange(n_frames), side="right")
        out[:, filled] = np.add.reduceat(values.astype(dtype, copy=False), first[filled], axis=1)
    return out
