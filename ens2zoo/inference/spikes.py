"""Discrete spikes from a spike rate: the ENS² greedy estimator and a count-preserving one, compiled with Numba.

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

The greedy rule stops as soon as one more spike would raise the squared error:
a low, wide bump of rate (a noisy trace's, or a slow frame rate's) is left
without the spike it sums to, because a spike's σ-wide Gaussian overshoots it.
On held-out jGCaMP8 mice (M1) the published spikes number 73–96 % of Σ rate
(``benchmarks/gcamp8/spike_estimators.py``).  The **count** estimator
(``estimator="count"``) keeps the published runs (rate ≥ ``0.02/σ``, at most 500
samples; at the trace's edges too) and places **round(Σ rate)** spikes, the rate
below the threshold included: each run gets ⌊its mass⌋ spikes, and the rest go to
the runs with the largest fractional masses (largest-remainder apportionment, ties
to the earlier run; a second round when there are more spikes than runs).  Within
a run its spikes are placed greedily, each where it lowers the squared error to
the rate most (the error counted over the run and the kernel's reach beyond it,
inside the trace).  Σ spikes then equals Σ rate to within half a spike per neuron.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np

from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S, SPIKE_ESTIMATORS
from ens2zoo.errors import InputError
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
def _spike_deltas(piece, smooth, residual, delta, kernel):  # pragma: no cover - compiled
    """Exact (float64) change of the squared error for one more spike at each sample, into ``delta``;
    returns (the smallest change, the current squared error)."""
    n = piece.shape[0]
    radius = (kernel.shape[0] - 1) // 2
    exact_loss = 0.0
    for i in range(n):
        residual[i] = piece[i] - smooth[i]
        exact_loss += residual[i] * residual[i]
    # a spike at k changes the loss by Σ g² − 2 Σ residual·g
    best_delta = math.inf
    for k in range(n):
        acc = 0.0
        for i in range(max(0, k - radius), min(n, k + radius + 1)):
            g = kernel[i - k + radius]
            acc += g * (g - 2.0 * residual[i])
        delta[k] = acc
        if acc < best_delta:
            best_delta = acc
    return best_delta, exact_loss


@numba.njit(cache=True)
def _add_spike(out, smooth, kernel, k):  # pragma: no cover - compiled
    radius = (kernel.shape[0] - 1) // 2
    out[k] += 1.0
    for i in range(max(0, k - radius), min(smooth.shape[0], k + radius + 1)):
        smooth[i] += kernel[i - k + radius]


@numba.njit(cache=True)
def _place_spikes(rate, start, stop, kernel, out, target):  # pragma: no cover - compiled
    """Exactly ``target`` spikes in the run ``rate[start:stop]``, each where it lowers the squared error most
    (or raises it least; ties to the earliest sample).  The error also counts the kernel's spill beyond the
    run, up to its radius and within the trace, against zero rate, so an overshooting spike is not pushed
    to the run's edge.  Writes counts into ``out[start:stop]``."""
    radius = (kernel.shape[0] - 1) // 2
    lo, hi = max(0, start - radius), min(rate.shape[0], stop + radius)
    padded = np.zeros(hi - lo)
    for i in range(start, stop):
        padded[i - lo] = rate[i]
    smooth = np.zeros(hi - lo)
    residual = np.empty(hi - lo)
    delta = np.empty(hi - lo)
    counts = np.zeros(hi - lo)
    for _ in range(target):
        _spike_deltas(padded, smooth, residual, delta, kernel)
        _add_spike(counts, smooth, kernel, start - lo + np.argmin(delta[start - lo:stop - lo]))
    out[start:stop] = counts[start - lo:stop - lo]


