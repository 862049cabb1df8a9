"""Discrete spikes from a spike rate: the ENS² greedy estimator, compiled with Numba.

The published estimator (Zhou et al.) zeroes rates below ``0.02/σ``, splits the
rate into runs of non-zero samples (a run is forced to end after 500 samples),
and within each run greedily adds the single spike whose Gaussian-smoothed
(σ frames, zero boundary) train most lowers the squared error to the rate.

This module computes *the same spikes*, bit for bit, far faster:

* Each candidate changes the smoothed train in at most ``2r+1`` samples
  (``r`` = kernel radius), so its loss change is found in ``O(r)`` instead of
  re-filtering an ``L×L`` matrix.
* The published code ranks candidates by float32 losses summed with NumPy's
  pairwise summation, and stops on a float32 difference of ``1e-8``.  Near-ties
  are therefore decided by rounding.  Only the few candidates whose exact
  (float64) loss lies within a rigorous rounding margin of the best are
  re-evaluated with a faithful emulation of NumPy's float32 pairwise sum, so
  ties and the stopping rule resolve exactly as published.
* The published run-splitting state machine, quirks included (a run starting
  at sample 0 or still open at the end is left without spikes; the 500-sample
  cap also cuts long gaps), is reproduced step by step.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np

from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S
from ens2zoo.inference.clock import sample_times

#: Longest run of non-zero rate estimated at once (samples), as published.
MAX_RUN = 500
#: Relative margin (of the loss scale) within which float32 rounding can reorder candidates.
_TIE_MARGIN = 1e-5


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's ``gaussian_filter`` kernel (float64, sums to 1) for ``sigma`` samples."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / sigma**2 * x**2)
    return phi / phi.sum()


@numba.njit(cache=True)
def _block_sum_f32(a, start, n):  # pragma: no cover - compiled
    """NumPy's float32 sum of a block of at most 128 elements (8 accumulators)."""
    if n < 8:
        res = np.float32(0.0)
        for i in range(n):
            res = np.float32(res + a[start + i])
        return res
    r = np.empty(8, dtype=np.float32)
    for j in range(8):
        r[j] = a[start + j]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        for j in range(8):
            r[j] = np.float32(r[j] + a[start + i + j])
        i += 8
    res = np.float32(np.float32(np.float32(r[0] + r[1]) + np.float32(r[2] + r[3]))
                     + np.float32(np.float32(r[4] + r[5]) + np.float32(r[6] + r[7])))
    while i < n:
        res = np.float32(res + a[start + i])
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_sum_f32(a, start, n):  # pragma: no cover - compiled
    """NumPy's float32 pairwise summation of ``a[start:start+n]``, bit for bit.

    NumPy halves the range (rounded down to a multiple of 8) until blocks have at
    most 128 elements.  The recursion is unrolled with explicit stacks: Numba
    cannot reload cached self-recursive functions safely.
    """
    if n <= 128:
        return _block_sum_f32(a, start, n)
    nodes = np.empty((64, 3), dtype=np.int64)  # (start, n, children done?)
    values = np.empty(64, dtype=np.float32)
    top, vtop = 0, 0
    nodes[0, 0], nodes[0, 1], nodes[0, 2] = start, n, 0
    while top >= 0:
        s0, m, done = nodes[top, 0], nodes[top, 1], nodes[top, 2]
        top -= 1
        if m <= 128:
            values[vtop] = _block_sum_f32(a, s0, m)
            vtop += 1
        elif done:
            values[vtop - 2] = np.float32(values[vtop - 2] + values[vtop - 1])
            vtop -= 1
        else:
            m2 = m // 2
            m2 -= m2 % 8
            top += 1
            nodes[top, 0], nodes[top, 1], nodes[top, 2] = s0, m, 1
            top += 1
            nodes[top, 0], nodes[top, 1], nodes[top, 2] = s0 + m2, m - m2, 0
            top += 1
            nodes[top, 0], nodes[top, 1], nodes[top, 2] = s0, m2, 0
    return values[0]


@numba.njit(cache=True)
def _float32_loss(piece, smooth64, kernel, pos, scratch):  # pragma: no cover - compiled
    """float32 Σ(piece − float32(smooth + spike at pos))², as NumPy computes it (pos < 0: none)."""
    n = piece.shape[0]
    radius = (kernel.shape[0] - 1) // 2
    for i in range(n):
        s = smooth64[i]
        if pos >= 0 and abs(i - pos) <= radius:
            s += kernel[i - pos + radius]
        d = np.float32(piece[i] - np.float32(s))
        scratch[i] = np.float32(d * d)
    return _pairwise_sum_f32(scratch, 0, n)


