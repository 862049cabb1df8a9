"""Per-neuron benchmark records: the columns of the published ENS² table.

``evaluate`` scores one neuron; ``evaluate_many`` scores many neurons at once,
running the Victor–Purpura and error-rate programmes and the rate sums in
parallel over neurons (Numba ``prange``).

Columns (same names and units as ``published_lodo_metrics.csv``):

``corr``
    Pearson correlation, **%**, between predicted and true rate after clipping
    negative values to 0 (CASCADE / ENS²).
``vrd``
    ENS²'s van Rossum distance ``sqrt(sum((pred - true)^2) / 0.025 / n_true)``
    on rates in spikes per frame at 60 Hz.  At another ``sampling_rate`` the
    sum is scaled by ``sampling_rate / 60`` so that the same underlying rate
    gives the same value (at 60 Hz this is exactly the published formula).
``vpd``
    Victor–Purpura distance at cost 1 /s divided by the number of true spikes.
``er50``
    Error rate, **%**, 50 ms window, called as ENS² does: predicted train first.
``error``, ``bias``
    CASCADE's ``(FP + FN) / sum(true)`` and ``(FP - FN) / sum(true)``.
``count``
    Spike count of the rate: ``sum(pred) / sum(true)``, the predicted rate (clipped
    at 0) summed over the scored window over the true spikes there (the sum of the
    true smoothed rate).  1 is a calibrated model; ``count = 1 + bias`` exactly.
``spike_count``
    The same for the discrete spikes: number of predicted spikes / ``sum(true)``.

Undefined values (no true spike, constant trace, zero true mass) are NaN and
announced by one ``RuntimeWarning``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from numba import njit, prange
from numba.typed import List as TypedList

from ens2zoo.errors import InputError
from ens2zoo.metrics._error_rate import er_sorted
from ens2zoo.metrics._rates import rate_stats
from ens2zoo.metrics._validation import (
    non_negative,
    rate_trace,
    same_length,
    spike_train,
)
from ens2zoo.metrics._victor_purpura import vp_sorted

#: Column names of a record, in the order of the published table.
COLUMNS = ("corr", "vrd", "vpd", "er50", "error", "bias", "count", "spike_count")
#: ENS²'s parameters: van Rossum tau (s), VP cost (1/s), ER window (s), rate (Hz).
VRD_TAU_S = 0.025
VPD_COST = 1.0
ER_WINDOW_S = 0.05
REFERENCE_RATE_HZ = 60.0


@njit(cache=True, parallel=True)
def _many(pe, pe_off, te, te_off, prates, trates, cost, window):  # pragma: no cover
    n = pe_off.shape[0] - 1
    corr = np.empty(n, np.float64)
    sse = np.empty(n, np.float64)
    fp = np.empty(n, np.float64)
    fn = np.empty(n, np.float64)
    st = np.empty(n, np.float64)
    vp = np.empty(n, np.float64)
    er = np.empty(n, np.float64)
    for k in prange(n):
        a = pe[pe_off[k]:pe_off[k + 1]]
        b = te[te_off[k]:te_off[k + 1]]
        if a.shape[0] == 0:
            vp[k] = float(b.shape[0])
        elif b.shape[0] == 0:
            vp[k] = float(a.shape[0])
        else:
            vp[k] = vp_sorted(a, b, cost)
        er[k] = er_sorted(a, b, window)
        kk = np.int64(k)   # typed-list index (prange gives uint64)
        c, s, f1, f2, s2 = rate_stats(prates[kk], trates[kk], True)
        corr[k] = c
        sse[k] = s
        fp[k] = f1
        fn[k] = f2
        st[k] = s2
    return corr, sse, fp, fn, st, vp, er


def _records(corr, sse, fp, fn, st, vp, er, n_true, n_pred, sampling_rate):
    """Turn the raw sums into the published columns (vectorised)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ntrue = n_true.astype(np.float64)
        ok = ntrue > 0
        vrd = np.where(ok, np.sqrt(sse * (sampling_rate / REFERENCE_RATE_HZ)
                                   / VRD_TAU_S / np.where(ok, ntrue, 1.0)), np.nan)
        vpd = np.where(ok, vp / np.where(ok, ntrue, 1.0), np.nan)
        okm = st > 0
        den = np.where(okm, st, 1.0)
        error = np.where(okm, (fp + fn) / den, np.nan)
        bias = np.where(okm, (fp - fn) / den, np.nan)
        count = np.where(okm, (st + fp - fn) / den, np.nan)
        spike_count = np.where(okm, n_pred.astype(np.float64) / den, np.nan)
    cols = {"corr": corr * 100.0, "vrd": vrd, "vpd": vpd, "er50": er * 100.0,
            "error": error, "bias": bias, "count": count, "spike_count": spike_count}
    problems = []
    if (~ok).any():
        problems.append(f"{int((~ok).sum())} neuron(s) without true spikes (vrd, vpd)")
    if np.isnan(corr).any():
        problems.append(f"{int(np.isnan(corr).sum())} neuron(s) with a constant rate (corr)")
    if (~okm).any():
        problems.append(f"{int((~okm).sum())} neuron(s) whose true rate sums to 0 "
                        "(error, bias, count, spike_count)")
    return cols, problems


def _warn(problems, stacklevel):
    if problems:
        warnings.warn("metrics undefined, set to NaN: " + "; ".join(problems),
                      RuntimeWarning, stacklevel=stacklevel + 1)