@numba.njit(cache=True)
def _estimate_run(piece, kernel, out):  # pragma: no cover - compiled
    """The published greedy spikes for one run of non-zero rate: a first spike at the run's maximum when
    the run sums to ≥ 0.5, then spikes while the float32 loss falls, candidates ranked as NumPy's float32
    sums rank them (zero boundary at the run's edges).  Writes counts into ``out``."""
    n = piece.shape[0]
    smooth = np.zeros(n)               # float64 smoothed spike train
    residual = np.empty(n)             # piece − smooth, float64
    delta = np.empty(n)
    for i in range(n):
        out[i] = 0.0
    scratch = np.empty(n, dtype=np.float32)
    if _pairwise_sum_f32(piece, 0, n) >= 0.5:
        _add_spike(out, smooth, kernel, np.argmax(piece))
    loss = _float32_loss(piece, smooth, kernel, -1, scratch)
    scale = 0.0
    for i in range(n):
        scale += float(piece[i]) ** 2
    while True:
        best_delta, exact_loss = _spike_deltas(piece, smooth, residual, delta, kernel)
        margin = _TIE_MARGIN * (exact_loss + scale + 1.0)
        best_k = -1
        best_loss = np.float32(0.0)
        for k in range(n):
            if delta[k] <= best_delta + margin:
                cand = _float32_loss(piece, smooth, kernel, k, scratch)
                if best_k < 0 or cand < best_loss:
                    best_k = k
                    best_loss = cand
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
                _estimate_run(clipped[onset:idx + 1], kernel, out[onset:idx + 1])
        elif idx - onset >= MAX_RUN - 1:
            if idx + 1 < n - 1:
                edges[idx + 1] = -1
            if idx + 2 < n - 1:
                edges[idx + 2] = 1


@numba.njit(cache=True)
def _count_trace(rate, threshold, kernel, out):  # pragma: no cover - compiled
    """Count-preserving spikes over one float32 rate trace (see :func:`estimate_spikes`)."""
    n = rate.shape[0]
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    masses = np.empty(n)
    runs = 0
    total = 0.0
    for j in range(n):
        out[j] = 0.0
        if rate[j] > 0:
            total += float(rate[j])
    i = 0
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
    for k in range(extra):
        target[order[k % runs]] += 1
    for r in range(runs):
        _place_spikes(rate, starts[r], ends[r], kernel, out, int(target[r]))


@numba.njit(cache=True, parallel=True)
def _estimate_many(rates, threshold, kernel, out, count):  # pragma: no cover - compiled
    for j in numba.prange(rates.shape[0]):
        if count:
            _count_trace(rates[j], threshold, kernel, out[j])
        else:
            _estimate_trace(rates[j], threshold, kernel, out[j])


def check_spike_estimator(estimator: str) -> str:
    """``estimator`` if it is one of :data:`~ens2zoo.defaults.SPIKE_ESTIMATORS`, else an :class:`InputError`
    naming them."""
    if estimator not in SPIKE_ESTIMATORS:
        raise InputError(f"spike estimator {estimator!r} is not one of {', '.join(SPIKE_ESTIMATORS)}: 'greedy' "
                         "gives ENS²'s published spikes, 'count' as many spikes as the rate sums to")
    return estimator


def estimate_spikes(rate: np.ndarray, sampling_rate: float = SAMPLING_RATE,
                    sigma_s: float = SMOOTHING_SIGMA_S, estimator: str = "greedy") -> np.ndarray:
    """Discrete spike counts per frame from a spike rate.

    Args:
        rate: spikes per frame at ``sampling_rate``; shape (T,) or (n_neurons, T).
            Converted to float32 as the published code does.
        sampling_rate: frames per second of ``rate`` (Hz).
        sigma_s: width (seconds) of the Gaussian the network was trained to output.
        estimator: one of :data:`SPIKE_ESTIMATORS`: ``"greedy"``, exactly as ENS² publishes it;
            ``"count"``, as many spikes as the rate sums to (see the module docstring).

    Returns:
        int32 spike counts per frame, same shape as ``rate``.  Neurons run in parallel.
    """
    check_spike_estimator(estimator)
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
        _estimate_many(rates, threshold, gaussian_kernel(sigma), out, estimator == "count")
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