@numba.njit(cache=True)
def _best_spike(piece, smooth, residual, delta, kernel, scratch, scale):  # pragma: no cover - compiled
    """Where one more spike lowers the squared error most, and that float32 loss, ranked as published."""
    n = piece.shape[0]
    radius = (kernel.shape[0] - 1) // 2
    exact_loss = 0.0
    for i in range(n):
        residual[i] = piece[i] - smooth[i]
        exact_loss += residual[i] * residual[i]
    # exact change of the loss for a spike added at k: Σ g² − 2 Σ residual·g
    best_delta = math.inf
    for k in range(n):
        acc = 0.0
        for i in range(max(0, k - radius), min(n, k + radius + 1)):
            g = kernel[i - k + radius]
            acc += g * (g - 2.0 * residual[i])
        delta[k] = acc
        if acc < best_delta:
            best_delta = acc
    margin = _TIE_MARGIN * (exact_loss + scale + 1.0)
    best_k = -1
    best_loss = np.float32(0.0)
    for k in range(n):
        if delta[k] <= best_delta + margin:
            cand = _float32_loss(piece, smooth, kernel, k, scratch)
            if best_k < 0 or cand < best_loss:
                best_k = k
                best_loss = cand
    return best_k, best_loss


@numba.njit(cache=True)
def _add_spike(out, smooth, kernel, k):  # pragma: no cover - compiled
    radius = (kernel.shape[0] - 1) // 2
    out[k] += 1.0
    for i in range(max(0, k - radius), min(smooth.shape[0], k + radius + 1)):
        smooth[i] += kernel[i - k + radius]


@numba.njit(cache=True)
def _estimate_run(piece, kernel, out, target):  # pragma: no cover - compiled
    """Greedy spikes for one run of non-zero rate; writes counts into ``out``.

    ``target`` < 0: the published rule (a first spike at the run's maximum when the run sums to ≥ 0.5,
    then spikes while the loss falls); ``target`` ≥ 0: exactly ``target`` spikes, each where it lowers
    the loss most (or raises it least).
    """
    n = piece.shape[0]
    smooth = np.zeros(n)               # float64 smoothed spike train
    residual = np.empty(n)             # piece − smooth, float64
    delta = np.empty(n)
    scratch = np.empty(n, dtype=np.float32)
    for i in range(n):
        out[i] = 0.0
    scale = 0.0
    for i in range(n):
        scale += float(piece[i]) ** 2
    if target >= 0:
        for _ in range(target):
            best_k, _loss = _best_spike(piece, smooth, residual, delta, kernel, scratch, scale)
            _add_spike(out, smooth, kernel, best_k)
        return
    if _pairwise_sum_f32(piece, 0, n) >= 0.5:
        best = 0
        for i in range(1, n):
            if piece[i] > piece[best]:
                best = i
        _add_spike(out, smooth, kernel, best)
    loss = _float32_loss(piece, smooth, kernel, -1, scratch)
    while True:
        best_k, best_loss = _best_spike(piece, smooth, residual, delta, kernel, scratch, scale)
        if np.float32(best_loss - loss) <= -1e-8:
            _add_spike(out, smooth, kernel, best_k)
            loss = best_loss
        else:
            return


@numba.njit(cache=True)
def _estimate_trace(rate, threshold, kernel, out):  # pragma: no cover - compiled
    """The published run-splitting state machine over one float32 rate trace."""
    n = rate.shape[0]
    clipped = np.empty(n, dtype=np.float32)
    for i in range(n):
        clipped[i] = rate[i] if rate[i] >= threshold else np.float32(0.0)
        out[i] = 0.0
    edges = np.empty(max(n - 1, 0), dtype=np.int8)
    for i in range(n - 1):
        edges[i] = np.int8(clipped[i + 1] > 0) - np.int8(clipped[i] > 0)
    onset = 0
    for idx in range(n - 1):
        if edges[idx] == 1:
            onset = idx + 1
        elif edges[idx] == -1:
            if onset > 0:
                _estimate_run(clipped[onset:idx + 1], kernel, out[onset:idx + 1], -1)
        elif idx - onset >= MAX_RUN - 1:
            if idx + 1 < n - 1:
                edges[idx + 1] = -1
            if idx + 2 < n - 1:
                edges[idx + 2] = 1


