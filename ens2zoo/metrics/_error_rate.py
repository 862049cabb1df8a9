"""Spike-matching error rate of Deneux et al. (2016), as computed by ENS².

Definition (the one used by MLspike's ``spk_distance`` and ENS²'s
``computeER``):

* The two trains are aligned by a dynamic programme over ``(i, j)`` =
  (spikes of the first train consumed, spikes of the second consumed).
  Moves: *miss* spike ``i`` of the first train, *false detection* of spike
  ``j`` of the second, or *match* ``i`` with ``j``; a match is allowed only
  when ``|t_i - t_j| < window`` and costs ``|t_i - t_j| / window``.
* A miss costs 1 for an isolated first-train spike and 0.5 for a non-isolated
  one (at least 2 first-train spikes, itself included, closer than 0.5 s).
  A false detection costs 1, or 0.5 when at least 2 first-train spikes lie
  closer than 0.5 s to it.
* Ties are broken in the order miss, false detection, match.  As in the
  reference code, row ``i`` only takes false detections from the first
  candidate partner of spike ``i`` onwards and only takes misses up to its
  last candidate partner (a row without any candidate only takes misses);
  this leaves the optimal cost unchanged but fixes which optimal path - and
  hence which number of matches - is reported.
* With ``K`` matches on the chosen path, ``n`` first-train and ``m``
  second-train spikes: sensitivity = ``K / n``, precision = ``K / m``,
  ``ER = 1 - F1 = 1 - 2 * sens * prec / (sens + prec)`` (1 when no spike
  matches).  One empty train gives 1, two empty trains give 0.

Implementation: the DP is evaluated only on the band of candidate partners,
carrying for each cell the number of matches on the path the reference
traceback would follow.  Out-of-band cells follow closed forms; values are
accumulated in the same order as the reference so that floating-point ties
are broken identically.  Time ``O(n + m + band)``, memory ``O(m)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ens2zoo.errors import InputError
from ens2zoo.metrics._validation import non_negative, spike_train

#: Spikes closer than this (s) count as neighbours for the isolation rule.
BURST_WINDOW_S = 0.5


@njit(cache=True, nogil=True)
def _crowding_costs(a, times):  # pragma: no cover - compiled
    """0.5 for each of ``times`` with at least 2 spikes of ``a`` within ``BURST_WINDOW_S``, else 1 (both sorted)."""
    n = a.shape[0]
    out = np.empty(times.shape[0], np.float64)
    lo = 0
    hi = 0
    for j in range(times.shape[0]):
        t = times[j]
        while lo < n and a[lo] < t and not (abs(t - a[lo]) < BURST_WINDOW_S):
            lo += 1
        hi = max(hi, lo)
        while hi < n and abs(a[hi] - t) < BURST_WINDOW_S:
            hi += 1
        out[j] = 0.5 if hi - lo >= 2 else 1.0
    return out


@njit(cache=True, nogil=True)
def _isolation_costs(a, b):  # pragma: no cover - compiled
    """Miss costs of ``a`` and false-detection costs of ``b`` (both sorted)."""
    return _crowding_costs(a, a), _crowding_costs(a, b)


@njit(cache=True, nogil=True)
def _er_matches(a, b, window):  # pragma: no cover - compiled
    """Number of matched pairs on the reference path; ``a``, ``b`` sorted, non-empty."""
    n = a.shape[0]
    m = b.shape[0]
    miss, flsp = _isolation_costs(a, b)
    # exact prefix sums of false-detection costs (multiples of 0.5)
    pf = np.empty(m + 1, np.float64)
    pf[0] = 0.0
    for j in range(m):
        pf[j + 1] = pf[j] + flsp[j]
    pval = np.empty(m + 1, np.float64)
    pcnt = np.empty(m + 1, np.int64)
    cval = np.empty(m + 1, np.float64)
    ccnt = np.empty(m + 1, np.int64)
    pending = np.empty(n, np.int64)   # rows without candidates since the last band row
    npend = 0
    # row 0: cost = cumulated false detections, no match
    pval[0] = 0.0
    pcnt[0] = 0
    plo = 0
    phi = 0
    tail_val = 0.0      # value at column phi of the last band row (before pending misses)
    tail_cnt = 0
    lo = 0
    hi = 0
    for i in range(n):
        t = a[i]
        mc = miss[i]
        while lo < m and b[lo] < t and not (abs(t - b[lo]) < window):
            lo += 1
        hi = max(hi, lo)
        while hi < m and abs(b[hi] - t) < window:
            hi += 1
        if hi == lo:
            # no candidate partner: the whole row is reached by a miss
            for col in range(plo, phi + 1):
                pval[col] = pval[col] + mc
            pending[npend] = i
            npend += 1
            continue
        # previous row on columns (phi, hi]: false detections after the last band
        # row, then the misses of the rows without candidates, in order
        for col in range(phi + 1, hi + 1):
            v = tail_val + (pf[col] - pf[phi])
            for k in range(npend):
                v = v + miss[pending[k]]
            pval[col] = v
            pcnt[col] = tail_cnt
        # column lo: left of the band (miss); band columns lo+1 .. hi
        cval[lo] = pval[lo] + mc
        ccnt[lo] = pcnt[lo]
        for col in range(lo + 1, hi + 1):
            up = pval[col] + mc
            left = cval[col - 1] + flsp[col - 1]
            diag = pval[col - 1] + abs(t - b[col - 1]) / window
            if up <= left and up <= diag:
                cval[col] = up
                ccnt[col] = pcnt[col]
            elif left <= diag:
                cval[col] = left
                ccnt[col] = ccnt[col - 1]
            else:
                cval[col] = diag
                ccnt[col] = pcnt[col - 1] + 1
        tv = pval
        pval = cval
        cval = tv
        tc = pcnt
        pcnt = ccnt
        ccnt = tc
        plo = lo
        phi = hi
        tail_val = pval[hi]
        tail_cnt = pcnt[hi]
        npend = 0
    if m <= phi:
        return pcnt[m]
    return tail_cnt


@njit(cache=True, nogil=True)
def _f1_error(k, n, m):  # pragma: no cover - compiled
    """ER from the match count, with the reference's arithmetic and edge cases."""
    if n == 0 and m == 0:
        return 0.0
    if n == 0 or m == 0:
        return 1.0
    miss = (n - k) / n
    falsep = (m - k) / m
    ss = 1.0 - miss
    pr = 1.0 - falsep
    if ss + pr == 0.0:
        return 1.0
    return 1.0 - 2.0 * ss * pr / (ss + pr)


