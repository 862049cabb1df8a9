"""Silence in, silence out: every zoo model, on flat input (see ens2zoo.inference.silence)."""

from __future__ import annotations

import numpy as np
import pytest

import ens2zoo
from ens2zoo.inference.silence import flat_frames
from ens2zoo.simulate import simulate_recording

ZOO = [n for n in ens2zoo.list_models() if ens2zoo.get_model_entry(n).status == "available"
       and ens2zoo.get_model_entry(n).source == "ens2zoo"]
FR = 30.0


@pytest.fixture(scope="module")
def masked_and_held():
    """Two simulated neurons (2 min at 30 Hz): one zeroed from 30 to 60 s, one held at its last value."""
    x = simulate_recording(n_neurons=2, duration_s=120.0, frame_rate=FR, seed=1).dff.copy()
    x[0, 900:1800] = 0.0
    x[1, 900:1800] = x[1, 899]
    return x


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_is_silent_on_flat_input(name, masked_and_held):
    model = ens2zoo.load(name)
    stride = 1 if model.readout == "whole-trace" else 4
    for flat in (np.zeros((1, 3000)), np.full((1, 3000), 0.3)):
        result = model.predict(flat, FR, stride=stride)
        assert result.rate.sum() / 100.0 < 0.3  # mean rate (Hz) over 100 s
        assert len(result.events[0]) == 0
    result = model.predict(masked_and_held, FR, stride=stride)
    for events in result.events:
        assert not ((events > 30.0 + 1.0) & (events < 60.0 - 1.0)).any()
        assert len(events) > 0  # the unmasked parts still give spikes


def test_created_models_keep_their_exact_function():
    """Without the guard (``create``), a constant window still produces output: the guard is what silences it."""
    net = ens2zoo.create("unet", features=3)
    assert not net.preprocessing.flat_guard
    guarded = ens2zoo.load("ens2-exc-v1")
    assert guarded.preprocessing.flat_guard
    unguarded = ens2zoo.create("unet", weights=guarded.entry.weights_path)
    x = np.zeros((1, 3000))
    assert unguarded.predict(x, FR, spikes=False).rate.sum() > 0
    assert guarded.predict(x, FR, spikes=False).rate.sum() == 0


def test_flat_frames_marks_only_long_identical_runs():
    x = np.random.default_rng(0).normal(size=300)
    x[100:120] = 0.5   # 20 frames = 0.67 s at 30 Hz: flat
    x[200:205] = 1.0   # 5 frames = 0.17 s: too short
    mask = flat_frames(x, 30.0)
    assert mask[100:120].all() and mask.sum() == 20
