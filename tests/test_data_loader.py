"""ens2zoo.data: parity of the ground-truth loader with the published one, the
preprocessing on hand-made files with known answers, skip reporting and the cache."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ens2zoo.data import (
    RawTrial,
    build_neuron,
    load_dataset,
    load_neuron,
    preprocess_recording,
    read_trials,
)
from ens2zoo.data import cache as data_cache
from ens2zoo.data import neuron as data_neuron
from ens2zoo.errors import InputError

FR = 60.0
N = 600
T0 = 0.5  # first time stamp of the synthetic recordings, seconds


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ENS2ZOO_CACHE", str(tmp_path / "cache"))


# --------------------------------------------------------------------------- parity
def _reference(reference_dir: Path):
    return np.load(reference_dir / "loader_reference.npz")


@pytest.mark.parametrize("k", [0, 1, 2])
def test_parity_with_published_loader(reference_dir, ground_truth_dir, k):
    ref = _reference(reference_dir)
    path = ground_truth_dir / str(ref[f"file_{k}"])
    cold = load_neuron(path)  # computes and writes the cache
    warm = load_neuron(path)  # reads the cache
    for neuron in (cold, warm):
        assert len(neuron.recordings) == int(ref[f"file_{k}_n_trials"])
        np.testing.assert_allclose(neuron.noise_level, float(ref[f"file_{k}_noise_level"]),
                                   rtol=1e-12)
        np.testing.assert_allclose(neuron.firing_rate, float(ref[f"file_{k}_firing_rate"]),
                                   rtol=1e-12)
        for j, rec in enumerate(neuron.recordings):
            p = f"file_{k}_trial_{j}_"
            assert rec.trace.dtype == np.float32 and rec.rate.dtype == np.float32
            assert rec.trace.shape == ref[p + "trace"].shape
            np.testing.assert_allclose(rec.trace, ref[p + "trace"], rtol=1e-4, atol=1e-7)
            np.testing.assert_array_equal(rec.spikes, ref[p + "spikes"])
            np.testing.assert_allclose(rec.rate, ref[p + "rate"], rtol=1e-4, atol=1e-7)
            np.testing.assert_array_equal(rec.event_times, ref[p + "event_times"])
    assert neuron.dataset == path.parent.name


def test_reference_neuron_skips_are_reported(reference_dir, ground_truth_dir):
    ref = _reference(reference_dir)
    path = ground_truth_dir / str(ref["file_1"])  # the 500 Hz DS03 neuron
    neuron = load_neuron(path, cache=False)
    n_cells = len(read_trials(path))
    assert len(neuron.recordings) + len(neuron.skipped) == n_cells
    assert neuron.skipped and all("no spike" in why for _, why in neuron.skipped)
    kept = {r.index for r in neuron.recordings}
    assert kept.isdisjoint(i for i, _ in neuron.skipped)


def test_trials_lacking_fields_are_skipped(ground_truth_dir):
    path = ground_truth_dir / "DS03-Cal520-m-S1" / "CAttached_S1_Cal520_cell5_mini.mat"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    neuron = load_neuron(path, cache=False)
    missing = [i for i, why in neuron.skipped if "missing field" in why]
    assert missing == [1, 2, 3]


# ------------------------------------------------------------------ synthetic file
def _write_cattached(path: Path, trials: list[dict]) -> Path:
    cells = np.empty((1, len(trials)), dtype=object)
    for i, trial in enumerate(trials):
        cells[0, i] = trial
    scipy.io.savemat(path, {"CAttached": cells})
    return path


def _times(n: int = N, fr: float = FR) -> np.ndarray:
    return T0 + np.arange(n) / fr


def _events(frames, times, extra=()) -> np.ndarray:
    """events_AP column vector (units of 1e-4 s) for spikes on the given frames."""
    ev = [np.round(times[f] * 1e4) for f in frames] + list(extra)
    return np.array(ev, dtype=float).reshape(-1, 1)


GOOD_FRAMES = [5, 100, 200, 200, 350, 599]  # frames 5 and 599 fall in the trimmed ends


@pytest.fixture
def synthetic(tmp_path) -> tuple[Path, dict]:
    rng = np.random.default_rng(1)
    t = _times()
    good_trace = rng.normal(0, 0.1, N)
    nan_trace = np.concatenate([rng.normal(0, 0.1, N), np.full(20, 1e6)])  # longer than time
    nan_times = t.copy()
    nan_times[-10:] = np.nan
    trials = [
        # 0: good; one spike before the first frame and one NaN spike are dropped
        {"fluo_time": t[None, :], "fluo_mean": good_trace[None, :],
             "events_AP": _events(GOOD_FRAMES, t, extra=[0.2e4, np.nan]), "F0": np.zeros((0, 0))},
        # 1: no events_AP field
        {"fluo_time": t[None, :], "fluo_mean": good_trace[None, :]},
        # 2: NaN time stamps at the end, fluo_mean longer than fluo_time, int32 events
        {"fluo_time": nan_times[None, :], "fluo_mean": nan_trace.astype(np.float32)[:, None],
             "events_AP": _events([100, 300], t).astype(np.int32)},
        # 3: every spike after the imaging window
        {"fluo_time": t[None, :], "fluo_mean": good_trace[None, :],
             "events_AP": np.array([[(t[-1] + 5.0) * 1e4]])},
        # 4: too short to trim half a second at each end
        {"fluo_time": t[None, :20], "fluo_mean": good_trace[None, :20],
             "events_AP": _events([10], t)},
        # 5: spikes only in the first 0.3 s, which trimming removes
        {"fluo_time": t[None, :], "fluo_mean": good_trace[None, :],
             "events_AP": _events([3, 10], t)},
        # 6: all spike times NaN
        {"fluo_time": t[None, :], "fluo_mean": good_trace[None, :],
             "events_AP": np.array([[np.nan]])},
    ]
    folder = tmp_path / "DS30-GCaMP6f-m-V1"
    folder.mkdir()
    path = _write_cattached(folder / "synthetic_cell1.mat", trials)
    return path, {"t": t, "good_trace": good_trace, "nan_trace": nan_trace, "trials": trials}


def _gaussian_smooth(counts: np.ndarray, sigma: float) -> np.ndarray:
    radius = int(4.0 * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return np.convolve(counts.astype(float), kernel / kernel.sum(), mode="same")


def test_synthetic_skips_are_reported(synthetic, caplog):
    path, _ = synthetic
    with caplog.at_level(logging.INFO, logger="ens2zoo.data"):
        neuron = load_neuron(path)
    assert [r.index for r in neuron.recordings] == [0, 2]
    reasons = dict(neuron.skipped)
    assert sorted(reasons) == [1, 3, 4, 5, 6]
    assert "events_AP" in reasons[1]
    assert "no spike inside the imaging window" in reasons[3]
    assert "too few frames" in reasons[4]
    assert "no spike inside the trimmed window" in reasons[5]
    assert "no spike" in reasons[6]
    for index in reasons:
        assert f"trial {index} skipped" in caplog.text
    # the skip list survives the cache
    assert load_neuron(path).skipped == neuron.skipped


def test_synthetic_binning_and_alignment(synthetic):
    path, info = synthetic
    rec = load_neuron(path).recordings[0]
    n = len(rec)
    assert n in (N - 60, N - 59)  # floor(fr_res) frames trimmed in all
    # at 60 Hz the Fourier resampling is the identity: find the trimmed offset
    first = [f for f in (30, 31) if np.allclose(rec.trace, info["good_trace"][f:f + n],
                                                atol=1e-6)]
    assert len(first) == 1, "trace must be the input trimmed by ceil(fr/2) frames"
    first = first[0]
    expected = np.zeros(n, dtype=int)
    for f in GOOD_FRAMES:
        if first <= f < first + n:
            expected[f - first] += 1
    assert expected.sum() == 4 and expected.max() == 2  # two spikes share frame 200
    np.testing.assert_array_equal(rec.spikes, expected)
    inside = [f for f in GOOD_FRAMES if first <= f < first + n]
    np.testing.assert_allclose(np.sort(rec.event_times),
                               (np.array(inside) - first + 1) / FR, atol=1e-4)
    np.testing.assert_allclose(rec.rate, _gaussian_smooth(expected, 0.025 * FR), atol=1e-6)
    assert rec.rate.sum() == pytest.approx(4.0, abs=1e-5)
    assert rec.frame_rate == pytest.approx(FR)
    assert rec.firing_rate == pytest.approx(4 / ((n + 1) / FR))
    assert rec.noise_level == pytest.approx(
        np.median(np.abs(np.diff(info["good_trace"][first:first + n]))) * 100 / np.sqrt(FR),
        rel=1e-5)


def test_synthetic_nan_time_stamps_are_dropped(synthetic):
    path, info = synthetic
    rec = load_neuron(path).recordings[1]
    assert rec.index == 2
    valid = N - 10
    raw = RawTrial(index=2, times=info["t"][:valid],
                   trace=info["nan_trace"].astype(np.float32)[:valid],
                   spike_times=info["trials"][2]["events_AP"].ravel() / 1e4)
    expected = preprocess_recording(raw)
    assert np.all(np.abs(rec.trace) < 10), "samples past fluo_time must be ignored"
    np.testing.assert_array_equal(rec.trace, expected.trace)
    np.testing.assert_array_equal(rec.spikes, expected.spikes)
    assert rec.spikes.sum() == 2


def test_synthetic_neuron_statistics(synthetic):
    path, info = synthetic
    neuron = load_neuron(path)
    trials = info["trials"]
    with_fields = [0, 2, 3, 4, 5, 6]
    traces, n_events, last_times = [], 0, 0.0
    for i in with_fields:
        times = trials[i]["fluo_time"].ravel()
        ok = ~np.isnan(times)
        traces.append(trials[i]["fluo_mean"].ravel()[:times.size][ok])
        ev = trials[i]["events_AP"].ravel().astype(float)
        n_events += int(np.sum(~np.isnan(ev)))
        last_times += times[ok][-1]
    frame_rate = np.mean([r.frame_rate for r in neuron.recordings])
    concat = np.concatenate(traces)
    assert neuron.frame_rate == pytest.approx(frame_rate)
    assert neuron.firing_rate == pytest.approx(n_events / last_times)
    assert neuron.noise_level == pytest.approx(
        np.median(np.abs(np.diff(concat))) * 100 / np.sqrt(frame_rate))
    assert neuron.dataset == "DS30-GCaMP6f-m-V1"


def test_other_sampling_rate(synthetic):
    path, _ = synthetic
    neuron = load_neuron(path, sampling_rate=30.0)
    rec = neuron.recordings[0]
    assert rec.sampling_rate == 30.0 and neuron.sampling_rate == 30.0
    assert len(rec) in (N // 2 - 30, N // 2 - 29)
    assert rec.spikes.sum() == 4
    np.testing.assert_allclose(rec.rate, _gaussian_smooth(rec.spikes, 0.025 * 30), atol=1e-6)
    assert np.all(np.diff(np.sort(rec.event_times)) >= 0)
    assert rec.event_times.min() >= 1 / 30 - 1 / 60


# ------------------------------------------------------------------------- errors
def test_unusable_files_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_neuron(tmp_path / "absent.mat")
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a mat file at all" * 20)
    with pytest.raises(InputError, match="junk.mat"):
        load_neuron(junk)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"dff": np.zeros((2, 10))})
    with pytest.raises(InputError, match="CAttached"):
        load_neuron(other)
    with pytest.raises(InputError, match="sampling_rate"):
        load_neuron(other, sampling_rate=0)
    with pytest.raises(InputError, match="no such folder"):
        load_dataset(tmp_path / "nothing")
    empty = tmp_path / "DS31-empty-m-V1"
    empty.mkdir()
    with pytest.raises(InputError, match="no .mat"):
        load_dataset(empty)


# -------------------------------------------------------------------------- cache
def _cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").rglob("*"))


def test_cache_hit_skips_preprocessing(synthetic, tmp_path, monkeypatch):
    path, _ = synthetic
    first = load_neuron(path)
    files = [p for p in _cache_files(tmp_path) if p.is_file()]
    assert len(files) == 1 and files[0].suffix == ".npz"
    assert not any(p.name.endswith(".tmp") for p in _cache_files(tmp_path))
    with np.load(files[0], allow_pickle=False) as z:  # readable without pickle
        assert int(z["format_version"]) == data_cache.FORMAT_VERSION

    def fail(*args, **kwargs):
        raise AssertionError("preprocessing ran although the cache is warm")

    monkeypatch.setattr("ens2zoo.data.loader.build_neuron", fail)
    second = load_neuron(path)
    assert second.path == path and second.frame_rate == first.frame_rate
    for a, b in zip(first.recordings, second.recordings, strict=True):
        np.testing.assert_array_equal(a.trace, b.trace)
        np.testing.assert_array_equal(a.spikes, b.spikes)
        np.testing.assert_array_equal(a.rate, b.rate)
        np.testing.assert_array_equal(a.event_times, b.event_times)
        assert (a.index, a.frame_rate, a.noise_level, a.firing_rate) == \
            (b.index, b.frame_rate, b.noise_level, b.firing_rate)
    # another target rate is another cache entry
    monkeypatch.setattr("ens2zoo.data.loader.build_neuron", data_neuron.build_neuron)
    load_neuron(path, sampling_rate=30.0)
    assert len([p for p in _cache_files(tmp_path) if p.is_file()]) == 2


def test_corrupt_cache_is_rebuilt(synthetic, tmp_path, caplog):
    path, _ = synthetic
    good = load_neuron(path)
    (cached,) = [p for p in _cache_files(tmp_path) if p.is_file()]
    cached.write_bytes(cached.read_bytes()[:200])  # truncated
    with caplog.at_level(logging.WARNING, logger="ens2zoo.data"):
        again = load_neuron(path)
    assert "unreadable cache" in caplog.text
    np.testing.assert_array_equal(again.recordings[0].trace, good.recordings[0].trace)
    with np.load(cached, allow_pickle=False) as z:  # rewritten, whole again
        assert z["trace"].size == sum(len(r) for r in good.recordings)


def test_changed_source_is_a_cache_miss(synthetic, tmp_path):
    path, info = synthetic
    before = load_neuron(path)
    trials = info["trials"][:1]
    _write_cattached(path, trials)  # same name, other content
    after = load_neuron(path)
    assert len(after.recordings) == 1 and len(before.recordings) == 2


def test_unwritable_cache_warns_and_still_loads(synthetic, tmp_path, monkeypatch):
    path, _ = synthetic
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setenv("ENS2ZOO_CACHE", str(blocker / "cache"))  # below a file: cannot mkdir
    monkeypatch.setattr(data_cache, "_warned_unwritable", set())
    with pytest.warns(RuntimeWarning, match="cannot write the ground-truth cache"):
        neuron = load_neuron(path)
    assert len(neuron.recordings) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_neuron(path)  # warned once per folder, not per file


def test_cache_disabled_writes_nothing(synthetic, tmp_path):
    path, _ = synthetic
    load_neuron(path, cache=False)
    assert not (tmp_path / "cache").exists()
    elsewhere = tmp_path / "elsewhere"
    load_neuron(path, cache=elsewhere)
    assert list(elsewhere.rglob("*.npz"))


def test_build_neuron_matches_load_neuron(synthetic):
    path, _ = synthetic
    a, b = build_neuron(path), load_neuron(path)
    assert a.noise_level == b.noise_level and a.firing_rate == b.firing_rate and a.frame_rate == b.frame_rate
    assert len(a.recordings) == len(b.recordings) > 0
    for x, y in zip(a.recordings, b.recordings):
        for attr in ("trace", "spikes", "rate", "event_times"):
            np.testing.assert_array_equal(getattr(x, attr), getattr(y, attr))
        assert (x.frame_rate, x.noise_level, x.firing_rate, x.index) == (y.frame_rate, y.noise_level,
                                                                          y.firing_rate, y.index)


# ------------------------------------------------------------------------ dataset
def test_load_dataset_synthetic(synthetic, tmp_path):
    path, info = synthetic
    _write_cattached(path.parent / "synthetic_cell2.mat", info["trials"][3:4])  # nothing usable
    _write_cattached(path.parent / "synthetic_cell3.mat", info["trials"][:1])
    seen = []
    ds = load_dataset(path.parent, progress=lambda done, total, name: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [n.path.name for n in ds.neurons] == ["synthetic_cell1.mat", "synthetic_cell3.mat"]
    assert [name for name, _ in ds.skipped] == ["synthetic_cell2.mat"]
    assert "no spike" in ds.skipped[0][1]
    assert ds.cell_type is None and ds.indicator == "GCaMP6f" and ds.species == "mouse"
    assert ds.region == "V1" and ds.number == 30
    assert ds.n_recordings == 3
    assert ds.hours == pytest.approx(sum(len(r) for r in ds.recordings) / 60 / 3600)
    assert ds.frame_rate == pytest.approx(np.mean([n.frame_rate for n in ds.neurons]))


@pytest.mark.slow
def test_load_small_real_dataset(ground_truth_dir):
    folder = ground_truth_dir / "DS23-OGB1-m-PV-V1"
    ds = load_dataset(folder)
    assert ds.cell_type == "inhibitory" and len(ds.neurons) == 7 and ds.n_recordings == 7
    assert 0.25 < ds.hours < 0.30  # 0.29 h of imaging, minus the trimmed ends
    assert 15 < ds.frame_rate < 16
    for neuron in ds.neurons:
        for rec in neuron.recordings:
            assert rec.trace.dtype == np.float32 and np.all(np.isfinite(rec.trace))
            assert rec.spikes.sum() == len(rec.event_times)
            assert rec.event_times.min() >= 1 / 60 - 1 / 120
            assert rec.event_times.max() <= len(rec) / 60 + 1e-9
