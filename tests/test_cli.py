"""The ``ens2zoo`` command line, run in-process (and once as a real program)."""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest
import scipy.io

import ens2zoo
from ens2zoo.cli.main import main

FRAME_RATE = 10.0


@pytest.fixture(scope="module")
def published(reference_dir):
    return reference_dir / "ens2_exc_state_dict.pt"


@pytest.fixture(scope="module")
def model(published):
    return ens2zoo.create("unet", weights=published)


@pytest.fixture(scope="module")
def dff(reference_dir):
    """Two real neurons × 20 s at 10 Hz (the published sample recording)."""
    return scipy.io.loadmat(reference_dir / "sample_data.mat")["dff"][:2, :200].astype(np.float64)


@pytest.fixture(scope="module")
def expected(model, dff):
    return model.predict(dff, FRAME_RATE)


@pytest.fixture(scope="module")
def expected8(model, dff):
    return model.predict(dff, FRAME_RATE, stride=8)


@pytest.fixture
def input_npy(tmp_path, dff):
    path = tmp_path / "traces.npy"
    np.save(path, dff)
    return path


def _predict_args(input_path, published, *extra):
    return ["predict", str(input_path), "--frame-rate", str(FRAME_RATE), "--arch", "unet",
            "--weights", str(published), *map(str, extra)]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Architectures" in out and "Zoo models" in out
    for arch in ("unet", "mlp", "cnn", "lstm", "gru"):
        assert f"  {arch} " in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert "not trained yet" in lines["gru-example"]
    for name in ("ens2-exc", "ens2-inh"):
        assert ens2zoo.get_model_entry(name).status in lines[name]


def test_predict_npz_and_plot(tmp_path, capsys, input_npy, published, expected):
    out, png = tmp_path / "result.npz", tmp_path / "plot.png"
    assert main(_predict_args(input_npy, published, "-o", out, "--plot", png)) == 0
    stdout = capsys.readouterr().out
    assert f"wrote {out}" in stdout and "2 neurons" in stdout and "200 frames" in stdout
    with np.load(out, allow_pickle=False) as f:
        np.testing.assert_allclose(f["rate"], expected.rate, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(f["spikes"], expected.spikes)
        times, offsets = expected.event_arrays()
        np.testing.assert_array_equal(f["event_times"], times)
        np.testing.assert_array_equal(f["event_offsets"], offsets)
        assert float(f["frame_rate"]) == FRAME_RATE and str(f["input"]) == str(input_npy)
        assert str(f["sha256"]) == ens2zoo.zoo.weights.sha256_file(published)
    assert expected.spikes.sum() > 0  # real data, real weights: spikes are found
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the per-neuron spike counts are reported
    for i, events in enumerate(expected.events):
        assert any(line.split()[:2] == [str(i), str(len(events))] for line in stdout.splitlines())


@pytest.mark.parametrize("suffix", [".mat", ".h5"])
def test_predict_mat_and_h5(tmp_path, capsys, input_npy, published, expected8, suffix):
    out = tmp_path / f"result{suffix}"
    assert main(_predict_args(input_npy, published, "--stride", 8, "-o", out)) == 0
    capsys.readouterr()
    if suffix == ".mat":
        m = scipy.io.loadmat(out)
        rate, spikes = m["rate"], m["spikes"]
    else:
        with h5py.File(out, "r") as fh:
            rate, spikes = fh["rate"][()], fh["spikes"][()]
            assert fh.attrs["frame_rate"] == FRAME_RATE
    np.testing.assert_allclose(rate, expected8.rate, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(spikes, expected8.spikes)


def test_predict_stride(tmp_path, capsys, input_npy, published, model, dff):
    out = tmp_path / "strided.npz"
    assert main(_predict_args(input_npy, published, "--stride", 4, "-o", out)) == 0
    assert "stride 4" in capsys.readouterr().out
    strided = model.predict(dff, FRAME_RATE, stride=4)
    with np.load(out, allow_pickle=False) as f:
        np.testing.assert_allclose(f["rate"], strided.rate, rtol=1e-5, atol=1e-6)
        assert int(f["stride"]) == 4  # its accuracy: tests/test_inference.py


def test_predict_default_output_is_beside_the_input(tmp_path, capsys, monkeypatch, input_npy, published):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(_predict_args(input_npy, published, "--stride", 8)) == 0
    capsys.readouterr()
    assert (input_npy.parent / "traces.ens2zoo.npz").is_file()
    assert not any(elsewhere.iterdir())


def test_predict_transposed_csv(tmp_path, capsys, dff, published, expected8):
    path = tmp_path / "traces.csv"
    np.savetxt(path, dff.T, delimiter=",", fmt="%.17g")  # frames × neurons
    out = tmp_path / "csv.npz"
    assert main(_predict_args(path, published, "--transpose", "--stride", 8, "-o", out)) == 0
    capsys.readouterr()
    with np.load(out, allow_pickle=False) as f:
        np.testing.assert_allclose(f["rate"], expected8.rate, rtol=1e-5, atol=1e-6)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert ens2zoo.__version__ in capsys.readouterr().out


def test_program_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "ens2zoo", "list"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "unet" in proc.stdout and "ens2-exc" in proc.stdout and "gru-example" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_predict_spike_estimator(tmp_path, capsys, input_npy, published, expected8):
    from ens2zoo.inference.spikes import estimate_spikes

    out = tmp_path / "counted.npz"
    assert main(_predict_args(input_npy, published, "--stride", 8, "--spike-estimator", "count", "-o", out)) == 0
    capsys.readouterr()
    with np.load(out, allow_pickle=False) as f:
        assert str(f["spike_estimator"]) == "count"
        np.testing.assert_array_equal(f["spikes"], estimate_spikes(f["rate"], estimator="count"))
        np.testing.assert_allclose(f["rate"], expected8.rate, rtol=1e-5, atol=1e-6)
        assert not np.array_equal(f["spikes"], expected8.spikes)  # the published weights' default: greedy
    with pytest.raises(SystemExit) as exit_:
        main(_predict_args(input_npy, published, "--spike-estimator", "oasis", "-o", out))
    assert exit_.value.code == 2 and "invalid choice: 'oasis'" in capsys.readouterr().err
