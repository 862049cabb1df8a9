"""Transient kinetics (``ens2zoo.inference.kinetics``) and the indicator advice of the input warnings."""

from __future__ import annotations

import numpy as np
import pytest

from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.reimage import reimage_trace
from ens2zoo.inference import kinetics as K
from ens2zoo.io.plausibility import input_warnings, model_indicators
from ens2zoo.simulate import simulate_recording
from ens2zoo.zoo.entries import ModelEntry


class _Model:
    """What the warnings read off a model: its name and zoo record."""

    def __init__(self, name: str, **record):
        self.name, self.architecture = name, "unet"
        self.entry = ModelEntry(name=name, architecture="unet", **record)


def _transients(peaks: list[int], amplitude: float, tau_frames: float, n: int = 1800) -> np.ndarray:
    """A 30 Hz trace at rest 0 with instantly rising, exponentially decaying transients, plus faint noise."""
    x = np.random.default_rng(0).normal(0, 1e-4, n)
    t = np.arange(n)
    for p in peaks:
        x += np.where(t >= p, amplitude * np.exp(-(t - p) / tau_frames), 0.0)
    return x


def test_peak_ratios_of_known_transients():
    trace = _transients(list(range(100, 1700, 150)), 0.8, tau_frames=6.0)
    rise, decay, height = K.peak_ratios(trace)
    assert rise.size == 11
    np.testing.assert_allclose(rise, 0.0, atol=2e-3)  # nothing one frame before an instant rise
    np.testing.assert_allclose(decay, np.exp(-3 / 6.0), atol=2e-3)  # e^{-lag/τ} after 3 frames
    np.testing.assert_allclose(height, 0.8, atol=2e-3)
    assert K.kinetics_of([(rise, decay, height)])[3] == 11
    assert np.isnan(K.kinetics_of([(rise[:4], decay[:4], height[:4])])[0])  # too few peaks: not measured


def test_kinetics_follow_the_frame_rate():
    rec = simulate_recording(n_neurons=3, duration_s=120.0, frame_rate=60.0, tau_rise=0.01, tau_decay=0.15,
                             amplitude=1.0, noise=0.02, seed=1)
    at60 = K.transient_kinetics(rec.dff, 60.0)
    from ens2zoo.inference.traces import resample

    at30 = K.transient_kinetics(resample(rec.dff, 60.0, 30.0), 30.0)
    np.testing.assert_array_equal(at60.peak_dff, at30.peak_dff)  # measured at 30 Hz either way
    assert K.transient_kinetics(rec.dff[:, ::4], 15.0) is None  # too slow to see the rise


def test_indicator_family_separates_the_two_kinds_of_transient():
    fast_large = K.Kinetics(np.array([0.45, 0.85, np.nan]), np.array([0.45, 0.8, 0.5]),
                            np.array([1.5, 0.15, 1.0]), np.array([40, 40, 3]))
    assert list(K.indicator_family(fast_large)) == [K.GCAMP8, K.CLASSIC, ""]


def test_model_indicators_from_the_record_or_its_training_data():
    assert model_indicators(_Model("a", indicators=("gcamp8f",))) == ["gcamp8f"]
    assert model_indicators(_Model("b", training_data=("DS09-GCaMP6f-m-V1", "DS02-OGB1-2-m-V1"))) == [
        "gcamp6f", "ogb1-2"]
    assert model_indicators(None) == []


def test_the_advice_names_the_rows_that_look_like_the_other_family():
    gcamp8_like = simulate_recording(n_neurons=4, duration_s=120.0, frame_rate=30.0, tau_rise=0.005,
                                     tau_decay=0.12, amplitude=1.2, noise=0.03, seed=2)
    classic = _Model("classic-model", training_data=("DS09-GCaMP6f-m-V1",))
    (advice,) = [m for m in input_warnings(gcamp8_like.dff, 30.0, classic, warn=False) if "jGCaMP8" in m]
    assert advice.startswith("4 of 4 neurons") and "Try ens2-gcamp8" in advice and "rows 0, 1, 2, 3" in advice
    assert "gcamp6f that classic-model was trained on" in advice
    with_rois = input_warnings(gcamp8_like.dff, 30.0, classic, warn=False, roi_index=[3, 9, 12, 40])
    assert any("ROIs 3, 9, 12, 40" in m for m in with_rois)
    gcamp8_model = _Model("g8", indicators=("gcamp8f", "gcamp8m", "gcamp8s"))
    assert not [m for m in input_warnings(gcamp8_like.dff, 30.0, gcamp8_model, warn=False) if "look like" in m]
    assert not [m for m in input_warnings(gcamp8_like.dff, 30.0, _Model("unknown"), warn=False) if "look like" in m]


@pytest.mark.parametrize("pattern, family", [("DS31*", K.GCAMP8), ("DS09*", K.CLASSIC)])
def test_real_neurons_at_30_hz(ground_truth_dir, pattern, family):
    (folder,) = find_datasets(ground_truth_dir, pattern)
    dataset = load_dataset(folder, progress=None)
    traces = [reimage_trace(n.recordings[0].trace, 30.0, None, np.random.default_rng(0)).trace
              for n in dataset.neurons[:6]]
    length = min(len(t) for t in traces)
    calls = K.indicator_family(K.transient_kinetics(np.stack([t[:length] for t in traces]), 30.0))
    assert np.mean(calls == family) >= 0.5, calls
