"""Rate-based metrics: Pearson correlation and CASCADE's error / bias."""

from __future__ import annotations

import math
import warnings

from numba import njit

from ens2zoo.metrics._validation import rate_trace, same_length


@njit(cache=True, nogil=True)
def rate_stats(p, q, clip):  # pragma: no cover - compiled
    """One neuron's rate statistics (two passes, no temporaries).

    Returns ``(corr, sse, fp, fn, sum_true)``: Pearson correlation (NaN when a
    trace is constant), sum of squared differences of the raw traces, and
    CASCADE's false-positive / false-negative mass and true mass computed on
    the traces clipped at 0.  With ``clip`` the correlation is computed on the
    clipped traces (CASCADE / ENS²), otherwise on the raw ones.
    """
    n = p.shape[0]
    sp = 0.0
    sq = 0.0
    sse = 0.0
    fp = 0.0
    fn = 0.0
    st = 0.0
    for k in range(n):
        x = p[k]
        y = q[k]
        d = x - y
        sse += d * d
        xc = max(0.0, x)
        yc = max(0.0, y)
        dc = xc - yc
        if dc > 0.0:
            fp += dc
        elif dc < 0.0:
            fn -= dc
        st += yc
        if clip:
            sp += xc
            sq += yc
        else:
            sp += x
            sq += y
    if n == 0:
        return math.nan, sse, fp, fn, st
    mp = sp / n
    mq = sq / n
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for k in range(n):
        x = p[k]
        y = q[k]
        if clip:
            x = max(0.0, x)
            y = max(0.0, y)
        dx = x - mp
        dy = y - mq
        sxy += dx * dy
        sxx += dx * dx
        syy += dy * dy
    if sxx == 0.0 or syy == 0.0:
        return math.nan, sse, fp, fn, st
    r = sxy / math.sqrt(sxx * syy)
    if r > 1.0:
        r = 1.0
    elif r < -1.0:
        r = -1.0
    return r, sse, fp, fn, st


def _traces(pred, true):
    p = rate_trace(pred, "pred")
    q = rate_trace(true, "true")
    same_length(p, q, "pred", "true")
    return p, q


def pearson(pred, true) -> float:
    """Pearson correlation coefficient between two traces (fraction, not %).

    Parameters
    ----------
    pred, true : array_like
        Same-length 1-D traces (e.g. rates in spikes per frame).  NaN/inf
        raise :class:`~ens2zoo.errors.InputError`.  No clipping is applied
        (:func:`ens2zoo.metrics.evaluate` clips negative rates first, like ENS²).

    Returns
    -------
    float
        ``r`` in ``[-1, 1]``; NaN with a ``RuntimeWarning`` when either trace
        is constant (or has fewer than 2 samples).
    """
    p, q = _traces(pred, true)
    r = rate_stats(p, q, False)[0] if p.size >= 2 else math.nan
    if math.isnan(r):
        warnings.warn("pearson: a trace is constant (zero variance) or too short; "
                      "the correlation is undefined, returning NaN",
                      RuntimeWarning, stacklevel=2)
    return float(r)


def cascade_error_bias(pred, true) -> tuple[float, float]:
    """CASCADE's error and bias of a predicted rate.

    Negative values of both traces are clipped to 0; with ``d = pred - true``,
    ``FP = sum(d[d > 0])``, ``FN = sum(-d[d < 0])``, ``error = (FP + FN) /
    sum(true)`` and ``bias = (FP - FN) / sum(true)``.

    Parameters
    ----------
    pred, true : array_like
        Same-length rates in **spikes per frame**.

    Returns
    -------
    (float, float)
        ``(error, bias)``, dimensionless.  ``(nan, nan)`` with a
        ``RuntimeWarning`` when the true trace has no positive mass.
    """
    p, q = _traces(pred, true)
    _, _, fp, fn, st = rate_stats(p, q, True)
    if st == 0.0:
        warnings.warn("cascade_error_bias: the true rate sums to 0, error and bias are "
                      "undefined; returning NaN", RuntimeWarning, stacklevel=2)
        return math.nan, math.nan
    return float((fp + fn) / st), float((fp - fn) / st)
