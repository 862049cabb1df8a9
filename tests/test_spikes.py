"""The Numba spike estimator against the slow published-style estimator."""

from __future__ import annotations

import numpy as np
import pytest

from ens2zoo.benchmark.reference import estimate_spikes as reference_estimate
from ens2zoo.inference.spikes import _pairwise_sum_f32, estimate_spikes, gaussian_kernel, spike_times


@pytest.mark.parametrize("n", [1, 5, 7, 8, 9, 100, 127, 128, 129, 255, 256, 300, 501, 1000, 4099])
def test_pairwise_sum_is_numpys_float32_sum(n):
    rng = np.random.default_rng(n)
    a = (rng.random(n) * rng.random(n) ** 6 * 10).astype(np.float32)
    assert np.float32(_pairwise_sum_f32(a, 0, n)) == a.sum()


def test_kernel_is_scipys():
    from scipy.ndimage import gaussian_filter1d

    impulse = np.zeros(31)
    impulse[15] = 1
    np.testing.assert_allclose(gaussian_filter1d(impulse, 1.5, mode="constant")[9:22], gaussian_kernel(1.5))


def _bursty_rate(rng, n):
    x = np.abs(rng.normal(0, 0.03, n))
    for _ in range(n // 150):
        c = rng.integers(0, n)
        x[c:c + rng.integers(3, 800)] += rng.uniform(0.0, 1.2)
    x[rng.random(n) < 0.2] = 0
    return x.astype(np.float32)


@pytest.mark.parametrize("seed", range(8))
def test_identical_to_reference_on_bursty_rates(seed):
    rng = np.random.default_rng(seed)
    rate = _bursty_rate(rng, 2500)
    np.testing.assert_array_equal(estimate_spikes(rate), reference_estimate(rate))


def test_quirks_of_the_published_state_machine():
    # a run starting at sample 0 and a run still open at the end get no spikes, as published
    rate = np.zeros(400, dtype=np.float32)
    rate[:30] = 0.5
    rate[100:130] = 0.5
    rate[380:] = 0.5
    got = estimate_spikes(rate)
    np.testing.assert_array_equal(got, reference_estimate(rate))
    assert got[:30].sum() == 0 and got[380:].sum() == 0 and got[100:130].sum() > 0


def test_runs_longer_than_500_samples_are_split_as_published():
    rng = np.random.default_rng(3)
    rate = np.zeros(3000, dtype=np.float32)
    rate[10:1700] = rng.uniform(0.05, 0.6, 1690).astype(np.float32)
    np.testing.assert_array_equal(estimate_spikes(rate), reference_estimate(rate))


def test_many_neurons_at_once_equal_one_by_one():
    rng = np.random.default_rng(11)
    rates = np.stack([_bursty_rate(rng, 1500) for _ in range(5)])
    batch = estimate_spikes(rates)
    for i in range(5):
        np.testing.assert_array_equal(batch[i], estimate_spikes(rates[i]))


def test_single_spike_is_recovered():
    from scipy.ndimage import gaussian_filter1d

    counts = np.zeros(600)
    counts[[100, 300, 301, 450]] = [1, 1, 1, 2]
    rate = gaussian_filter1d(counts, 1.5, mode="constant").astype(np.float32)
    got = estimate_spikes(rate)
    assert got.sum() == 5
    assert got[100] == 1 and got[450] == 2 and got[299:303].sum() == 2


def test_spike_times_repeat_counts():
    np.testing.assert_allclose(spike_times(np.array([0, 2, 0, 1])), [1 / 60, 1 / 60, 3 / 60])
    np.testing.assert_allclose(spike_times(np.array([1, 0, 1]), 30.0, start_time=2.0), [2.0, 2 + 2 / 30])


def test_spike_estimation_leaves_torch_threads_alone():
    import torch

    from ens2zoo.inference.spikes import estimate_spikes

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        estimate_spikes(np.random.default_rng(0).random((2, 1200)).astype(np.float32) * 0.1, 60.0, 0.025)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _count_reference(rate: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """The count estimator written out slowly: runs, largest-remainder apportionment, and each spike where
    the squared error of the re-filtered spike train (SciPy) to the run, zero-padded by the kernel's
    radius (6 samples) where the trace goes on, is smallest."""
    from scipy.ndimage import gaussian_filter1d

    rate = rate.astype(np.float32)
    above = rate >= np.float32(0.02 / sigma)
    runs, i = [], 0
    while i < len(rate):
        if not above[i]:
            i += 1
            continue
        j = i
        while j < len(rate) and above[j] and j - i < 500:
            j += 1
        runs.append((i, j))
        i = j
    masses = np.array([rate[a:b].astype(np.float64).sum() for a, b in runs])
    target = np.floor(masses)
    extra = int(np.floor(rate[rate > 0].astype(np.float64).sum() + 0.5) - target.sum())
    order = sorted(range(len(runs)), key=lambda r: -(masses[r] - target[r]))
    for k in range(extra):
        target[order[k % len(runs)]] += 1
    out = np.zeros(len(rate), dtype=np.int32)
    for (a, b), n in zip(runs, target):
        lo, hi = max(0, a - 6), min(len(rate), b + 6)
        piece = np.zeros(hi - lo)
        piece[a - lo:b - lo] = rate[a:b]
        spikes = np.zeros(len(rate) + 12)  # the spike train, with room for the kernel beyond the trace
        for _ in range(int(n)):
            losses = []
            for k in range(a, b):
                trial = spikes.copy()
                trial[6 + k] += 1
                smooth = gaussian_filter1d(trial, sigma, mode="constant")[6 + lo:6 + hi]
                losses.append(((piece - smooth) ** 2).sum())
            spikes[6 + a + int(np.argmin(losses))] += 1
        out[a:b] = spikes[6 + a:6 + b]
    return out


@pytest.mark.parametrize("seed", range(4))
def test_count_estimator_equals_its_slow_reference(seed):
    rng = np.random.default_rng(100 + seed)
    rate = (_bursty_rate(rng, 900) * rng.uniform(0.2, 1.0)).astype(np.float32)
    got = estimate_spikes(rate, estimator="count")
    np.testing.assert_array_equal(got, _count_reference(rate))
    assert abs(got.sum() - rate[rate > 0].astype(np.float64).sum()) <= 0.5


def _bumps(masses: dict[int, float], width: float = 4.0) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    impulses = np.zeros(600)
    impulses[list(masses)] = list(masses.values())
    return gaussian_filter1d(impulses, width, mode="constant").astype(np.float32)


def test_count_estimator_apportions_the_remainders_by_size():
    # isolated bumps of mass 0.3, 0.9 and 0.6: round(1.8) = 2 spikes, to the two largest remainders, each at its
    # bump's centre
    got = estimate_spikes(_bumps({100: 0.3, 300: 0.9, 450: 0.6}), estimator="count")
    assert np.flatnonzero(got).tolist() == [300, 450] and got.sum() == 2
    # four bumps of 0.45: round(1.8) = 2 spikes, ties to the earlier runs; the published rule gives none (each run
    # sums to < 0.5, and a spike's 25 ms Gaussian overshoots a bump this wide and low)
    rate = _bumps({100: 0.45, 250: 0.45, 400: 0.45, 550: 0.45})
    assert np.flatnonzero(estimate_spikes(rate, estimator="count")).tolist() == [100, 250]
    assert estimate_spikes(rate).sum() == 0


def test_count_estimator_keeps_exact_spike_trains_and_the_edges():
    from scipy.ndimage import gaussian_filter1d

    counts = np.zeros(600)
    counts[[3, 100, 300, 301, 450, 596]] = [1, 1, 1, 1, 2, 1]
    rate = gaussian_filter1d(counts, 1.5, mode="constant").astype(np.float32)
    got = estimate_spikes(rate, estimator="count")
    np.testing.assert_array_equal(got, counts)
    # the runs at both edges touch the trace's first and last samples: the published estimator leaves them empty
    assert estimate_spikes(rate)[[3, 596]].tolist() == [0, 0]


def test_unknown_spike_estimator_is_refused():
    from ens2zoo.errors import InputError

    with pytest.raises(InputError, match="'greedy' gives ENS²'s published spikes"):
        estimate_spikes(np.zeros(100, dtype=np.float32), estimator="oasis")
