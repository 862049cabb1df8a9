"""Bad input: one clear line on stderr, exit status ≠ 0, no traceback, no (partial) output file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from cli_run import run_cli

import ens2zoo
from ens2zoo import InputError, UnknownNameError, WeightsError
from ens2zoo.cli.main import main
from ens2zoo.io.formats import read_traces, write_results

GOOD = np.random.default_rng(0).standard_normal((2, 200))  # 2 neurons × 20 s at 10 Hz


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A default U-Net whose rates are all zero (fast: no spikes to estimate)."""
    model = ens2zoo.create("unet")
    with torch.no_grad():
        model.net.conv.bias.fill_(-100.0)
    path = tmp_path_factory.mktemp("weights") / "unet.safetensors"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "unet_features3.safetensors"
    ens2zoo.create("unet", features=3).save(path)
    return path


def _save(path: Path, data) -> Path:
    np.save(path, data)
    return path


def _nan_traces() -> np.ndarray:
    data = GOOD.copy()
    data[0, 10] = np.nan
    data[1, 50:53] = np.inf
    return data


def _ragged_csv(path: Path) -> Path:
    path.write_text("1,2,3,4\n5,6,7\n")
    return path


def _random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(7).bytes(4096))
    return path


def _two_arrays(path: Path) -> Path:
    np.savez(path, dff=GOOD, neuropil=GOOD)
    return path


def _make_input(tmp_path: Path, kind: str) -> Path:
    makers = {
        "good": lambda: _save(tmp_path / "in.npy", GOOD),
        "nan": lambda: _save(tmp_path / "in.npy", _nan_traces()),
        "empty": lambda: _save(tmp_path / "in.npy", np.zeros((0,))),
        "empty2d": lambda: _save(tmp_path / "in.npy", np.zeros((3, 0))),
        "short": lambda: _save(tmp_path / "in.npy", GOOD[:, :9]),  # 0.9 s at 10 Hz
        "3d": lambda: _save(tmp_path / "in.npy", np.zeros((2, 3, 200))),
        "ragged": lambda: _ragged_csv(tmp_path / "in.csv"),
        "corrupt.npz": lambda: _random_bytes(tmp_path / "in.npz"),
        "corrupt.mat": lambda: _random_bytes(tmp_path / "in.mat"),
        "corrupt.h5": lambda: _random_bytes(tmp_path / "in.h5"),
        "two": lambda: _two_arrays(tmp_path / "in.npz"),
    }
    return makers[kind]()


# (case id, input kind, extra CLI arguments (with --frame-rate unless given), words the message must contain)
CLI_CASES = [
    ("missing-frame-rate", "good", ["NOFR"], ["--frame-rate", "required", "Hz"]),
    ("zero-frame-rate", "good", ["--frame-rate=0"], ["frame rate", "positive", "Hz"]),
    ("negative-frame-rate", "good", ["--frame-rate=-10"], ["frame rate", "positive", "Hz"]),
    ("nan-frame-rate", "good", ["--frame-rate=nan"], ["frame rate", "positive"]),
    ("nan-in-trace", "nan", [], ["4 NaN/inf samples", "neurons [0, 1]", "--nan interpolate"]),
    ("empty", "empty", [], ["empty"]),
    ("empty-2d", "empty2d", [], ["empty"]),
    ("too-short", "short", [], ["0.9 s", "shorter than 1 s"]),
    ("3-d", "3d", [], ["(2, 3, 200)", "2-D"]),
    ("ragged-csv", "ragged", [], ["cannot read", "columns"]),
    ("corrupt-npz", "corrupt.npz", [], ["cannot read", "in.npz"]),
    ("corrupt-mat", "corrupt.mat", [], ["cannot read", "in.mat"]),
    ("corrupt-h5", "corrupt.h5", [], ["cannot read", "in.h5"]),
    ("missing-key", "two", ["--key", "traces"], ["'traces'", "dff, neuropil", "--key"]),
    ("no-key", "two", [], ["dff, neuropil", "--key"]),
    ("wrong-shape-weights", "good", ["SMALLW", "--arch", "unet"], ["do not fit architecture 'unet'", "unet_features3"]),
    ("wrong-hparam-for-weights", "good", ["SMALLW", "--arch", "unet", "--hparam", "features=4"],
     ["do not fit architecture 'unet'", "unet_features3"]),
    ("weights-missing", "good", ["--weights", "/nonexistent/w.safetensors"], ["does not exist"]),
    ("unknown-model", "good", ["--model", "ens2-exx", "NOW"], ["unknown zoo model 'ens2-exx'", "ens2-exc"]),
    ("model-and-weights", "good", ["--model", "ens2-exc"], ["either --model", "not both"]),
    ("bad-stride", "good", ["--stride", "0"], ["stride", "1"]),
    ("bad-output-suffix", "good", ["OUT=out.csv"], ["output must end in"]),
    ("cuda", "good", ["--device", "cuda"], ["CUDA is not available", "cpu"]),
]


