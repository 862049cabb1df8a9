"""Silence in, silence out: the zoo models' guard against flat input.

A window that is constant (all zeros, a constant trace, frames masked to zero or held
at their last value) has no variance, and instance normalisation of such a window
amplifies its zero-padded edges into spikes (the published weights invent 66 Hz on an
all-zero trace).  Real ΔF/F is never exactly flat for long: its noise makes successive
frames differ.  So the zoo's models (``Preprocessing.flat_guard``) set the rate to 0
wherever the *input* (at its own frame rate, before resampling) holds the same value for
at least ``FLAT_MIN_S`` seconds.  Models built from user weights with ``create`` keep
their exact function (no guard) unless asked for it.
"""

from __future__ import annotations

import numpy as np

#: Shortest run of identical frames (seconds) treated as a flat stretch.
FLAT_MIN_S = 0.5
#: Frames closer than this (relative to 1 + |value|) count as identical.
FLAT_RTOL = 1e-7


def flat_frames(trace: np.ndarray, frame_rate: float, min_duration_s: float = FLAT_MIN_S) -> np.ndarray:
    """Boolean mask of the frames of ``trace`` inside flat runs lasting ≥ ``min_duration_s`` seconds."""
    x = np.asarray(trace, dtype=np.float64)
    n = x.shape[0]
    same = np.abs(np.diff(x)) <= FLAT_RTOL * (1.0 + np.abs(x[1:]))
    mask = np.zeros(n, dtype=bool)
    if n < 2:
        return mask
    # runs of consecutive "same" steps; a run of k steps spans k + 1 frames
    edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    min_frames = max(2, int(np.ceil(min_duration_s * frame_rate)))
    for s, e in zip(starts, ends):  # steps s … e−1 → frames s … e
        if e - s + 1 >= min_frames:
            mask[s:e + 1] = True
    return mask


def silence_flat(rate: np.ndarray, traces: np.ndarray, frame_rate: float, sampling_rate: float) -> int:
    """Zero ``rate`` (neurons × samples at ``sampling_rate``) inside the flat stretches of ``traces``.

    Sample k (time (k+1)/sampling_rate) belongs to the input frame nearest in time, as in
    :meth:`~ens2zoo.inference.result.SpikeResult.to_frame_rate`.  Returns the number of
    samples zeroed.
    """
    n_frames = traces.shape[1]
    frame_of = np.clip(np.rint((np.arange(rate.shape[1]) + 1) / sampling_rate * frame_rate).astype(np.int64) - 1,
                       0, n_frames - 1)
    zeroed = 0
    for i in range(rate.shape[0]):
        mask = flat_frames(traces[i], frame_rate)
        if mask.any():
            hit = mask[frame_of]
            rate[i, hit] = 0.0
            zeroed += int(hit.sum())
    return zeroed
