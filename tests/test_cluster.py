"""Many inputs and LODO folds on a Dask LocalCluster (2 worker processes, 1 thread each): ``ens2zoo.cluster``."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from ens2zoo.cli.main import main
from ens2zoo.cluster import ModelSpec, open_client, output_complete, predict_task, run_inputs
from ens2zoo.simulate import simulate_recording
from ens2zoo.utils.atomic import atomic_path

try:
    import cloudpickle
    import dask
    import distributed  # noqa: F401
except ImportError:  # pragma: no cover - the dask extra is part of `make install` (and so of CI)
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("Dask's distributed is not installed: pip install 'ens2zoo[dask]'", allow_module_level=True)

FRAME_RATE = 30.0
STRIDE = "16"
N_GOOD = 4


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes with one thread each; a dead task is retried once."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), open_client("local", 2) as c:
        assert sorted(c.nthreads().values()) == [1, 1]
        yield c


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """Four small simulated recordings and one broken file."""
    folder = tmp_path_factory.mktemp("recordings")
    good = []
    for i in range(N_GOOD):
        sim = simulate_recording(n_neurons=2 + i % 2, duration_s=40.0, frame_rate=FRAME_RATE, seed=i)
        path = folder / f"rec{i}.npy"
        np.save(path, sim.dff)
        good.append(path)
    broken = folder / "broken.npy"
    broken.write_bytes(b"not an array")
    return {"folder": folder, "good": good, "broken": broken}


@pytest.fixture(scope="module")
def one_by_one(inputs, tmp_path_factory) -> Path:
    """Each good input run alone, in this process, as before this module existed."""
    out = tmp_path_factory.mktemp("single")
    for path in inputs["good"]:
        assert main(["predict", str(path), "--frame-rate", str(FRAME_RATE), "--stride", STRIDE,
                     "-o", str(out / (path.stem + ".ens2zoo.npz"))]) == 0
    return out


def _assert_same_files(a: Path, b: Path) -> None:
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        assert sorted(x.files) == sorted(y.files)
        for key in x.files:
            assert x[key].dtype == y[key].dtype and x[key].shape == y[key].shape, key
            assert x[key].tobytes() == y[key].tobytes(), key


def _no_partial_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if ".part" in p.name]


def test_predict_many_on_the_cluster(client, inputs, one_by_one, tmp_path, capsys):
    out = tmp_path / "out"
    names = [str(p) for p in inputs["good"][:2]] + [str(inputs["broken"]), str(inputs["folder"] / "rec[23].npy")]
    args = ["predict", *names, "--frame-rate", str(FRAME_RATE), "--stride", STRIDE, "--output-dir", str(out)]
    assert main([*args, "--scheduler", client.scheduler.address]) == 2
    captured = capsys.readouterr()
    assert "5 inputs: 4 done, 0 skipped, 1 failed" in captured.out
    assert f"failed: {inputs['broken']}: cannot read" in captured.err
    assert sorted(p.name for p in out.iterdir()) == [f"rec{i}.ens2zoo.npz" for i in range(N_GOOD)]
    for path in inputs["good"]:
        _assert_same_files(out / (path.stem + ".ens2zoo.npz"), one_by_one / (path.stem + ".ens2zoo.npz"))
        assert output_complete(out / (path.stem + ".ens2zoo.npz"))

    # a rerun skips the complete outputs (and still reports the broken input)
    assert main([*args, "--scheduler", client.scheduler.address]) == 2
    assert "5 inputs: 0 done, 4 skipped, 1 failed" in capsys.readouterr().out

    # several inputs without --scheduler: one after another in this process, the same results
    here = tmp_path / "here"
    assert main(["predict", str(inputs["folder"] / "rec*.npy"), "--frame-rate", str(FRAME_RATE), "--stride", STRIDE,
                 "--output-dir", str(here)]) == 0
    assert f"{N_GOOD} inputs: {N_GOOD} done, 0 skipped, 0 failed" in capsys.readouterr().out
    for path in inputs["good"]:
        _assert_same_files(here / (path.stem + ".ens2zoo.npz"), one_by_one / (path.stem + ".ens2zoo.npz"))
    assert _no_partial_files(out) and _no_partial_files(here)


def test_predict_many_refuses_what_cannot_work(inputs, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        np.save(folder / "rec.npy", np.zeros((1, 300)))
    base = ["--frame-rate", str(FRAME_RATE), "--output-dir", str(tmp_path / "out")]
    cases = [
        (["predict", str(a / "rec.npy"), str(b / "rec.npy"), *base], "would both write"),
        (["predict", *map(str, inputs["good"][:2]), "-o", str(tmp_path / "x.npz"), "--frame-rate", "30"],
         "--output-dir"),
        (["predict", str(inputs["good"][0]), "--workers", "2", *base], "--scheduler local"),
        (["predict", str(inputs["good"][0]), "--scheduler", "nowhere", *base], "neither 'local' nor"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    truncated = tmp_path / "t.ens2zoo.npz"
    truncated.write_bytes(b"PK\x03\x04 partial")
    assert not output_complete(truncated)


def test_suite2p_roots_in_this_process_match_single_runs(tmp_path, capsys):
    import h5py

    for s, session in enumerate(("m1", "m2")):
        for p, plane in enumerate(("plane0", "plane1")):
            folder = tmp_path / session / "suite2p" / plane
            folder.mkdir(parents=True)
            sim = simulate_recording(n_neurons=2, duration_s=30.0, frame_rate=FRAME_RATE, seed=10 * s + p)
            np.save(folder / "F.npy", 200.0 * (1.0 + sim.dff) + 50.0)
            np.save(folder / "Fneu.npy", np.full_like(sim.dff, 50.0))
            np.save(folder / "iscell.npy", np.ones((2, 2)))
    common = ["--frame-rate", str(FRAME_RATE), "--stride", STRIDE, "--baseline-window", "10", "--format", "h5"]
    assert main(["predict", str(tmp_path / "m*" / "suite2p"), *common, "--output-dir", str(tmp_path / "many")]) == 0
    assert "4 inputs: 4 done, 0 skipped, 0 failed" in capsys.readouterr().out
    for session in ("m1", "m2"):  # each root alone: the one-input command as before
        root = tmp_path / session / "suite2p"
        assert main(["predict", str(root), *common, "--output-dir", str(tmp_path / "one")]) == 0
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == [f"m{s}_plane{p}.ens2zoo.h5" for s in (1, 2) for p in (0, 1)]
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == names
    for name in names:
        with h5py.File(tmp_path / "many" / name) as a, h5py.File(tmp_path / "one" / name) as b:
            assert sorted(a) == sorted(b) and sorted(a.attrs) == sorted(b.attrs)
            assert all(a[k][()].tobytes() == b[k][()].tobytes() for k in a if a[k].dtype.kind != "O")
            assert all(str(a.attrs[k]) == str(b.attrs[k]) for k in a.attrs), name


def kill_once(job, marker: Path):
    """The first attempt of any job kills its worker process halfway through writing its output."""
    if not marker.exists():
        marker.touch()
        with atomic_path(job.output) as tmp:
            tmp.write_bytes(b"half a result")
            os.kill(os.getpid(), signal.SIGKILL)
    return predict_task(job)


def kill_always(job):
    with atomic_path(job.output) as tmp:
        tmp.write_bytes(b"half a result")
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def by_value():
    """Ship this module's task wrappers to the workers by value (they cannot import the test module)."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


