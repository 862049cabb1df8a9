"""ens2zoo.dff: neuropil subtraction, running-percentile baseline, ΔF/F (against known values)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ens2zoo
from ens2zoo.errors import InputError
from ens2zoo.io.dff import BASELINE_METHOD, dff, running_percentile
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
    exact = dff(F, neuropil, frame_rate=30.0, baseline_window_s=20, baseline_smoothing_s=0)
    # noise-free, sparse transients: the 8th percentile of each window is the true F0 (to the transients' tails)
    np.testing.assert_allclose(exact.baseline, np.broadcast_to(f0, F.shape), rtol=0.01)
    np.testing.assert_allclose(exact.dff, sim.dff, atol=0.012)
    out = dff(F, neuropil, frame_rate=30.0, baseline_window_s=20)
    assert out.kept.tolist() == [0, 1, 2]
    # smoothed (the default): transients widen by ~0.3 s, so where a truncated 20 s window at an end is
    # busy the percentile rises by up to 3 % (no noise here to gain from the smoothing)
    np.testing.assert_allclose(out.baseline, np.broadcast_to(f0, F.shape), rtol=0.035)
    assert np.median(np.abs(out.baseline / f0 - 1)) < 0.002
    assert out.recipe == {"neuropil": 0.7, "baseline_window_s": 20.0, "baseline_percentile": 8.0,
                          "baseline_smoothing_s": 0.3, "baseline_method": BASELINE_METHOD,
                          "frame_rate": 30.0, "baseline_step_frames": 20}
    # without the neuropil the answer is wrong: the test can fail
    assert np.abs(dff(F, None, frame_rate=30.0, baseline_window_s=20).dff - sim.dff).max() > 0.05


def _photon_limited(mean_photons: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(F, true ΔF/F) of 3 ROIs, 120 s at 30 Hz: Poisson photon counts of F0 · (1 + ΔF/F), sparse transients."""
    sim = simulate_recording(n_neurons=3, duration_s=120, frame_rate=30.0, noise=0.0, firing_rate=0.3,
                             amplitude=0.3, seed=seed)
    rng = np.random.default_rng(seed)
    return rng.poisson(mean_photons * (1 + sim.dff)).astype(np.float64), sim.dff


@pytest.mark.parametrize("photons,rest_max,scale,raw_rest", [(20.0, 0.06, (0.97, 1.07), 0.3),
                                                             (5.0, 0.12, (0.98, 1.2), 1.2)])
def test_baseline_rests_near_zero_under_photon_noise(photons, rest_max, scale, raw_rest):
    """Noise SD 22 % and 45 % of F0 (20 and 5 photons per frame): the smoothed baseline keeps ΔF/F at rest
    within +0.06 / +0.12 of 0 and its scale near 1, where the raw 8th percentile, ~1.4 noise SDs low,
    rests at +0.3 / +1.2 and scales 1.3× / 2.4×.  (The smoothing cuts that bias ~5.6×, not to 0.)"""
    F, true = _photon_limited(photons)
    rest = true < 0.02
    out = dff(F, frame_rate=30.0)
    raw = dff(F, frame_rate=30.0, baseline_smoothing_s=0)
    for i in range(3):
        assert 0 < np.median(out.dff[i][rest[i]]) < rest_max
        assert scale[0] < np.polyfit(true[i], out.dff[i], 1)[0] < scale[1]
        assert np.median(raw.dff[i][rest[i]]) > raw_rest
    assert raw.recipe["baseline_method"] == "running percentile of the neuropil-corrected trace"


def test_smoothing_is_a_gaussian_of_sigma_seconds():
    """The baseline is the running percentile of the trace smoothed by σ = baseline_smoothing_s · frame_rate."""
    from scipy.ndimage import gaussian_filter1d

    F, _ = _photon_limited(10.0, seed=1)
    out = dff(F, frame_rate=30.0, baseline_window_s=20, baseline_smoothing_s=0.5, step=1)
    smooth = gaussian_filter1d(F, 15.0, axis=1, mode="nearest")
    for t in (0, 150, 1800, 3599):  # edges and interior: the exact percentile of the truncated window
        lo, hi = max(0, t - 300), t + 301
        np.testing.assert_allclose(out.baseline[:, t], np.percentile(smooth[:, lo:hi], 8, axis=1), rtol=1e-12)


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
    ({"frame_rate": 30.0, "baseline_smoothing_s": -1}, "smoothing"),
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