def _rate_pair(pred, true, where):
    p = rate_trace(pred, f"pred_rate{where}")
    q = rate_trace(true, f"true_rate{where}")
    same_length(p, q, f"pred_rate{where}", f"true_rate{where}")
    return p, q


def evaluate(pred_rate, true_rate, pred_events, true_events,
             sampling_rate: float = REFERENCE_RATE_HZ) -> dict:
    """Score one neuron with the ENS² benchmark metrics.

    Parameters
    ----------
    pred_rate, true_rate : array_like
        Predicted rate and smoothed true rate, **spikes per frame** at
        ``sampling_rate`` Hz, same length.
    pred_events, true_events : array_like
        Predicted and true spike times in **seconds** (unsorted is fine).
    sampling_rate : float
        Frame rate of the rates, Hz (ENS²: 60).

    Returns
    -------
    dict
        ``{"corr": %, "vrd", "vpd", "er50": %, "error", "bias", "count", "spike_count"}`` - see the
        module docstring for definitions.
    """
    fs = non_negative(sampling_rate, "sampling_rate", allow_zero=False, allow_inf=False)
    p, q = _rate_pair(pred_rate, true_rate, "")
    a = spike_train(pred_events, "pred_events")
    b = spike_train(true_events, "true_events")
    corr, sse, fp, fn, st = rate_stats(p, q, True)
    if p.size < 2:
        corr = math.nan
    vp = float(a.size + b.size) if (a.size == 0 or b.size == 0) else vp_sorted(a, b, VPD_COST)
    er = er_sorted(a, b, ER_WINDOW_S)
    cols, problems = _records(*(np.array([v], np.float64) for v in (corr, sse, fp, fn, st, vp, er)),
                              np.array([b.size]), np.array([a.size]), fs)
    _warn(problems, 2)
    return {k: float(cols[k][0]) for k in COLUMNS}


def evaluate_many(pred_rates: Sequence, true_rates: Sequence, pred_events: Sequence,
                  true_events: Sequence, sampling_rate: float = REFERENCE_RATE_HZ,
                  names: Sequence | None = None):
    """Score many neurons at once, in parallel.

    Parameters
    ----------
    pred_rates, true_rates : sequence of array_like
        One rate per neuron (**spikes per frame** at ``sampling_rate`` Hz);
        lengths may differ between neurons but must agree within a neuron.
    pred_events, true_events : sequence of array_like
        One train of spike times (**seconds**) per neuron.
    sampling_rate : float
        Frame rate of the rates, Hz.
    names : sequence, optional
        One label per neuron, stored in a leading ``name`` column.

    Returns
    -------
    pandas.DataFrame or list of dict
        One row per neuron with the columns of :func:`evaluate` (plus ``name``).
        A DataFrame when pandas is installed, otherwise a list of dicts.
    """
    fs = non_negative(sampling_rate, "sampling_rate", allow_zero=False, allow_inf=False)
    n = len(pred_rates)
    for label, seq in (("true_rates", true_rates), ("pred_events", pred_events),
                       ("true_events", true_events)):
        if len(seq) != n:
            raise InputError(f"evaluate_many: {label} has {len(seq)} neurons but pred_rates "
                             f"has {n}; pass one entry per neuron in every list")
    if names is not None and len(names) != n:
        raise InputError(f"evaluate_many: names has {len(names)} entries for {n} neurons")

    prates = TypedList()
    trates = TypedList()
    for k in range(n):
        p = np.ascontiguousarray(np.asarray(pred_rates[k], dtype=np.float64).reshape(-1))
        q = np.ascontiguousarray(np.asarray(true_rates[k], dtype=np.float64).reshape(-1))
        same_length(p, q, f"pred_rates[{k}]", f"true_rates[{k}]")
        prates.append(p)
        trates.append(q)
    pe = [spike_train(x, f"pred_events[{k}]") for k, x in enumerate(pred_events)]
    te = [spike_train(x, f"true_events[{k}]") for k, x in enumerate(true_events)]
    pe_off = np.zeros(n + 1, np.int64)
    te_off = np.zeros(n + 1, np.int64)
    np.cumsum([x.size for x in pe], out=pe_off[1:])
    np.cumsum([x.size for x in te], out=te_off[1:])
    pe_flat = np.concatenate(pe) if n else np.zeros(0)
    te_flat = np.concatenate(te) if n else np.zeros(0)
    n_true = np.diff(te_off)

    if n:
        corr, sse, fp, fn, st, vp, er = _many(pe_flat, pe_off, te_flat, te_off,
                                              prates, trates, VPD_COST, ER_WINDOW_S)
    else:
        corr = sse = fp = fn = st = vp = er = np.zeros(0)
    # NaN/inf anywhere in a rate makes its sums non-finite: find and name it
    bad = ~(np.isfinite(sse) & np.isfinite(st) & np.isfinite(fp) & np.isfinite(fn))
    for k in np.flatnonzero(bad):
        _rate_pair(prates[k], trates[k], f"[{k}]")   # raises InputError on NaN/inf
    for k in range(n):
        if prates[k].size < 2:
            corr[k] = math.nan
    cols, problems = _records(corr, sse, fp, fn, st, vp, er, n_true, np.diff(pe_off), fs)
    _warn(problems, 2)

    out = {}
    if names is not None:
        out["name"] = list(names)
    out.update({c: cols[c] for c in COLUMNS})
    try:
        import pandas as pd
    except ImportError:
        keys = list(out)
        return [{key: (out[key][k] if key == "name" else float(out[key][k])) for key in keys}
                for k in range(n)]
    return pd.DataFrame(out)
