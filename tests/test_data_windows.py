"""ens2zoo.data.TrainingWindows: the published window layout, as views, and sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ens2zoo.data import Dataset, Neuron, Recording, TrainingWindows, smooth_counts
from ens2zoo.errors import InputError

W = 96
HALF = W // 2


def _neuron(lengths, seed=0, sampling_rate=60.0, name="cell1", dataset="DS30-X-m-V1"):
    rng = np.random.default_rng(seed)
    recs = []
    for i, n in enumerate(lengths):
        spikes = rng.poisson(0.05, n).astype(np.int32)
        spikes[0] = 1  # spikes at both ends: the smoothing leaks into the padding
        spikes[-1] = 2
        rate = smooth_counts(spikes, sampling_rate)[HALF:HALF + n].astype(np.float32)
        recs.append(Recording(trace=rng.normal(0, 1, n).astype(np.float32), spikes=spikes,
                              rate=rate, event_times=np.zeros(int(spikes.sum())),
                              frame_rate=30.0, noise_level=1.0, firing_rate=1.0, index=i,
                              sampling_rate=sampling_rate))
    return Neuron(path=Path(f"/data/{dataset}/{name}.mat"), dataset=dataset, recordings=recs,
                  noise_level=1.0, firing_rate=1.0, frame_rate=30.0,
                  sampling_rate=sampling_rate)


def _published_windows(rec: Recording, sampling_rate=60.0):
    """The published segmentation, literally: pad, smooth, one copied row per frame."""
    trace = np.concatenate([np.zeros(HALF), rec.trace, np.zeros(HALF)]).astype(np.float32)
    spikes = np.concatenate([np.zeros(HALF), rec.spikes, np.zeros(HALF)])
    import scipy.ndimage
    smooth = scipy.ndimage.gaussian_filter(spikes.astype(float), sigma=0.025 * sampling_rate)
    n = len(spikes) - W
    x = np.zeros((n, W), np.float32)
    yy_rate = np.zeros((n, W), np.float32)
    yy_spike = np.zeros((n, W), int)
    for t in range(n):
        x[t] = trace[t:t + W]
        yy_rate[t] = smooth.astype(np.float32)[t:t + W]
        yy_spike[t] = spikes.astype(int)[t:t + W]
    return x, yy_rate, yy_spike


def test_windows_equal_the_published_segments():
    a, b = _neuron([150, 40], seed=1), _neuron([97], seed=2, name="cell2")
    win = TrainingWindows([a, b])
    assert len(win) == 150 + 40 + 97
    assert win.starts.dtype == np.int64
    first = 0
    for rec in [*a.recordings, *b.recordings]:
        x, yy_rate, yy_spike = _published_windows(rec)
        idx = np.arange(first, first + len(rec))
        traces, rates, spikes = win.batch(idx)
        assert traces.dtype == rates.dtype == spikes.dtype == np.float32
        assert traces.shape == (len(rec), W)
        np.testing.assert_array_equal(traces, x)
        np.testing.assert_allclose(rates, yy_rate, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(spikes, yy_spike)
        # the centre sample of window j is frame j of the recording
        np.testing.assert_array_equal(traces[:, HALF], rec.trace)
        np.testing.assert_allclose(rates[:, HALF], rec.rate, rtol=1e-6, atol=1e-7)
        first += len(rec)


def test_windows_are_views_not_copies():
    neuron = _neuron([300, 200])
    win = TrainingWindows(neuron)
    trace, rate, spikes = win.window_view(123)
    for view, base in ((trace, win.trace), (rate, win.rate), (spikes, win.spikes)):
        assert view.shape == (W,) and np.shares_memory(view, base)
    frames = 500 + 2 * HALF * 2
    assert win.trace.shape == (frames,)
    assert win.nbytes == 3 * 4 * frames + 8 * 500  # no per-window copy anywhere
    seg, frame = win.locate(123)
    assert (seg.recording, frame) == (0, 123)
    seg, frame = win.locate(300 + 7)
    assert (seg.recording, frame, seg.length) == (1, 7, 200)
    np.testing.assert_array_equal(win.window_view(307)[0][HALF], neuron.recordings[1].trace[7])


def test_datasets_are_flattened_and_rates_must_agree():
    ds = Dataset(name="DS30-X-m-V1", path=Path("/data/DS30-X-m-V1"),
                 neurons=[_neuron([100]), _neuron([50], name="cell2")])
    assert len(TrainingWindows([ds])) == 150
    assert len(TrainingWindows(ds)) == 150
    with pytest.raises(InputError, match="sampling rates"):
        TrainingWindows([_neuron([100]), _neuron([100], sampling_rate=30.0)])
    with pytest.raises(InputError, match="no recording"):
        TrainingWindows([])
    with pytest.raises(InputError, match="Neurons or Datasets"):
        TrainingWindows([np.zeros(10)])
    with pytest.raises(InputError, match="even"):
        TrainingWindows(ds, window=95)


def test_sample_batch_and_epoch():
    win = TrainingWindows(_neuron([400, 300]))
    t1, r1, s1 = win.sample_batch(np.random.default_rng(5), 64)
    t2, r2, _s2 = win.sample_batch(np.random.default_rng(5), 64)
    assert t1.shape == r1.shape == s1.shape == (64, W)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(r1, r2)
    seen = 0
    centres = []
    for traces, _, _ in win.epoch(np.random.default_rng(0), 128):
        seen += traces.shape[0]
        centres.append(traces[:, HALF])
    assert seen == len(win)
    all_frames = np.concatenate([r.trace for r in _neuron([400, 300]).recordings])
    np.testing.assert_array_equal(np.sort(np.concatenate(centres)), np.sort(all_frames))
    with pytest.raises(InputError, match="integer"):
        win.batch(np.array([0.5, 1.5]))


def test_subset_hours_draws_distinct_windows_and_shares_arrays():
    win = TrainingWindows(_neuron([3600, 3600]))  # 2 minutes at 60 Hz
    sub = win.subset_hours(1 / 60, seed=3)  # one minute
    assert len(sub) == 3600
    assert np.unique(sub.starts).size == len(sub)
    assert np.isin(sub.starts, win.starts).all()
    assert sub.trace is win.trace and sub.rate is win.rate
    assert sub.hours == pytest.approx(1 / 60)
    np.testing.assert_array_equal(win.subset_hours(1 / 60, seed=3).starts, sub.starts)
    assert not np.array_equal(win.subset_hours(1 / 60, seed=4).starts, sub.starts)
    # both recordings are drawn from (uniform over all windows)
    assert (sub.starts < 3600 + W).any() and (sub.starts >= 3600 + W).any()
    with pytest.raises(InputError, match="only"):
        win.subset_hours(1.0)
    with pytest.raises(InputError, match="positive"):
        win.subset_hours(0)


def test_windows_from_reference_neuron(reference_dir, ground_truth_dir, tmp_path, monkeypatch):
    from ens2zoo.data import load_neuron

    monkeypatch.setenv("ENS2ZOO_CACHE", str(tmp_path / "cache"))
    ref = np.load(reference_dir / "loader_reference.npz")
    neuron = load_neuron(ground_truth_dir / str(ref["file_1"]))  # 8 short 500 Hz trials
    win = TrainingWindows(neuron)
    assert len(win) == sum(len(r) for r in neuron.recordings)
    first = 0
    for j, rec in enumerate(neuron.recordings):
        traces, rates, spikes = win.batch(np.arange(first, first + len(rec)))
        np.testing.assert_allclose(traces[:, HALF], ref[f"file_1_trial_{j}_trace"], rtol=1e-4)
        np.testing.assert_allclose(rates[:, HALF], ref[f"file_1_trial_{j}_rate"], rtol=1e-4,
                                   atol=1e-7)
        np.testing.assert_array_equal(spikes[:, HALF], ref[f"file_1_trial_{j}_spikes"])
        first += len(rec)
