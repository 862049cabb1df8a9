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
