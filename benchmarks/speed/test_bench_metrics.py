"""Benchmarks of ens2zoo.metrics against elephant and the pure-Python references.

Run (all in one go)::

    .venv/bin/python -m pytest benchmarks/test_bench_metrics.py --benchmark-enable

Groups: ``vp-<n>`` (Victor–Purpura, cost 1/s) and ``er-<n>`` (error rate,
50 ms window) on Poisson ~5 Hz train pairs of ``n`` spikes, and
``evaluate_many`` on 1,000 neurons x 1 hour at 60 Hz.  Every benchmark checks
its value against ours.
"""

from __future__ import annotations

import numpy as np
import pytest

from ens2zoo.benchmark.reference_metrics import er_reference, vp_reference
from ens2zoo.metrics import error_rate, evaluate, evaluate_many, victor_purpura

RATE_HZ = 5.0
SIZES = (1000, 3000)


def poisson_pair(n_spikes: int, seed: int):
    """A 'true' Poisson train at ~5 Hz and a prediction: 70 % of it jittered
    by 20 ms plus 30 % false spikes, so both have about ``n_spikes`` spikes."""
    rng = np.random.default_rng(seed)
    duration = n_spikes / RATE_HZ
    true = np.sort(rng.uniform(0, duration, n_spikes))
    keep = true[rng.random(n_spikes) < 0.7]
    pred = np.concatenate([keep + rng.normal(0, 0.02, keep.size),
                           rng.uniform(0, duration, n_spikes - keep.size)])
    return np.sort(np.clip(pred, 0, duration)), true, duration


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"{n}spk")
def pair(request):
    return poisson_pair(request.param, seed=request.param)


def _group(kind, pair):
    return f"{kind}-{pair[1].size}"


# --------------------------------------------------------------------------- VP


def test_vp_ens2zoo(benchmark, pair):
    pred, true, _ = pair
    benchmark.group = _group("vp", pair)
    victor_purpura(pred, true, 1.0)                       # compile outside the timing
    d = benchmark(victor_purpura, pred, true, 1.0)
    assert d == pytest.approx(victor_purpura(true, pred, 1.0), rel=1e-12)


def test_vp_elephant(benchmark, pair):
    dissim = pytest.importorskip("elephant.spike_train_dissimilarity")
    pq = pytest.importorskip("quantities")
    neo = pytest.importorskip("neo")
    pred, true, duration = pair
    benchmark.group = _group("vp", pair)
    trains = [neo.SpikeTrain(pred * pq.s, t_stop=duration * pq.s),
              neo.SpikeTrain(true * pq.s, t_stop=duration * pq.s)]
    d = benchmark.pedantic(lambda: dissim.victor_purpura_distance(trains, 1.0 * pq.Hz)[0, 1],
                           rounds=3, iterations=1)
    assert d == pytest.approx(victor_purpura(pred, true, 1.0), rel=1e-12, abs=1e-9)


def test_vp_python_reference(benchmark, pair):
    pred, true, _ = pair
    benchmark.group = _group("vp", pair)
    d = benchmark.pedantic(vp_reference, args=(pred, true, 1.0), rounds=1, iterations=1)
    assert d == pytest.approx(victor_purpura(pred, true, 1.0), rel=1e-12, abs=1e-9)


# --------------------------------------------------------------------------- ER


def test_er_ens2zoo(benchmark, pair):
    pred, true, _ = pair
    benchmark.group = _group("er", pair)
    error_rate(pred, true, 0.05)
    er = benchmark(error_rate, pred, true, 0.05)
    assert 0.0 < er < 1.0


def test_er_python_reference(benchmark, pair):
    pred, true, _ = pair
    benchmark.group = _group("er", pair)
    er = benchmark.pedantic(er_reference, args=(pred, true, 0.05), rounds=1, iterations=1)
    assert er == error_rate(pred, true, 0.05)


# --------------------------------------------------------------------------- evaluate_many

N_NEURONS = 1000
HOUR_S = 3600.0
FS = 60.0


@pytest.fixture(scope="module")
def hour_of_neurons():
    """1,000 neurons x 1 h at 60 Hz: Poisson 5 Hz truth, smoothed rate (sigma 25 ms),
    a noisy scaled prediction and predicted spikes as in :func:`poisson_pair`."""
    from scipy.ndimage import gaussian_filter1d

    n_frames = int(HOUR_S * FS)
    pred_rates, true_rates, pred_events, true_events = [], [], [], []
    for k in range(N_NEURONS):
        rng = np.random.default_rng(10_000 + k)
        n_spikes = rng.poisson(RATE_HZ * HOUR_S)
        pred_ev, true_ev, _ = poisson_pair(n_spikes, 10_000 + k)
        counts = np.bincount(np.minimum((true_ev * FS).astype(np.int64), n_frames - 1),
                             minlength=n_frames).astype(np.float64)
        true_rate = gaussian_filter1d(counts, 1.5, mode="constant")
        pred_rate = 0.8 * true_rate + rng.normal(0.0, 0.02, n_frames)
        pred_rates.append(pred_rate)
        true_rates.append(true_rate)
        pred_events.append(pred_ev)
        true_events.append(true_ev)
    return pred_rates, true_rates, pred_events, true_events


def test_evaluate_many_1000_neurons_1h(benchmark, hour_of_neurons):
    benchmark.group = "evaluate_many"
    small = [x[:4] for x in hour_of_neurons]
    evaluate_many(*small)                                  # compile outside the timing
    table = benchmark.pedantic(evaluate_many, args=hour_of_neurons, rounds=3, iterations=1)
    assert len(table) == N_NEURONS
    for k in (0, 499, 999):                                # cheap spot checks
        row = table.iloc[k] if hasattr(table, "iloc") else table[k]
        rec = evaluate(*(x[k] for x in hour_of_neurons))
        for key, value in rec.items():
            assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (k, key)
