"""Slow, obvious pure-Python reference implementations of the spike-train metrics.

They fill the full ``(n+1) x (m+1)`` tables (O(n*m) time and memory) and are
written for readability, not speed.  The tests compare the fast Numba kernels
of :mod:`ens2zoo.metrics` with them, and the benchmarks time them.

All trains are lists/arrays of spike times in seconds; they are sorted here.
"""

from __future__ import annotations

import math


def vp_reference(a, b, cost):
    """Victor–Purpura distance by the textbook full dynamic programme."""
    a = sorted(float(x) for x in a)
    b = sorted(float(x) for x in b)
    n, m = len(a), len(b)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = float(i)
    for j in range(m + 1):
        d[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1.0,
                          d[i][j - 1] + 1.0,
                          d[i - 1][j - 1] + cost * abs(a[i - 1] - b[j - 1]))
    return d[n][m]


def _isolation(a, b, burst=0.5):
    """Miss costs of the first train and false-detection costs of the second."""
    miss = [0.5 if sum(abs(x - y) < burst for x in a) >= 2 else 1.0 for y in a]
    flsp = [0.5 if sum(abs(x - y) < burst for x in a) >= 2 else 1.0 for y in b]
    return miss, flsp


def _f1_error(k, n, m):
    if n == 0 and m == 0:
        return 0.0
    if n == 0 or m == 0:
        return 1.0
    ss = 1.0 - (n - k) / n
    pr = 1.0 - (m - k) / m
    if ss + pr == 0.0:
        return 1.0
    return 1.0 - 2.0 * ss * pr / (ss + pr)


def er_matches_reference(a, b, window, restricted=True):
    """Number of matches on the optimal alignment of the error-rate DP.

    Full table ``cost[i][j]`` with a move map, filled row by row; ties go to
    miss, then false detection, then match; the path is read back from the
    last cell.  With ``restricted`` (the behaviour of MLspike / ENS²), row ``i``
    takes only misses left of its first candidate partner and only false
    detections right of its last one (a row without candidates: only misses);
    cells right of the band are filled as "cell at the band's end + running
    sum of false-detection costs".
    """
    a = sorted(float(x) for x in a)
    b = sorted(float(x) for x in b)
    n, m = len(a), len(b)
    miss, flsp = _isolation(a, b)
    inf = math.inf
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]   # 1 miss, 2 false detection, 3 match
    run = 0.0
    for i in range(n + 1):
        cost[i][0] = run
        move[i][0] = 1 if i else 0
        if i < n:
            run += miss[i]
    run = 0.0
    for j in range(m + 1):
        cost[0][j] = run
        move[0][j] = 2 if j else 0
        if j < m:
            run += flsp[j]

    for i in range(1, n + 1):
        t = a[i - 1]
        ok = [j for j in range(1, m + 1) if abs(t - b[j - 1]) < window]
        if restricted:
            if ok:
                first, last = ok[0], ok[-1]
            else:
                first, last = m + 1, m
            for j in range(first):
                cost[i][j] = cost[i - 1][j] + miss[i - 1]
                move[i][j] = 1
            cols = range(first, last + 1)
        else:
            cols = range(1, m + 1)
        for j in cols:
            options = [cost[i - 1][j] + miss[i - 1], cost[i][j - 1] + flsp[j - 1]]
            dt = abs(t - b[j - 1])
            options.append(cost[i - 1][j - 1] + dt / window if dt < window else inf)
            best = min(options)
            cost[i][j] = best
            move[i][j] = options.index(best) + 1
        if restricted and ok:
            acc = 0.0
            for j in range(last + 1, m + 1):
                acc += flsp[j - 1]
                cost[i][j] = cost[i][last] + acc
                move[i][j] = 2

    i, j, k = n, m, 0
    while i > 0 and j > 0:
        mv = move[i][j]
        if mv == 1:
            i -= 1
        elif mv == 2:
            j -= 1
        else:
            i, j, k = i - 1, j - 1, k + 1
    return k


def er_reference(a, b, window, restricted=True):
    """Error rate ``1 - F1`` (first train ``a``), from :func:`er_matches_reference`."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return _f1_error(0, n, m)
    return _f1_error(er_matches_reference(a, b, window, restricted), n, m)


def van_rossum_trains_reference(a, b, tau):
    """van Rossum distance (elephant's normalisation) by the O(n*m) double sum."""
    def s(x, y):
        return sum(math.exp(-abs(u - v) / tau) for u in x for v in y)
    d2 = s(a, a) + s(b, b) - 2.0 * s(a, b)
    return math.sqrt(max(d2, 0.0))
