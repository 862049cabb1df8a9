"""Property tests of ens2zoo.metrics against slow references (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ens2zoo.benchmark.reference_metrics import (
    er_reference,
    van_rossum_trains_reference,
    vp_reference,
)
from ens2zoo.metrics import error_rate, van_rossum_trains, victor_purpura

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# continuous times, and times on a coarse grid (many exact ties and equal spikes)
_cont = st.lists(st.floats(0.0, 6.0, allow_nan=False, allow_infinity=False), max_size=18)
_grid = st.lists(st.integers(0, 300).map(lambda k: k / 50.0), max_size=18)
trains = st.one_of(_cont, _grid)
costs = st.sampled_from([0.1, 0.5, 1.0, 2.0, 10.0, 100.0])
windows = st.sampled_from([0.01, 0.05, 0.1, 0.5, 2.0])


@SETTINGS
@given(trains, trains, costs)
def test_vp_matches_reference_and_is_symmetric(a, b, cost):
    d = victor_purpura(a, b, cost)
    assert d == pytest.approx(vp_reference(a, b, cost), rel=1e-12, abs=1e-9)
    assert d == pytest.approx(victor_purpura(b, a, cost), rel=1e-12, abs=1e-9)
    assert abs(len(a) - len(b)) - 1e-9 <= d <= len(a) + len(b)


@SETTINGS
@given(trains, costs)
def test_vp_identity(a, cost):
    assert victor_purpura(a, a, cost) == 0.0


@SETTINGS
@given(trains, trains, trains, costs)
def test_vp_triangle_inequality(a, b, c, cost):
    assert victor_purpura(a, c, cost) <= (victor_purpura(a, b, cost)
                                          + victor_purpura(b, c, cost) + 1e-9)


@SETTINGS
@given(trains, trains)
def test_vp_tends_to_spike_count_sum_for_disjoint_trains(a, b):
    assume(not set(a) & set(b))
    if a and b:
        gap = min(abs(x - y) for x in a for y in b)
        big = 4.0 / gap                      # every shift now costs more than 2
    else:
        big = 1e6
    assert victor_purpura(a, b, big) == len(a) + len(b)
    assert victor_purpura(a, b, math.inf) == len(a) + len(b)
    # and the distance does not decrease with the cost
    assert victor_purpura(a, b, 1.0) <= victor_purpura(a, b, 10.0) + 1e-9


@SETTINGS
@given(trains, trains, windows)
def test_er_matches_reference_exactly(a, b, window):
    er = error_rate(a, b, window)
    assert 0.0 <= er <= 1.0
    # same arithmetic and tie-breaking as the full-table reference: bit-identical
    assert er == er_reference(a, b, window)


@SETTINGS
@given(trains, windows)
def test_er_identity(a, window):
    assert error_rate(a, a, window) == 0.0


@SETTINGS
@given(_cont, _cont, st.sampled_from([0.005, 0.02, 0.1, 1.0]))
def test_van_rossum_trains_reference_and_symmetry(a, b, tau):
    d = van_rossum_trains(a, b, tau)
    assert d == pytest.approx(van_rossum_trains_reference(a, b, tau), rel=1e-7, abs=1e-6)
    assert d == pytest.approx(van_rossum_trains(b, a, tau), rel=1e-9, abs=1e-7)
    assert d >= 0.0


def test_er_band_restriction_is_invisible_on_continuous_times():
    """Generic (tie-free) trains: the banded DP and an unrestricted full DP agree."""
    rng = np.random.default_rng(5)
    for _ in range(150):
        t_end = rng.uniform(0.5, 4.0)
        a = rng.uniform(0, t_end, rng.integers(1, 20))
        b = rng.uniform(0, t_end, rng.integers(1, 20))
        for window in (0.05, 0.5):
            assert error_rate(a, b, window) == er_reference(a, b, window, restricted=False)