@njit(cache=True, nogil=True)
def er_sorted(a, b, window):  # pragma: no cover - compiled
    n = a.shape[0]
    m = b.shape[0]
    if n == 0 or m == 0:
        return _f1_error(0, n, m)
    return _f1_error(_er_matches(a, b, window), n, m)


def er_window(window) -> float:
    w = non_negative(window, "window", allow_zero=False)
    if np.isinf(w):
        raise InputError("window must be finite (seconds); ENS² uses 0.05")
    return w


def error_rate(a, b, window: float = 0.05) -> float:
    """Deneux et al. (2016) error rate ``1 - F1`` between two spike trains.

    Parameters
    ----------
    a : array_like
        The *first* train (``tli`` of MLspike/ENS² ``computeER``), spike times in
        **seconds**.  Its spikes that are not matched are the "misses", and the
        isolation rule (0.5 s neighbourhood) is evaluated on it.  ENS² calls
        ``computeER(predicted, true, 0.05)``, i.e. the *predicted* train comes
        first; :func:`ens2zoo.metrics.evaluate` does the same.
    b : array_like
        The second train (``tlj``), seconds.
    window : float
        Largest time difference (**seconds**, exclusive) at which two spikes may
        be matched; a match at distance ``dt`` costs ``dt / window``.  Must be
        positive and finite.

    Returns
    -------
    float
        Error rate in ``[0, 1]`` (a fraction, not %).  1 when exactly one train
        is empty, 0 when both are (the MATLAB code returns NaN there).

    Notes
    -----
    Unsorted trains are sorted; NaN/inf times raise
    :class:`~ens2zoo.errors.InputError`.  See the module docstring for the
    full definition, tie-breaking and complexity (banded DP, ``O(m)`` memory).
    """
    w = er_window(window)
    a = spike_train(a, "a")
    b = spike_train(b, "b")
    return float(er_sorted(a, b, w))
