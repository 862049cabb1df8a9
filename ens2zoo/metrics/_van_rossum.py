"""van Rossum distances: the ENS² rate form and the classic spike-train form."""

from __future__ import annotations

import math
import warnings

import numpy as np
from numba import njit

from ens2zoo.metrics._validation import (
    non_negative,
    rate_trace,
    same_length,
    spike_train,
)


def van_rossum(pred_rate, true_rate, n_true_spikes, tau: float = 0.025) -> float:
    """ENS²'s van Rossum distance between a predicted and a true rate.

    ``sqrt(sum((pred_rate - true_rate)**2) / tau / n_true_spikes)``, the
    definition of the published ENS² benchmark (``vrd`` column).

    Parameters
    ----------
    pred_rate, true_rate : array_like
        Rates in **spikes per frame** (60 Hz in ENS²), same length.  No clipping.
    n_true_spikes : int or float
        Number of true spikes (normaliser), ``>= 0``.
    tau : float
        Smoothing time constant in **seconds** (ENS²: 0.025), ``> 0``.

    Returns
    -------
    float
        Dimensionless distance.  ``n_true_spikes == 0`` gives NaN with a
        ``RuntimeWarning``.
    """
    t = non_negative(tau, "tau", allow_zero=False, allow_inf=False)
    n = non_negative(n_true_spikes, "n_true_spikes", allow_inf=False)
    p = rate_trace(pred_rate, "pred_rate")
    q = rate_trace(true_rate, "true_rate")
    same_length(p, q, "pred_rate", "true_rate")
    if n == 0:
        warnings.warn("van_rossum: no true spikes (n_true_spikes = 0), the distance is "
                      "undefined; returning NaN", RuntimeWarning, stacklevel=2)
        return math.nan
    d = p - q
    return float(math.sqrt(float(np.dot(d, d)) / t / n))


@njit(cache=True, nogil=True)
def _exp_sums(a, b, tau):  # pragma: no cover - compiled
    """Sums of exp(-|dt|/tau) over all pairs within a, within b and across."""
    n = a.shape[0]
    m = b.shape[0]
    # within-train sums: n + 2 * sum_{i' < i} exp(-(t_i - t_i')/tau), by recursion
    saa = float(n)
    mark = 0.0
    for i in range(1, n):
        mark = (mark + 1.0) * math.exp(-(a[i] - a[i - 1]) / tau)
        saa += 2.0 * mark
    sbb = float(m)
    mark = 0.0
    for j in range(1, m):
        mark = (mark + 1.0) * math.exp(-(b[j] - b[j - 1]) / tau)
        sbb += 2.0 * mark
    # cross sum over the merged order: each spike sees the decayed sum of the
    # earlier spikes of the other train
    sab = 0.0
    acc_a = 0.0   # sum over processed a spikes of exp(-(now - t)/tau)
    acc_b = 0.0
    last = 0.0
    i = 0
    j = 0
    first = True
    while i < n or j < m:
        take_a = j >= m or (i < n and a[i] <= b[j])
        t = a[i] if take_a else b[j]
        if first:
            first = False
        else:
            f = math.exp(-(t - last) / tau)
            acc_a *= f
            acc_b *= f
        last = t
        if take_a:
            sab += acc_b
            acc_a += 1.0
            i += 1
        else:
            sab += acc_a
            acc_b += 1.0
            j += 1
    return saa, sbb, sab


def van_rossum_trains(a, b, tau: float = 0.025) -> float:
    """Classic van Rossum (2001) distance between two spike trains.

    Each train is convolved with a causal exponential ``exp(-t/tau)`` and the
    distance is ``sqrt((2 / tau) * integral (f_a - f_b)^2 dt)``, i.e.
    ``sqrt(S_aa + S_bb - 2 S_ab)`` with ``S_xy = sum exp(-|x_i - y_j| / tau)``.
    This is **elephant's normalisation** (``van_rossum_distance``): a single
    spike against an empty train is at distance 1; divide by ``sqrt(2)`` for
    the normalisation of van Rossum's paper.

    Parameters
    ----------
    a, b : array_like
        Spike times in **seconds**; unsorted trains are sorted, NaN/inf refused.
    tau : float
        Time constant in **seconds** (``>= 0``).  As in elephant, ``tau = 0``
        gives ``sqrt(len(a) + len(b))`` and ``tau = inf`` gives
        ``|len(a) - len(b)|``.

    Returns
    -------
    float
        Dimensionless distance, symmetric in ``a``/``b``.  Computed in closed
        form in ``O(n + m)`` on the sorted trains (Houghton & Kreuz 2012).
    """
    t = non_negative(tau, "tau")
    a = spike_train(a, "a")
    b = spike_train(b, "b")
    if t == 0:
        return float(math.sqrt(a.size + b.size))
    if math.isinf(t):
        return float(abs(a.size - b.size))
    saa, sbb, sab = _exp_sums(a, b, t)
    d2 = saa + sbb - 2.0 * sab
    return float(math.sqrt(max(d2, 0.0)))