@numba.njit(cache=True)
def _count_trace(rate, threshold, kernel, out, carry_gaps):  # pragma: no cover - compiled
    """Count-preserving spikes over one float32 rate trace (runs as published, edges included)."""
    n = rate.shape[0]
    carry = 0.0
    i = 0
    for j in range(n):
        out[j] = 0.0
    while i < n:
        if rate[i] < threshold:
            if carry_gaps and rate[i] > 0:
                carry += float(rate[i])
            i += 1
            continue
        j = i
        mass = 0.0
        while j < n and rate[j] >= threshold and j - i < MAX_RUN:
            mass += float(rate[j])
            j += 1
        k = math.floor(carry + mass + 0.5)
        carry += mass - k
        _estimate_run(rate[i:j], kernel, out[i:j], k)
        i = j


@numba.njit(cache=True)
def _apportioned_trace(rate, threshold, kernel, out):  # pragma: no cover - compiled
    """Count-preserving spikes: round(Σ rate) spikes, each run floor(its mass), the rest to the largest remainders."""
    n = rate.shape[0]
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    masses = np.empty(n)
    runs = 0
    total = 0.0
    i = 0
    for j in range(n):
        out[j] = 0.0
        if rate[j] > 0:
            total += float(rate[j])
    while i < n:
        if rate[i] < threshold:
            i += 1
            continue
        j = i
        mass = 0.0
        while j < n and rate[j] >= threshold and j - i < MAX_RUN:
            mass += float(rate[j])
            j += 1
        starts[runs], ends[runs], masses[runs] = i, j, mass
        runs += 1
        i = j
    if runs == 0:
        return
    target = np.floor(masses[:runs])
    extra = int(math.floor(total + 0.5) - target.sum())
    order = np.argsort(-(masses[:runs] - target), kind="mergesort")
    k = 0
    while extra > 0:
        target[order[k % runs]] += 1
        extra -= 1
        k += 1
    for r in range(runs):
        _estimate_run(rate[starts[r]:ends[r]], kernel, out[starts[r]:ends[r]], int(target[r]))


@numba.njit(cache=True, parallel=True)
def _estimate_many(rates, threshold, kernel, out, mode):  # pragma: no cover - compiled
    for j in numba.prange(rates.shape[0]):
        if mode == 0:
            _estimate_trace(rates[j], threshold, kernel, out[j])
        elif mode == 3:
            _apportioned_trace(rates[j], threshold, kernel, out[j])
        else:
            _count_trace(rates[j], threshold, kernel, out[j], mode == 2)


def estimate_spikes(rate: np.ndarray, sampling_rate: float = SAMPLING_RATE,
                    sigma_s: float = SMOOTHING_SIGMA_S, mode: int = 0) -> np.ndarray:
    """Discrete spike counts per frame from a spike rate, exactly as ENS² publishes them.

    Args:
        rate: spikes per frame at ``sampling_rate``; shape (T,) or (n_neurons, T).
            Converted to float32 as the published code does.
        sampling_rate: frames per second of ``rate`` (Hz).
        sigma_s: width (seconds) of the Gaussian the network was trained to output.

    Returns:
        int32 spike counts per frame, same shape as ``rate``.  Neurons run in parallel.
    """
    rate = np.asarray(rate)
    single = rate.ndim == 1
    rates = np.ascontiguousarray(np.atleast_2d(rate), dtype=np.float32)
    if rates.ndim != 2:
        raise ValueError(f"rate must be 1-D or 2-D (neurons × frames), got shape {rate.shape}")
    sigma = sigma_s * sampling_rate
    out = np.zeros(rates.shape, dtype=np.float32)
    # NumPy ≥ 2 compares the float32 rate with the threshold in float32, as published.
    threshold = np.float32(0.02 / sigma)
    torch = sys.modules.get("torch")  # Numba's OpenMP layer resets the OpenMP threads torch also uses
    threads = torch.get_num_threads() if torch is not None else None
    try:
        _estimate_many(rates, threshold, gaussian_kernel(sigma), out, mode)
    finally:
        if torch is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    counts = out.astype(np.int32)
    return counts[0] if single else counts


def spike_times(counts: np.ndarray, sampling_rate: float = SAMPLING_RATE, start_time: float = 0.0) -> np.ndarray:
    """Spike times (seconds) from counts per sample: sample j at ``start_time + j/sampling_rate``
    (:mod:`ens2zoo.inference.clock`), repeated per spike."""
    counts = np.asarray(counts)
    return np.repeat(sample_times(counts.shape[-1], sampling_rate, start_time), counts.astype(np.int64))