def test_a_killed_worker_loses_nothing(client, inputs, one_by_one, tmp_path, by_value):
    out, marker = tmp_path / "out", tmp_path / "killed"
    kwargs = dict(model=ModelSpec.of("ens2-exc"), output_dir=out, prepare={"frame_rate": FRAME_RATE},
                  predict={"stride": int(STRIDE)}, client=client)
    report = run_inputs(inputs["good"], task=functools.partial(kill_once, marker=marker), **kwargs)
    assert marker.exists()  # a worker was killed mid-write …
    assert [o.status for o in report.outcomes] == ["done"] * N_GOOD  # … and its task retried elsewhere
    assert _no_partial_files(out)
    for path in inputs["good"]:
        _assert_same_files(out / (path.stem + ".ens2zoo.npz"), one_by_one / (path.stem + ".ens2zoo.npz"))

    # a task that kills every worker it lands on is reported as failed once the retries are spent
    kwargs["output_dir"] = tmp_path / "x"
    report = run_inputs(inputs["good"][:1], task=kill_always, **kwargs)
    (outcome,) = report.outcomes
    assert outcome.status == "failed" and "KilledWorker" in outcome.error
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").iterdir())


# --- LODO folds on the cluster --------------------------------------------------------------------

def test_lodo_folds_on_the_cluster_match_a_run_here(client, small_root, tmp_path, monkeypatch):
    from safetensors.numpy import load_file

    monkeypatch.setenv("ENS2ZOO_SHARED", str(tmp_path / "nowhere"))  # no published table needed
    args = ["benchmark", "--arch", "mlp,cnn", "--lodo", "DS03,DS05", "--data", str(small_root), "--training-datasets",
            "DS0*", "--max-iter", "3", "--patience", "3", "--batch-size", "64", "--threads", "1", "--stride", STRIDE,
            "--log-every", "0"]
    assert main([*args, "-o", str(tmp_path / "cluster"), "--scheduler", client.scheduler.address]) == 0
    assert main([*args, "-o", str(tmp_path / "here")]) == 0
    for name in ("mlp_lodo_DS03", "mlp_lodo_DS05", "cnn_lodo_DS03", "cnn_lodo_DS05"):  # both architectures' folds
        a = load_file(tmp_path / "cluster" / f"{name}.safetensors")
        b = load_file(tmp_path / "here" / f"{name}.safetensors")
        assert sorted(a) == sorted(b)
        assert all(a[k].tobytes() == b[k].tobytes() for k in a), name
    for table in ("mlp_lodo_DS03.csv", "cnn_lodo_DS05.csv", "summary.csv"):  # the same metrics, to the digit
        assert (tmp_path / "cluster" / table).read_text() == (tmp_path / "here" / table).read_text(), table
    summary = (tmp_path / "here" / "summary.csv").read_text().splitlines()
    assert [line.split(",")[-1] for line in summary] == ["recipe"] + ["mlp"] * 3 + ["cnn"] * 3  # 2 folds + all
