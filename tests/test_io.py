"""Reading ΔF/F traces from files and writing results without pickles."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

import ens2zoo
from ens2zoo import InputError, SpikeResult
from ens2zoo.io.formats import read_traces, write_results

RNG = np.random.default_rng(42)
DATA = RNG.standard_normal((3, 250))  # 3 neurons × 25 s at 10 Hz


# ---------------------------------------------------------------- reading

def test_npy_roundtrip(tmp_path):
    np.save(tmp_path / "x.npy", DATA)
    out = read_traces(tmp_path / "x.npy")
    np.testing.assert_array_equal(out, DATA)
    np.save(tmp_path / "one.npy", DATA[0])
    assert read_traces(tmp_path / "one.npy").shape == (250,)
    np.testing.assert_array_equal(read_traces(tmp_path / "x.npy", transpose=True), DATA.T)


def test_npz_with_and_without_key(tmp_path):
    np.savez(tmp_path / "one.npz", dff=DATA)
    np.testing.assert_array_equal(read_traces(tmp_path / "one.npz"), DATA)
    np.testing.assert_array_equal(read_traces(tmp_path / "one.npz", key="dff"), DATA)

    np.savez(tmp_path / "two.npz", dff=DATA, neuropil=DATA * 2)
    np.testing.assert_array_equal(read_traces(tmp_path / "two.npz", key="neuropil"), DATA * 2)
    with pytest.raises(InputError) as info:
        read_traces(tmp_path / "two.npz")
    assert "dff" in str(info.value) and "neuropil" in str(info.value) and "--key" in str(info.value)
    with pytest.raises(InputError) as info:
        read_traces(tmp_path / "two.npz", key="f")
    assert "'f'" in str(info.value) and "dff, neuropil" in str(info.value)


def test_mat_v5(tmp_path):
    scipy.io.savemat(tmp_path / "a.mat", {"dff": DATA})
    np.testing.assert_array_equal(read_traces(tmp_path / "a.mat"), DATA)
    scipy.io.savemat(tmp_path / "b.mat", {"dff": DATA, "fr": np.array([[10.0]])})
    np.testing.assert_array_equal(read_traces(tmp_path / "b.mat", key="dff"), DATA)
    with pytest.raises(InputError, match="dff, fr|fr, dff"):
        read_traces(tmp_path / "b.mat")


def _write_mat73(path, variables: dict[str, np.ndarray]) -> None:
    """An HDF5 file laid out as MATLAB's ``save -v7.3`` writes it."""
    with h5py.File(path, "w", userblock_size=512) as fh:
        for name, value in variables.items():
            fh.create_dataset(name, data=np.asarray(value).T)  # MATLAB is column-major
        refs = fh.create_group("#refs#")  # MATLAB's internal references, never a user variable
        refs.create_dataset("a", data=np.zeros(2))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    header = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as fh:
        fh.write(header)


def test_mat_v73(tmp_path):
    path = tmp_path / "v73.mat"
    _write_mat73(path, {"dff": DATA})
    with pytest.raises(NotImplementedError):  # the file really is what SciPy calls v7.3
        scipy.io.loadmat(path)
    out = read_traces(path)
    assert out.shape == DATA.shape
    np.testing.assert_array_equal(out, DATA)

    two = tmp_path / "two.mat"
    _write_mat73(two, {"dff": DATA, "other": DATA[:1]})
    np.testing.assert_array_equal(read_traces(two, key="dff"), DATA)
    with pytest.raises(InputError) as info:
        read_traces(two)
    assert "dff" in str(info.value) and "other" in str(info.value) and "#refs#" not in str(info.value)


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"])
def test_hdf5_nested_key(tmp_path, suffix):
    path = tmp_path / f"rec{suffix}"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("session/plane0/dff", data=DATA)
        fh.create_dataset("session/plane0/frame_times", data=np.arange(250) / 10)
    np.testing.assert_array_equal(read_traces(path, key="session/plane0/dff"), DATA)  # not transposed
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert "session/plane0/dff" in str(info.value) and "session/plane0/frame_times" in str(info.value)
    with pytest.raises(InputError, match="session/plane0/dff"):
        read_traces(path, key="dff")

    single = tmp_path / f"single{suffix}"
    with h5py.File(single, "w") as fh:
        fh["traces"] = DATA
    np.testing.assert_array_equal(read_traces(single), DATA)


@pytest.mark.parametrize("suffix,delimiter", [(".csv", ","), (".tsv", "\t"), (".txt", " ")])
def test_text_neurons_in_rows(tmp_path, suffix, delimiter):
    path = tmp_path / f"x{suffix}"
    np.savetxt(path, DATA, delimiter=delimiter, fmt="%.17g")
    np.testing.assert_array_equal(read_traces(path), DATA)
    transposed = tmp_path / f"t{suffix}"
    np.savetxt(transposed, DATA.T, delimiter=delimiter, fmt="%.17g")  # frames × neurons
    np.testing.assert_array_equal(read_traces(transposed, transpose=True), DATA)


def test_single_row_csv_is_one_neuron(tmp_path):
    path = tmp_path / "x.csv"
    np.savetxt(path, DATA[:1], delimiter=",", fmt="%.17g")
    assert read_traces(path).shape == (1, 250)


