"""What a prediction returns: ``SpikeResult``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

import ens2zoo
from ens2zoo import SpikeResult
from ens2zoo.inference.traces import resampled_length


def _synthetic(frame_rate: float, n_input_frames: int, n: int = 3, seed: int = 0) -> SpikeResult:
    rng = np.random.default_rng(seed)
    t = resampled_length(n_input_frames, frame_rate, 60.0)
    spikes = rng.poisson(0.05, size=(n, t)).astype(np.int32)
    spikes[0, -1] = 3  # a burst in the very last model frame
    spikes[-1, 0] = 2  # and in the very first
    events = [np.repeat(np.arange(t) / 60.0, c) for c in spikes]
    rate = rng.gamma(0.3, 0.1, size=(n, t)).astype(np.float32)
    return SpikeResult(rate=rate, spikes=spikes, events=events, sampling_rate=60.0, frame_rate=frame_rate,
                       n_input_frames=n_input_frames)


@pytest.fixture(scope="module")
def tiny_model():
    """A small random U-Net with a few spikes (sparse rates keep spike estimation fast)."""
    torch.manual_seed(0)
    model = ens2zoo.create("unet", features=3)
    with torch.no_grad():
        model.net.conv.bias -= 0.2
    return model


@pytest.mark.parametrize("frame_rate,n_frames", [(10.0, 300), (30.0, 600), (7.8, 234), (15.6, 500),
                                                 (60.0, 1200), (100.0, 2000), (13.0, 333)])
def test_to_frame_rate_preserves_counts(frame_rate, n_frames):
    result = _synthetic(frame_rate, n_frames)
    rate, spikes = result.to_frame_rate()
    assert rate.shape == (3, n_frames) and spikes.shape == (3, n_frames)
    assert rate.dtype == np.float32 and spikes.dtype == np.int32
    np.testing.assert_array_equal(spikes.sum(axis=1), result.spikes.sum(axis=1))  # exactly
    np.testing.assert_allclose(rate.sum(axis=1), result.rate.astype(np.float64).sum(axis=1), rtol=1e-5)
    assert (spikes >= 0).all() and (rate >= 0).all()
    if frame_rate == 60.0:  # same rate: nothing moves
        np.testing.assert_array_equal(spikes, result.spikes)
        np.testing.assert_allclose(rate, result.rate)


def test_to_frame_rate_puts_spikes_in_the_frame_they_follow():
    # 10 Hz input, 60 Hz model: sample j (time j/60) goes to input frame floor(j/6) (frame f at f/10 s)
    t = 600
    spikes = np.zeros((1, t), dtype=np.int32)
    spikes[0, [5, 6, 59, 60, 599]] = [1, 2, 1, 3, 4]  # times 0.083, 0.1, 0.983, 1.0, 9.983 s
    result = SpikeResult(rate=spikes.astype(np.float32), spikes=spikes, events=[], sampling_rate=60.0,
                         frame_rate=10.0, n_input_frames=100)
    _, binned = result.to_frame_rate()
    expected = np.zeros(100, dtype=np.int32)
    expected[[0, 1, 9, 10, 99]] = [1, 2, 1, 3, 4]
    np.testing.assert_array_equal(binned[0], expected)


def test_with_start_time_moves_times_and_events():
    result = _synthetic(30.0, 600)
    moved = result.with_start_time(12.5)
    np.testing.assert_allclose(moved.times, 12.5 + np.arange(1200) / 60.0)
    for before, after in zip(result.events, moved.events):
        np.testing.assert_allclose(after, before + 12.5)
    again = moved.with_start_time(0.0)  # idempotent round trip
    np.testing.assert_allclose(again.events[0], result.events[0])
    np.testing.assert_array_equal(moved.to_frame_rate()[1], result.to_frame_rate()[1])


def test_to_frame_rate_without_spikes():
    result = _synthetic(10.0, 300)
    result.spikes = None
    rate, spikes = result.to_frame_rate()
    assert spikes is None and rate.shape == (3, 300)


def test_times_and_events(tiny_model):
    trace = np.random.default_rng(1).standard_normal((2, 300))  # 30 s at 10 Hz
    result = tiny_model.predict(trace, 10.0, stride=8)
    assert result.rate.shape == (2, 1800) and result.spikes.shape == (2, 1800)
    np.testing.assert_allclose(result.times, np.arange(1800) / 60.0)  # sample j at j/60: frame f at f/10
    assert result.times[0] == 0.0 and result.times[-1] == pytest.approx(30.0 - 1 / 60)
    assert result.sampling_rate == 60.0 and result.frame_rate == 10.0 and result.n_input_frames == 300
    assert result.n_neurons == 2 and result.stride == 8 and result.nan_filled == 0
    assert result.model == "unet" and result.sha256 is None
    assert result.rate.dtype == np.float32 and result.spikes.dtype == np.int32
    assert result.spikes.sum() > 0
    for counts, events in zip(result.spikes, result.events):
        np.testing.assert_allclose(events, np.repeat(result.times, counts))
    rate, spikes = result.to_frame_rate()
    assert rate.shape == spikes.shape == (2, 300)
    np.testing.assert_array_equal(spikes.sum(axis=1), [len(e) for e in result.events])


def test_event_arrays():
    events = [np.array([0.5, 1.0, 1.0]), np.zeros(0), np.array([2.0]), np.zeros(0)]
    result = SpikeResult(rate=np.zeros((4, 120), np.float32), spikes=None, events=events, sampling_rate=60.0,
                         frame_rate=30.0, n_input_frames=60)
    times, offsets = result.event_arrays()
    assert offsets.tolist() == [0, 3, 3, 4, 4]
    assert offsets.dtype == np.int64 and times.dtype == np.float64
    np.testing.assert_array_equal(times, [0.5, 1.0, 1.0, 2.0])
    for i, e in enumerate(events):
        np.testing.assert_array_equal(times[offsets[i]:offsets[i + 1]], e)

    empty = SpikeResult(rate=np.zeros((2, 120), np.float32), spikes=None, events=[], sampling_rate=60.0,
                        frame_rate=30.0, n_input_frames=60)
    times, offsets = empty.event_arrays()
    assert times.size == 0 and offsets.tolist() == [0]


def test_one_dimensional_input_is_one_neuron(tiny_model):
    trace = np.random.default_rng(2).standard_normal(400)  # 20 s at 20 Hz
    result = tiny_model.predict(trace, 20.0, stride=8)
    assert result.n_neurons == 1 and result.rate.shape == (1, 1200)
    assert len(result.events) == 1
    two_d = tiny_model.predict(trace[None, :], 20.0, stride=8)
    np.testing.assert_array_equal(result.rate, two_d.rate)
    rate, _ = result.to_frame_rate()
    assert rate.shape == (1, 400)


def test_spikes_false(tiny_model):
    trace = np.random.default_rng(3).standard_normal((2, 200))
    full = tiny_model.predict(trace, 10.0, stride=8)
    result = tiny_model.predict(trace, 10.0, stride=8, spikes=False)
    assert result.spikes is None and result.events == []
    np.testing.assert_array_equal(result.rate, full.rate)  # the rate does not depend on it
    rate, spikes = result.to_frame_rate()
    assert spikes is None and rate.shape == (2, 200)


def test_nan_filled_is_counted(tiny_model):
    trace = np.random.default_rng(4).standard_normal((2, 200))
    trace[0, [3, 4, 100]] = np.nan
    trace[1, -1] = -np.inf
    result = tiny_model.predict(trace, 10.0, stride=8, nan="interpolate")
    assert result.nan_filled == 4
    assert np.isfinite(result.rate).all()


def test_real_prediction_counts_survive_to_frame_rate(reference_dir):
    """Published weights on real data: spikes found, and kept exactly when binned to 10 Hz."""
    dff = scipy.io.loadmat(reference_dir / "sample_data.mat")["dff"][:1, :300]  # 30 s at 10 Hz
    model = ens2zoo.create("unet", weights=reference_dir / "ens2_exc_state_dict.pt")
    result = model.predict(dff, 10.0)
    n_spikes = int(result.spikes.sum())
    assert n_spikes > 0 and n_spikes == len(result.events[0])
    rate, spikes = result.to_frame_rate()
    assert spikes.shape == (1, 300) and int(spikes.sum()) == n_spikes
    assert rate.sum() == pytest.approx(float(result.rate.sum()), rel=1e-5)