def _argv(tmp_path: Path, kind: str, extra: list[str], weights: Path, small_weights: Path) -> tuple[list[str], Path]:
    inp = _make_input(tmp_path, kind)
    out = tmp_path / "out.npz"
    argv = ["predict", str(inp)]
    extra = list(extra)
    if "NOFR" in extra:
        extra.remove("NOFR")
    elif not any(a.startswith("--frame-rate") for a in extra):
        argv += ["--frame-rate", "10"]
    for token in [a for a in extra if a.startswith("OUT=")]:
        extra.remove(token)
        out = tmp_path / token[4:]
    if "SMALLW" in extra:
        extra.remove("SMALLW")
        argv += ["--weights", str(small_weights)]
    elif "NOW" in extra:
        extra.remove("NOW")
    elif "--weights" not in extra:
        argv += ["--weights", str(weights)]
    return argv + extra + ["-o", str(out)], out


@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
@pytest.mark.parametrize("case,kind,extra,words", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input(tmp_path, capsys, weights, small_weights, case, kind, extra, words, existing):
    if case == "cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    argv, out = _argv(tmp_path, kind, extra, weights, small_weights)
    before = b"previous results, must survive\x00\xff"
    if existing:
        out.write_bytes(before)
    listing = sorted(p.name for p in tmp_path.iterdir())
    code = run_cli(argv)
    captured = capsys.readouterr()
    assert code != 0
    err = captured.err.strip()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert len(err.splitlines()) == 1, err
    assert err.startswith("ens2zoo: error: ")
    for word in words:
        assert word in err, (word, err)
    if existing:
        assert out.read_bytes() == before
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # no temporary or plot left behind


def test_cli_nan_interpolate_succeeds_and_reports(tmp_path, capsys, weights):
    inp = _make_input(tmp_path, "nan")
    out = tmp_path / "out.npz"
    argv = ["predict", str(inp), "--frame-rate", "10", "--weights", str(weights), "--nan", "interpolate",
            "--stride", "8", "-o", str(out)]
    assert run_cli(argv) == 0
    captured = capsys.readouterr()
    assert "filled 4 NaN/inf samples" in captured.out
    assert captured.err.strip() == ""
    with np.load(out, allow_pickle=False) as f:
        assert int(f["nan_filled"]) == 4
        assert np.isfinite(f["rate"]).all() and f["rate"].shape == (2, 1200)


def test_cli_debug_shows_traceback(tmp_path, weights):
    inp = _make_input(tmp_path, "good")
    with pytest.raises(InputError, match="positive"):
        main(["--debug", "predict", str(inp), "--frame-rate=0", "--weights", str(weights)])


# ---------------------------------------------------------------- the Python API

def _model():
    return ens2zoo.create("unet", features=3)


API_CASES = {
    "frame-rate-none": lambda p: _model().predict(GOOD, None),
    "frame-rate-zero": lambda p: _model().predict(GOOD, 0),
    "frame-rate-negative": lambda p: _model().predict(GOOD, -10.0),
    "frame-rate-nan": lambda p: _model().predict(GOOD, float("nan")),
    "frame-rate-inf": lambda p: _model().predict(GOOD, float("inf")),
    "frame-rate-text": lambda p: _model().predict(GOOD, "fast"),
    "nan-in-trace": lambda p: _model().predict(_nan_traces(), 10.0),
    "nan-policy": lambda p: _model().predict(GOOD, 10.0, nan="ignore"),
    "all-nan-neuron": lambda p: _model().predict(np.full((1, 200), np.nan), 10.0, nan="interpolate"),
    "empty": lambda p: _model().predict(np.zeros(0), 10.0),
    "empty-2d": lambda p: _model().predict(np.zeros((3, 0)), 10.0),
    "too-short": lambda p: _model().predict(GOOD[:, :9], 10.0),
    "3-d": lambda p: _model().predict(np.zeros((2, 3, 200)), 10.0),
    "ragged-list": lambda p: _model().predict([list(range(200)), list(range(150))], 10.0),
    "stride-zero": lambda p: _model().predict(GOOD, 10.0, stride=0),
    "stride-too-big": lambda p: _model().predict(GOOD, 10.0, stride=97),
    "stride-float": lambda p: _model().predict(GOOD, 10.0, stride=2.5),
    "batch-size-zero": lambda p: _model().predict(GOOD, 10.0, batch_size=-1),
    "ragged-csv": lambda p: read_traces(_make_input(p, "ragged")),
    "corrupt-npz": lambda p: read_traces(_make_input(p, "corrupt.npz")),
    "corrupt-mat": lambda p: read_traces(_make_input(p, "corrupt.mat")),
    "corrupt-h5": lambda p: read_traces(_make_input(p, "corrupt.h5")),
    "missing-key": lambda p: read_traces(_make_input(p, "two"), key="traces"),
    "no-key": lambda p: read_traces(_make_input(p, "two")),
    "missing-file": lambda p: read_traces(p / "absent.npy"),
    "cuda-create": lambda p: ens2zoo.create("unet", features=3, device="cuda"),
    "cuda-predict": lambda p: _model().predict(GOOD, 10.0, device="cuda"),
    "bad-device": lambda p: _model().predict(GOOD, 10.0, device="tpu"),
}


#: words each API error message must contain
API_WORDS = {
    'frame-rate-none': ['frame rate is missing', 'Hz'],
    'frame-rate-zero': ['frame rate 0', 'positive'],
    'frame-rate-negative': ['-10.0', 'positive'],
    'frame-rate-nan': ['nan', 'positive'],
    'frame-rate-inf': ['inf', 'positive'],
    'frame-rate-text': ["'fast'", 'not a number'],
    'nan-in-trace': ['NaN', 'interpolate'],
    'nan-policy': ["'ignore'", 'interpolate'],
    'all-nan-neuron': ['neuron 0', 'no finite sample'],
    'empty': ['empty', '(1, 0)'],
    'empty-2d': ['empty', '(3, 0)'],
    'too-short': ['0.9 s', 'shorter than 1 s'],
    '3-d': ['(2, 3, 200)', '2-D'],
    'ragged-list': ['ragged', 'pad or cut'],
    'stride-zero': ['stride=0', '1 (exact)'],
    'stride-too-big': ['stride=97', '96'],
    'stride-float': ['stride=2.5', 'integer'],
    'batch-size-zero': ['batch_size=-1', 'positive'],
    'ragged-csv': ['in.csv', 'cannot read'],
    'corrupt-npz': ['in.npz', 'cannot read'],
    'corrupt-mat': ['in.mat', 'cannot read'],
    'corrupt-h5': ['in.h5', 'cannot read'],
    'missing-key': ["'traces'", '--key'],
    'no-key': ['dff, neuropil', '--key'],
    'missing-file': ['absent.npy', 'does not exist'],
    'cuda-create': ['CUDA is not available', 'cpu'],
    'cuda-predict': ['CUDA is not available', 'cpu'],
    'bad-device': ["'tpu'", 'cuda']}


@pytest.mark.parametrize("case", list(API_CASES))
def test_api_raises_input_error(tmp_path, case):
    if case.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(InputError) as info:
        API_CASES[case](tmp_path)
    msg = str(info.value)
    assert msg and "\n" not in msg
    for word in API_WORDS[case]:  # the message names the problem and the fix
        assert word in msg, (word, msg)
    assert isinstance(info.value, ValueError)  # InputError is a ValueError for callers that catch those


def test_api_weights_and_names(tmp_path, small_weights):
    with pytest.raises(WeightsError, match="'unet'"):
        ens2zoo.create("unet", weights=small_weights)
    with pytest.raises(UnknownNameError, match="ens2-exc"):
        ens2zoo.load("ens2-exx")


def test_h5_with_missing_nested_key_lists_datasets(tmp_path):
    path = tmp_path / "in.h5"
    with h5py.File(path, "w") as fh:
        fh["a/b/dff"] = GOOD
    with pytest.raises(InputError, match="a/b/dff"):
        read_traces(path, key="a/dff")


# ---------------------------------------------------------------- interrupted writes

def _result():
    return _model().predict(GOOD[0], 10.0, stride=16)


@pytest.mark.parametrize("existing", [False, True])
def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch, existing):
    result = _result()
    out = tmp_path / "out.npz"
    if existing:
        out.write_bytes(b"old")

    def boom(file, *args, **kwargs):
        Path(file).write_bytes(b"partial")  # something half-written first
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="No space"):
        write_results(out, result)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.npz"] if existing else [])
    if existing:
        assert out.read_bytes() == b"old"


@pytest.mark.parametrize("exc,code", [(OSError("No space left on device"), 2), (KeyboardInterrupt(), 130)])
def test_cli_interrupted_write(tmp_path, monkeypatch, capsys, weights, exc, code):
    inp = _make_input(tmp_path, "good")
    out = tmp_path / "out.npz"

    def boom(file, *args, **kwargs):
        Path(file).write_bytes(b"partial")
        raise exc

    monkeypatch.setattr(np, "savez_compressed", boom)
    argv = ["predict", str(inp), "--frame-rate", "10", "--weights", str(weights), "--stride", "16", "-o", str(out)]
    assert run_cli(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy"]