def test_read_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_traces(tmp_path / "absent.npy")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported input format"):
        read_traces(tmp_path / "x.xlsx")
    np.save(tmp_path / "obj.npy", np.array([np.zeros(3), np.zeros(2)], dtype=object), allow_pickle=True)
    with pytest.raises(InputError) as info:
        read_traces(tmp_path / "obj.npy")
    assert "allow_pickle" not in str(info.value)  # never advise loading pickles
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(InputError, match="not numbers"):
        read_traces(tmp_path / "s.npy")


# ---------------------------------------------------------------- writing

def _result(spikes: bool = True) -> SpikeResult:
    rng = np.random.default_rng(1)
    n, t = 3, 600  # 10 s at 60 Hz from 100 input frames at 10 Hz
    counts = (rng.random((n, t)) < 0.02).astype(np.int32)
    counts[1] = 0  # a silent neuron
    counts[2, 10] = 2  # a double spike
    events = [np.repeat(np.arange(t) / 60.0, c) for c in counts]
    return SpikeResult(rate=rng.random((n, t)).astype(np.float32), spikes=counts if spikes else None,
                       events=events if spikes else [], sampling_rate=60.0, frame_rate=10.0, n_input_frames=100,
                       model="unit-test-model", sha256="ab" * 32, stride=2, nan_filled=3)


def _check_events(result: SpikeResult, event_times: np.ndarray, event_offsets: np.ndarray) -> None:
    assert event_offsets.shape == (result.n_neurons + 1,)
    assert event_offsets[0] == 0 and event_offsets[-1] == len(event_times)
    for i, events in enumerate(result.events):
        np.testing.assert_array_equal(event_times[event_offsets[i]:event_offsets[i + 1]], events)


def test_write_npz(tmp_path):
    result = _result()
    path = write_results(tmp_path / "out.npz", result, {"input": "x.npy"})
    assert path == tmp_path / "out.npz"
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["rate"], result.rate)
        np.testing.assert_array_equal(f["spikes"], result.spikes)
        assert f["spikes"].shape == (3, 600)
        np.testing.assert_allclose(f["times"], np.arange(600) / 60)  # sample j at j/60 s: frame f at f/10 s
        assert float(f["start_time"]) == 0.0 and "start_time + j/sampling_rate" in str(f["time_convention"])
        _check_events(result, f["event_times"], f["event_offsets"])
        assert str(f["model"]) == "unit-test-model"
        assert str(f["sha256"]) == "ab" * 32
        assert str(f["ens2zoo_version"]) == ens2zoo.__version__
        assert float(f["frame_rate"]) == 10.0 and float(f["sampling_rate"]) == 60.0
        assert int(f["stride"]) == 2 and int(f["nan_filled"]) == 3 and int(f["n_input_frames"]) == 100
        assert str(f["input"]) == "x.npy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]  # no temporary left


def test_write_mat(tmp_path):
    result = _result()
    write_results(tmp_path / "out.mat", result)
    m = scipy.io.loadmat(tmp_path / "out.mat")
    np.testing.assert_array_equal(m["rate"], result.rate)
    np.testing.assert_array_equal(m["spikes"], result.spikes)
    np.testing.assert_allclose(m["times"].ravel(), np.arange(600) / 60)
    _check_events(result, m["event_times"].ravel(), m["event_offsets"].ravel())
    assert str(m["model"][0]) == "unit-test-model"
    assert str(m["sha256"][0]) == "ab" * 32
    assert str(m["ens2zoo_version"][0]) == ens2zoo.__version__
    assert float(m["frame_rate"].squeeze()) == 10.0 and float(m["sampling_rate"].squeeze()) == 60.0


@pytest.mark.parametrize("suffix", [".h5", ".hdf5"])
def test_write_h5(tmp_path, suffix):
    result = _result()
    write_results(tmp_path / f"out{suffix}", result)
    with h5py.File(tmp_path / f"out{suffix}", "r") as fh:
        np.testing.assert_array_equal(fh["rate"][()], result.rate)
        np.testing.assert_array_equal(fh["spikes"][()], result.spikes)
        np.testing.assert_allclose(fh["times"][()], np.arange(600) / 60)
        _check_events(result, fh["event_times"][()], fh["event_offsets"][()])
        attrs = dict(fh.attrs)
    assert attrs["model"] == "unit-test-model" and attrs["sha256"] == "ab" * 32
    assert attrs["ens2zoo_version"] == ens2zoo.__version__
    assert attrs["frame_rate"] == 10.0 and attrs["sampling_rate"] == 60.0


def test_write_without_spikes(tmp_path):
    result = _result(spikes=False)
    write_results(tmp_path / "out.npz", result)
    with np.load(tmp_path / "out.npz", allow_pickle=False) as f:
        assert f["spikes"].size == 0
        assert f["event_offsets"].tolist() == [0]
        np.testing.assert_array_equal(f["rate"], result.rate)


def test_written_output_reads_back_as_traces(tmp_path):
    result = _result()
    write_results(tmp_path / "out.npz", result)
    np.testing.assert_array_equal(read_traces(tmp_path / "out.npz", key="rate"), result.rate)


def test_write_unsupported_suffix(tmp_path):
    with pytest.raises(InputError, match="unsupported output format"):
        write_results(tmp_path / "out.csv", _result())
    assert not (tmp_path / "out.csv").exists()


def test_write_replaces_existing_atomically(tmp_path):
    path = tmp_path / "out.npz"
    path.write_bytes(b"old")
    write_results(path, _result())
    with np.load(path, allow_pickle=False) as f:
        assert f["rate"].shape == (3, 600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]
