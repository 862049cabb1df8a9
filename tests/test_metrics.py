"""ens2zoo.metrics: reference values, hand-computed cases, validation, evaluate."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from ens2zoo.benchmark.reference_metrics import er_reference, vp_reference
from ens2zoo.errors import InputError
from ens2zoo.metrics import (
    COLUMNS,
    cascade_error_bias,
    error_rate,
    evaluate,
    evaluate_many,
    pearson,
    van_rossum,
    van_rossum_trains,
    victor_purpura,
)

# --------------------------------------------------------------------------- reference


@pytest.fixture(scope="module")
def metric_cases(reference_dir):
    with open(reference_dir / "metric_cases_dev.json") as fh:
        return json.load(fh)


def _expected_spkd(case, value):
    # MATLAB spkd returns 0 when its second train is empty; the distance is
    # the number of spikes of the first.
    if not case["tlj"] and case["tli"]:
        return float(len(case["tli"]))
    return value


def _expected_er(case, value):
    # MATLAB computeER returns NaN when the first train is empty; the error
    # rate is 1 with exactly one empty train and 0 with both empty.
    n, m = len(case["tli"]), len(case["tlj"])
    if n == 0:
        return 0.0 if m == 0 else 1.0
    return value


def test_reference_cases_victor_purpura(metric_cases):
    assert len(metric_cases) >= 40
    checked = 0
    for case in metric_cases:
        assert set(case["spkd"]) == {"0.5", "1", "2", "10"}
        for cost, value in case["spkd"].items():
            got = victor_purpura(case["tli"], case["tlj"], float(cost))
            want = _expected_spkd(case, value)
            assert got == pytest.approx(want, rel=0, abs=1e-9), (case["id"], case["kind"], cost)
            checked += 1
    assert checked == 4 * len(metric_cases)


def test_reference_cases_error_rate(metric_cases):
    checked = 0
    for case in metric_cases:
        assert set(case["er"]) == {"0.05", "0.1", "0.5"}
        for window, value in case["er"].items():
            # tli is the first argument of computeER (ENS² passes the prediction)
            got = error_rate(case["tli"], case["tlj"], float(window))
            want = _expected_er(case, value)
            assert got == pytest.approx(want, rel=0, abs=1e-9), (case["id"], case["kind"], window)
            checked += 1
    assert checked == 3 * len(metric_cases)


def test_reference_matlab_edge_cases_are_corrected(metric_cases):
    kinds = {c["kind"]: c for c in metric_cases}
    second_empty = kinds["empty_second"]
    assert second_empty["spkd"]["1"] == 0.0            # the MATLAB bug ...
    assert victor_purpura(second_empty["tli"], [], 1.0) == len(second_empty["tli"])
    first_empty = kinds["empty_first"]
    assert math.isnan(first_empty["er"]["0.05"])       # ... and the other one
    assert error_rate([], first_empty["tlj"], 0.05) == 1.0
    assert error_rate([], [], 0.05) == 0.0
    assert error_rate(second_empty["tli"], [], 0.05) == 1.0


def test_reference_cases_match_python_reference(metric_cases):
    """The slow references reproduce the MATLAB values too (small cases only)."""
    for case in metric_cases:
        if len(case["tli"]) * len(case["tlj"]) > 20000 or not case["tlj"] or not case["tli"]:
            continue
        assert vp_reference(case["tli"], case["tlj"], 1.0) == pytest.approx(case["spkd"]["1"],
                                                                           abs=1e-9)
        assert er_reference(case["tli"], case["tlj"], 0.05) == pytest.approx(case["er"]["0.05"],
                                                                              abs=1e-9)


# --------------------------------------------------------------------------- hand-made


def test_victor_purpura_hand():
    assert victor_purpura([1.0], [1.03], 1.0) == pytest.approx(0.03)
    assert victor_purpura([1.0], [1.03], 10.0) == pytest.approx(0.3)
    assert victor_purpura([1.0], [5.0], 1.0) == 2.0                 # shift would cost 4
    assert victor_purpura([1.0, 2.0], [1.5], 1.0) == pytest.approx(1.5)
    assert victor_purpura([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], 3.0) == 0.0
    assert victor_purpura([1, 2, 3], [4], 0.0) == 2.0                # counts only
    assert victor_purpura([1, 2, 3], [1], math.inf) == 4.0           # no shifting
    assert victor_purpura([], [], 1.0) == 0.0


def test_error_rate_hand():
    assert error_rate([1.0], [1.03], 0.05) == 0.0
    assert error_rate([1.0], [1.06], 0.05) == 1.0                    # outside the window
    # 2 of 3 first-train spikes matched, 2 of 2 second-train: F1 = 0.8
    assert error_rate([0.0, 2.0, 4.0], [0.01, 4.02], 0.05) == pytest.approx(0.2)
    assert error_rate([0.0, 2.0], [0.01, 2.0, 4.0, 6.0], 0.05) == pytest.approx(1 - 2 / 3)


def test_van_rossum_hand():
    assert van_rossum([1.0, 0.0, 0.0], [0.0, 0.0, 0.0], 2) == pytest.approx(math.sqrt(20.0))
    assert van_rossum([0.5, 0.5], [0.0, 1.0], 1, tau=0.5) == pytest.approx(1.0)
    assert van_rossum([0.2, 0.3], [0.2, 0.3], 5) == 0.0
    with pytest.warns(RuntimeWarning, match="no true spikes"):
        assert math.isnan(van_rossum([0.1], [0.0], 0))


def test_van_rossum_trains_hand():
    assert van_rossum_trains([0.3], [], 0.01) == pytest.approx(1.0)
    assert van_rossum_trains([], [], 0.01) == 0.0
    dt, tau = 0.01, 0.02
    assert van_rossum_trains([1.0], [1.0 + dt], tau) == pytest.approx(
        math.sqrt(2 - 2 * math.exp(-dt / tau)))
    assert van_rossum_trains([1.0, 1.0 + dt], [], tau) == pytest.approx(
        math.sqrt(2 + 2 * math.exp(-dt / tau)))
    assert van_rossum_trains([1.0, 2.0], [1.0, 2.0], tau) == pytest.approx(0.0, abs=1e-7)
    assert van_rossum_trains([1, 2, 3], [1], math.inf) == 2.0
    assert van_rossum_trains([1, 2, 3], [1], 0.0) == pytest.approx(2.0)


def test_pearson_hand():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500), rng.normal(size=500)
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)


def test_cascade_error_bias_hand():
    # clipped: pred [0.5, 0, 2, 0], true [1, 0, 1, 0]; FP = 1, FN = 0.5, sum(true) = 2
    err, bias = cascade_error_bias([0.5, -1.0, 2.0, 0.0], [1.0, 0.0, 1.0, -0.5])
    assert err == pytest.approx(0.75)
    assert bias == pytest.approx(0.25)
    assert cascade_error_bias([1.0, 2.0], [1.0, 2.0]) == (0.0, 0.0)
    assert cascade_error_bias([0.0, 0.0], [1.0, 1.0]) == (1.0, -1.0)


def test_constant_and_degenerate_inputs_give_nan_with_warning():
    with pytest.warns(RuntimeWarning, match="constant"):
        assert math.isnan(pearson([1.0, 1.0, 1.0], [0.0, 1.0, 2.0]))
    with pytest.warns(RuntimeWarning):
        assert math.isnan(pearson([1.0], [2.0]))
    with pytest.warns(RuntimeWarning, match="sums to 0"):
        err, bias = cascade_error_bias([1.0, 0.0], [0.0, -1.0])
    assert math.isnan(err) and math.isnan(bias)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("func", [
    lambda a, b: victor_purpura(a, b, 1.0),
    lambda a, b: error_rate(a, b, 0.05),
    lambda a, b: van_rossum_trains(a, b, 0.02),
])
def test_spike_trains_validated(func):
    with pytest.raises(InputError, match="NaN"):
        func([0.1, math.nan], [0.2])
    with pytest.raises(InputError, match="NaN"):
        func([0.1], [math.nan])
    with pytest.raises(InputError, match="infinite"):
        func([0.1, math.inf], [0.2])
    with pytest.raises(InputError, match="1-D"):
        func([[0.1, 0.2]], [0.2])
    with pytest.raises(InputError, match="scalar"):
        func(0.1, [0.2])
    # unsorted trains are sorted
    a, b = [3.0, 1.0, 2.0, 0.5], [2.05, 0.9, 3.3]
    assert func(a, b) == func(sorted(a), sorted(b))


def test_parameters_validated():
    with pytest.raises(InputError, match="cost"):
        victor_purpura([1.0], [1.0], -1.0)
    with pytest.raises(InputError, match="cost"):
        victor_purpura([1.0], [1.0], math.nan)
    with pytest.raises(InputError, match="window"):
        error_rate([1.0], [1.0], -0.05)
    with pytest.raises(InputError, match="window"):
        error_rate([1.0], [1.0], 0.0)
    with pytest.raises(InputError, match="tau"):
        van_rossum_trains([1.0], [1.0], -0.1)
    with pytest.raises(InputError, match="tau"):
        van_rossum([1.0], [1.0], 1, tau=-0.025)
    with pytest.raises(InputError, match="n_true_spikes"):
        van_rossum([1.0], [1.0], -3)


def test_rates_validated():
    with pytest.raises(InputError, match="NaN"):
        pearson([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(InputError, match="same length"):
        cascade_error_bias([1.0, 2.0], [1.0])
    with pytest.raises(InputError, match="NaN"):
        van_rossum([1.0, 2.0], [1.0, math.nan], 2)


def test_import_does_not_compile():
    code = ("import importlib\n"
            "mods = [importlib.import_module('ens2zoo.metrics.' + m) for m in "
            "('_victor_purpura', '_error_rate', 'evaluate', '_rates', '_van_rossum')]\n"
            "v, e, ev, r, w = mods\n"
            "ds = [v.vp_sorted, e._er_matches, e.er_sorted, e._isolation_costs, ev._many, "
            "r.rate_stats, w._exp_sums]\n"
            "assert all(len(d.signatures) == 0 for d in ds), [d.signatures for d in ds]\n"
            "assert all(type(d._cache).__name__ != 'NullCache' for d in ds)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_error_rate_long_trains_banded():
    """10^4-spike trains: runs in banded memory, agrees with itself when swapped sides."""
    rng = np.random.default_rng(7)
    true = np.sort(rng.uniform(0, 2000, 10_000))
    pred = np.sort(np.concatenate([true[::2] + rng.normal(0, 0.02, 5000),
                                   rng.uniform(0, 2000, 5000)]))
    er = error_rate(pred, true, 0.05)
    assert 0.0 < er < 1.0
    assert error_rate(true, true, 0.05) == 0.0
    vp = victor_purpura(pred, true, 1.0)
    assert 0 < vp < pred.size + true.size


# --------------------------------------------------------------------------- evaluate


def _neuron(rng, seconds, fs=60.0, rate_hz=3.0):
    n = int(seconds * fs)
    true_ev = np.sort(rng.uniform(0, seconds, rng.poisson(rate_hz * seconds)))
    pred_ev = np.concatenate([true_ev[rng.random(true_ev.size) < 0.7],
                              rng.uniform(0, seconds, rng.poisson(1.0 * seconds))])
    pred_ev = np.clip(pred_ev + rng.normal(0, 0.02, pred_ev.size), 0, seconds)
    counts = np.bincount(np.minimum((true_ev * fs).astype(int), n - 1), minlength=n)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 1.5) ** 2)
    kernel /= kernel.sum()
    true_rate = np.convolve(counts, kernel, mode="same")
    pred_rate = true_rate * 0.8 + rng.normal(0, 0.02, n)
    return pred_rate, true_rate, pred_ev, true_ev


def _expected_record(pred_rate, true_rate, pred_ev, true_ev):
    n_true = len(true_ev)
    return {
        "corr": 100 * np.corrcoef(np.clip(pred_rate, 0, None), np.clip(true_rate, 0, None))[0, 1],
        "vrd": van_rossum(pred_rate, true_rate, n_true, 0.025),
        "vpd": victor_purpura(pred_ev, true_ev, 1.0) / n_true,
        "er50": 100 * error_rate(pred_ev, true_ev, 0.05),
        "error": cascade_error_bias(pred_rate, true_rate)[0],
        "bias": cascade_error_bias(pred_rate, true_rate)[1],
        # the obvious definitions: clipped predicted mass and predicted spikes over the true mass
        "count": np.clip(pred_rate, 0, None).sum() / true_rate.sum(),
        "spike_count": len(pred_ev) / true_rate.sum(),
    }


def test_evaluate_matches_per_pair_functions():
    rng = np.random.default_rng(11)
    data = _neuron(rng, 120.0)
    rec = evaluate(*data)
    assert tuple(rec) == COLUMNS
    want = _expected_record(*data)
    for key in COLUMNS:
        assert rec[key] == pytest.approx(want[key], rel=1e-12, abs=1e-12), key
    # ER is called with the prediction first, as ENS² does
    assert rec["er50"] == 100 * error_rate(data[2], data[3], 0.05)
    assert rec["count"] == pytest.approx(1 + rec["bias"], rel=1e-12)


def test_count_is_one_plus_bias_where_defined_and_nan_without_true_mass():
    rng = np.random.default_rng(13)
    rows = [evaluate(*_neuron(rng, 60.0 + 10 * k)) for k in range(5)]
    for r in rows:
        assert r["count"] == pytest.approx(1 + r["bias"], rel=1e-12)
        assert 0.5 < r["count"] < 1.0  # the prediction is 0.8x the truth plus noise
    pred, true, pe, te = _neuron(rng, 60.0)
    with pytest.warns(RuntimeWarning, match="count"):
        r = evaluate(pred, np.zeros_like(true), pe, te)
    assert math.isnan(r["count"]) and math.isnan(r["spike_count"]) and math.isnan(r["bias"])


def test_evaluate_sampling_rate_scales_vrd_only():
    rng = np.random.default_rng(12)
    data = _neuron(rng, 30.0)
    r60 = evaluate(*data)
    r30 = evaluate(*data, sampling_rate=30.0)
    assert r30["vrd"] == pytest.approx(r60["vrd"] * math.sqrt(0.5))
    for key in ("corr", "vpd", "er50", "error", "bias"):
        assert r30[key] == r60[key]
    with pytest.raises(InputError, match="sampling_rate"):
        evaluate(*data, sampling_rate=0.0)


def test_evaluate_undefined_values_are_nan():
    with pytest.warns(RuntimeWarning, match="without true spikes"):
        rec = evaluate([0.1, 0.2, 0.0], [0.0, 0.0, 0.0], [0.5], [])
    assert math.isnan(rec["vrd"]) and math.isnan(rec["vpd"])
    assert math.isnan(rec["corr"]) and math.isnan(rec["error"])
    assert rec["er50"] == 100.0


def test_evaluate_many_agrees_with_evaluate(monkeypatch):
    rng = np.random.default_rng(13)
    neurons = [_neuron(rng, s) for s in (20.0, 45.0, 7.5, 60.0, 33.3)]
    cols = list(zip(*neurons))
    monkeypatch.setitem(sys.modules, "pandas", None)       # force the list-of-dicts form
    table = evaluate_many(*cols, names=[f"n{k}" for k in range(len(neurons))])
    assert isinstance(table, list) and len(table) == len(neurons)
    for k, (row, data) in enumerate(zip(table, neurons)):
        assert row["name"] == f"n{k}"
        rec = evaluate(*data)
        for key in COLUMNS:
            assert row[key] == pytest.approx(rec[key], rel=1e-12, abs=1e-12), (k, key)
    plain = evaluate_many(*cols)
    assert "name" not in plain[0]


def test_evaluate_many_dataframe_when_pandas_available():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(14)
    neurons = [_neuron(rng, 10.0) for _ in range(3)]
    df = evaluate_many(*zip(*neurons))
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(COLUMNS)


def test_evaluate_many_validation():
    rng = np.random.default_rng(15)
    p, t, pe, te = _neuron(rng, 10.0)
    with pytest.raises(InputError, match="one entry per neuron"):
        evaluate_many([p, p], [t], [pe, pe], [te, te])
    with pytest.raises(InputError, match="same length"):
        evaluate_many([p], [t[:-1]], [pe], [te])
    bad = p.copy()
    bad[3] = math.nan
    with pytest.raises(InputError, match=r"pred_rate\[1\]"):
        evaluate_many([p, bad], [t, t], [pe, pe], [te, te])
    with pytest.raises(InputError, match=r"true_events\[0\]"):
        evaluate_many([p], [t], [pe], [[0.1, math.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(evaluate_many([], [], [], [])) == 0
