"""Victor–Purpura spike-time distance (Victor & Purpura 1996), banded DP.

The distance is the cheapest way to turn train ``a`` into train ``b`` with
three moves: delete a spike (cost 1), insert a spike (cost 1), or shift a spike
by ``dt`` seconds (cost ``cost * |dt|``).

Speed-up: a shift of cost >= 2 is never better than delete + insert, so spike
``a[i]`` can only be matched with spikes of ``b`` closer than ``2 / cost``
seconds.  With both trains sorted these candidates form a contiguous band that
moves monotonically to the right, and every cell of the classic
``(n+1) x (m+1)`` table outside the band follows from its neighbour by +1
(left of the band: ``a[i]`` must be deleted; right of it: ``b[j]`` must be
inserted).  Only the band is computed: time ``O(n + m + sum of band widths)``,
memory ``O(m)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ens2zoo.metrics._validation import non_negative, spike_train


@njit(cache=True, nogil=True)
def vp_sorted(a, b, cost):  # pragma: no cover - compiled
    """VP distance of two sorted float64 trains; ``0 < cost < inf``."""
    n = a.shape[0]
    m = b.shape[0]
    if n == 0:
        return float(m)
    if m == 0:
        return float(n)
    prev = np.empty(m + 1, np.float64)
    cur = np.empty(m + 1, np.float64)
    # row 0: D[0][J] = J, represented by window [0, 0] and the +1 rule right of it
    prev[0] = 0.0
    phi = 0          # last explicit column of the previous row
    lo = 0           # first spike of b that may still be matched (0-based)
    hi = 0           # one past the last spike of b that may be matched
    for i in range(n):
        t = a[i]
        while lo < m and cost * (t - b[lo]) >= 2.0:
            lo += 1
        hi = max(hi, lo)
        while hi < m and cost * (b[hi] - t) < 2.0:
            hi += 1
        # previous row is explicit on [.., phi], +1 per column beyond
        if hi > phi:
            base = prev[phi]
            for col in range(phi + 1, hi + 1):
                prev[col] = base + (col - phi)
        # column lo: left of the band, a[i] is deleted; then the band, with the
        # "insert b[j]" move (+1 from the left) applied as a running minimum
        run = prev[lo] + 1.0
        cur[lo] = run
        for col in range(lo + 1, hi + 1):
            x = min(prev[col] + 1.0, prev[col - 1] + cost * abs(t - b[col - 1]))
            run = min(x, run + 1.0)
            cur[col] = run
        tmp = prev
        prev = cur
        cur = tmp
        phi = hi
    if m <= phi:
        return prev[m]
    return prev[phi] + (m - phi)


def vp_sorted_trains(a: np.ndarray, b: np.ndarray, cost: float) -> float:
    """VP distance on already validated, sorted float64 trains."""
    if cost == 0.0:
        return float(abs(a.size - b.size))
    if np.isinf(cost):
        return float(a.size + b.size)
    return float(vp_sorted(a, b, cost))


def victor_purpura(a, b, cost: float = 1.0) -> float:
    """Victor–Purpura distance between two spike trains.

    Parameters
    ----------
    a, b : array_like
        Spike times in **seconds** (1-D).  Unsorted trains are sorted first;
        NaN or infinite times raise :class:`~ens2zoo.errors.InputError`.
    cost : float
        Shift cost ``q`` per **second** (units 1/s): moving a spike by ``dt``
        seconds costs ``q * |dt|``; inserting or deleting a spike costs 1.
        ``0`` gives ``|len(a) - len(b)|``, ``inf`` gives ``len(a) + len(b)``.
        Negative or NaN costs raise ``InputError``.

    Returns
    -------
    float
        The distance (dimensionless; in units of "spikes").  Symmetric in
        ``a``/``b``.  Equals elephant's ``victor_purpura_distance`` and the
        MATLAB ``spkd`` of Victor & Reich, except that the distance to an empty
        train is the other train's spike count (``spkd`` returns 0 when its
        second train is empty).

    Notes
    -----
    Exact dynamic programme restricted to the band of spike pairs closer than
    ``2 / cost`` seconds: ``O(n + m + band)`` time, ``O(m)`` memory.
    """
    q = non_negative(cost, "cost")
    a = spike_train(a, "a")
    b = spike_train(b, "b")
    return vp_sorted_trains(a, b, q)
