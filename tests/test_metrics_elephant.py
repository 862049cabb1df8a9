"""ens2zoo.metrics against elephant (optional ``bench`` dependency)."""

from __future__ import annotations

import numpy as np
import pytest

from ens2zoo.metrics import van_rossum_trains, victor_purpura

elephant_dissim = pytest.importorskip("elephant.spike_train_dissimilarity")
pq = pytest.importorskip("quantities")
neo = pytest.importorskip("neo")


def _st(times, t_stop):
    return neo.SpikeTrain(np.asarray(times) * pq.s, t_stop=t_stop * pq.s)


def _pairs():
    rng = np.random.default_rng(21)
    for n, m in [(0, 5), (5, 0), (1, 1), (40, 55), (200, 180), (300, 20)]:
        t_end = 60.0
        a = np.sort(rng.uniform(0, t_end, n))
        b = np.sort(np.concatenate([a[: m // 2] + rng.normal(0, 0.05, min(m // 2, n)),
                                    rng.uniform(0, t_end, m - min(m // 2, n))]))
        b = np.clip(b, 0, t_end)
        yield a, b, t_end


@pytest.mark.parametrize("cost", [0.5, 1.0, 2.0, 10.0])
def test_victor_purpura_equals_elephant(cost):
    for a, b, t_end in _pairs():
        want = elephant_dissim.victor_purpura_distance(
            [_st(a, t_end), _st(b, t_end)], cost * pq.Hz)[0, 1]
        assert victor_purpura(a, b, cost) == pytest.approx(want, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("tau", [0.005, 0.025, 0.5])
def test_van_rossum_trains_equals_elephant(tau):
    import warnings
    for a, b, t_end in _pairs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = elephant_dissim.van_rossum_distance(
                [_st(a, t_end), _st(b, t_end)], tau * pq.s)[0, 1]
        assert van_rossum_trains(a, b, tau) == pytest.approx(want, rel=1e-9, abs=1e-6)
