"""ens2zoo.dff: neuropil subtraction, running-percentile baseline, ΔF/F (against known values)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ens2zoo
from ens2zoo.errors import InputError
from ens2zoo.io.dff import dff, running_percentile
from ens2zoo.simulate import simulate_recording


def exact_running_percentile(x: np.ndarray, h: int, p: float) -> np.ndarray:
    """The slow reference: np.percentile of every frame's centred window, truncated at the edges."""
    x = np.atleast_2d(x)
    out = np.empty_like(x, dtype=np.float64)
    for t in range(x.shape[1]):
        out[:, t] = np.percentile(x[:, max(0, t - h): t + h + 1], p, axis=1)
    return out


def test_lazy_export():
    assert ens2zoo.dff is dff and "dff" in ens2zoo.__all__


def test_recovers_known_dff_baseline_and_neuropil():
    sim = simulate_recording(n_neurons=3, duration_s=40, frame_rate=30.0, noise=0.0, firing_rate=0.5, seed=3)
    rng = np.random.default_rng(1)
    f0 = np.array([[150.0], [300.0], [80.0]])
    neuropil = 40 + 10 * np.sin(np.arange(sim.dff.shape[1]) / 50.0)[None] + rng.normal(0, 2, sim.dff.shape)
    F = f0 * (1 + sim.dff) + 0.7 * neuropil
    out = dff(F, neuropil, frame_rate=30.0, baseline_window_s=20)
    assert out.kept.tolist() == [0, 1, 2]
    # noise-free, sparse transients: the 8th percentile of each window is the true F0 (to the transients' tails)
    np.testing.assert_allclose(out.baseline, np.broadcast_to(f0, F.shape), rtol=0.01)
    np.testing.assert_allclose(out.dff, sim.dff, atol=0.012)
    assert out.recipe == {"neuropil": 0.7, "baseline_window_s": 20.0, "baseline_percentile": 8.0,
                          "frame_rate": 30.0, "baseline_step_frames": 20}
    # without the neuropil the answer is wrong: the test can fail
    assert np.abs(dff(F, None, frame_rate=30.0, baseline_window_s=20).dff - sim.dff).max() > 0.05


def test_fast_baseline_matches_exact():
    rng = np.random.default_rng(0)
    fr, n_frames, h = 30.0, 4000, 300  # 20 s window at 30 Hz
    t = np.arange(n_frames) / fr
    x = 200 + 40 * np.sin(2 * np.pi * t / 60)[None] + 10 * rng.standard_normal((3, n_frames))
    exact = exact_running_percentile(x, h, 8)
    fast = running_percentile(x, h, 8)
    # whole windows: exact (SciPy's rank filter, interpolated like np.percentile)
    np.testing.assert_allclose(fast[:, h:-h], exact[:, h:-h], rtol=1e-12)
    # truncated edges: grid every 20 frames + interpolation; stated bound: < 0.2 noise SD (σ = 10 here)
    assert np.max(np.abs(fast - exact)) < 0.2 * 10
    assert np.max(np.abs(fast - exact) / exact) < 0.01
    # a percentile that falls between order statistics
    np.testing.assert_allclose(running_percentile(x, 100, 33.3)[:, 100:-100],
                               exact_running_percentile(x, 100, 33.3)[:, 100:-100], rtol=1e-12)
    np.testing.assert_allclose(running_percentile(x, 100, 8, step=1), exact_running_percentile(x, 100, 8))


def test_rois_with_nonpositive_baseline_are_left_out():
    sim = simulate_recording(n_neurons=3, duration_s=20, frame_rate=30.0, seed=0)
    F = 100 * (1 + sim.dff)
    neuropil = np.full_like(F, 50.0)
    neuropil[1] = 200.0  # 100 − 0.7·200 < 0
    with pytest.warns(UserWarning, match=r"left out 1 of 3 ROIs .*\(1\).*--neuropil"):
        out = dff(F, neuropil, frame_rate=30.0)
    assert out.kept.tolist() == [0, 2] and out.dff.shape == (2, F.shape[1])
    with pytest.raises(InputError, match="every ROI"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dff(F[1:2], neuropil[1:2], frame_rate=30.0)


@pytest.mark.parametrize("kwargs,words", [
    ({"frame_rate": None}, "frame rate"),
    ({"frame_rate": 30.0, "neuropil": -1}, "neuropil"),
    ({"frame_rate": 30.0, "baseline_percentile": 120}, "percentile"),
    ({"frame_rate": 30.0, "baseline_window_s": 0}, "window"),
])
def test_bad_parameters(kwargs, words):
    with pytest.raises(InputError, match=words):
        dff(np.full((2, 300), 100.0), **kwargs)


def test_shape_mismatch_and_nan():
    with pytest.raises(InputError, match="same ROIs"):
        dff(np.ones((2, 300)), np.ones((3, 300)), frame_rate=30.0)
    bad = np.ones((2, 300))
    bad[1, 5] = np.nan
    with pytest.raises(InputError, match=r"ROIs \[1\]"):
        dff(bad, frame_rate=30.0)
