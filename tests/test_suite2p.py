"""suite2p input: plane folders and roots, the frame rate from ops/settings, the restricted unpickler."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import numpy as np
import pytest
from cli_run import run_cli

from ens2zoo.errors import InputError
from ens2zoo.io.dff import dff
from ens2zoo.io.safe_pickle import load_npy, load_npy_dict
from ens2zoo.io.suite2p import find_planes, read_plane
from ens2zoo.simulate import simulate_recording

ISCELL = np.array([[1, 0.9], [0, 0.2], [1, 0.6], [1, 0.95]])
FS = 30.0
PWNED = Path("/tmp/ens2zoo_test_pwned")


class Hostile:
    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


def make_plane(folder: Path, *, seed: int = 0, fs: float | None = FS, options: str = "ops.npy") -> dict:
    """A suite2p plane of 4 ROIs × 20 s (ROI 1 is not a cell) from the simulator; returns what it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    sim = simulate_recording(n_neurons=4, duration_s=20, frame_rate=fs or FS, seed=seed)
    rng = np.random.default_rng(seed)
    f0 = rng.uniform(200, 400, (4, 1))
    neu = 50 + rng.normal(0, 1, sim.dff.shape)
    F = (f0 * (1 + sim.dff) + 0.7 * neu).astype(np.float32)
    np.save(folder / "F.npy", F)
    np.save(folder / "Fneu.npy", neu.astype(np.float32))
    np.save(folder / "iscell.npy", ISCELL)
    if fs is not None:
        opts = {"fs": fs, "date_proc": datetime.datetime.now().astimezone(), "Ly": np.int64(512),
                "corrXY": np.float32(0.5), "meanImg": np.zeros((4, 4), np.float32), "diameter": np.array([10, 10]),
                "data_path": ["/data/x"], "plane_times": {"registration": 1.5}, "nonrigid": True, "tau": None}
        np.save(folder / options, opts, allow_pickle=True)
    return {"F": F, "Fneu": neu.astype(np.float32), "sim": sim}


def test_restricted_unpickler_reads_suite2p_options(tmp_path):
    make_plane(tmp_path / "plane0")
    ops = load_npy_dict(tmp_path / "plane0" / "ops.npy")
    assert ops["fs"] == FS and ops["Ly"] == 512 and ops["date_proc"].tzinfo is not None
    np.testing.assert_array_equal(ops["diameter"], [10, 10])
    assert ops["plane_times"] == {"registration": 1.5} and ops["data_path"] == ["/data/x"]
    assert load_npy(tmp_path / "plane0" / "iscell.npy").shape == (4, 2)


@pytest.mark.parametrize("name", ["ops.npy", "settings.npy"])
def test_hostile_options_file_is_refused_and_not_run(tmp_path, capsys, name):
    PWNED.unlink(missing_ok=True)
    plane = tmp_path / "plane0"
    make_plane(plane, fs=None)
    np.save(plane / name, {"fs": 30.0, "x": Hostile()}, allow_pickle=True)
    with pytest.raises(InputError, match=f"{name}.*posix.system|{name}.*system"):
        load_npy_dict(plane / name)
    assert run_cli(["predict", plane, "--model", "ens2-exc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ens2zoo: error: ") and str(plane / name) in err and len(err.splitlines()) == 1
    assert not PWNED.exists()
    assert not (plane / "ens2zoo.npz").exists()


def test_plane_folder_predict(tmp_path, capsys):
    plane = tmp_path / "mouse1" / "suite2p" / "plane0"
    made = make_plane(plane)
    assert run_cli(["predict", plane, "--stride", 16]) == 0
    out = capsys.readouterr().out
    assert "3 neurons" in out and "30 Hz" in out and "ν" in out
    with np.load(plane / "ens2zoo.npz", allow_pickle=False) as f:
        assert f["roi_index"].tolist() == [0, 2, 3]  # cells only
        assert float(f["frame_rate"]) == FS and str(f["input_kind"]) == "suite2p"
        assert str(f["session"]) == "mouse1" and str(f["plane"]) == "plane0"
        expected = dff(made["F"][[0, 2, 3]], made["Fneu"][[0, 2, 3]], frame_rate=FS)
        np.testing.assert_allclose(f["dff"], expected.dff, rtol=1e-10)
        # ΔF/F close to the simulator's (baseline within the transients' tails)
        np.testing.assert_allclose(f["dff"], made["sim"].dff[[0, 2, 3]], atol=0.08)
        assert f["rate_input"].shape == f["spikes_input"].shape == (3, 600)
        np.testing.assert_array_equal(f["spikes_input"].sum(axis=1), f["spikes"].sum(axis=1))
        np.testing.assert_allclose(f["rate_input"].sum(axis=1), f["rate"].sum(axis=1), rtol=1e-4)
        assert f["noise_level"].shape == (3,) and np.all(f["noise_level"] > 0)
        assert '"baseline_percentile": 8.0' in str(f["dff_recipe"])


def test_selection_flags(tmp_path):
    make_plane(tmp_path / "plane0")
    assert read_plane(tmp_path / "plane0").roi_index.tolist() == [0, 2, 3]
    assert read_plane(tmp_path / "plane0", all_rois=True).roi_index.tolist() == [0, 1, 2, 3]
    assert read_plane(tmp_path / "plane0", min_cell_prob=0.8).roi_index.tolist() == [0, 3]
    with pytest.raises(InputError, match="none of its 4 ROIs"):
        read_plane(tmp_path / "plane0", min_cell_prob=0.99)


def test_settings_npy_gives_the_rate(tmp_path):
    make_plane(tmp_path / "plane0", fs=15.0, options="settings.npy")  # suite2p ≥ 1.0
    plane = read_plane(tmp_path / "plane0")
    assert plane.frame_rate == 15.0 and plane.frame_rate_source.endswith("settings.npy")


def test_no_frame_rate_is_refused(tmp_path, capsys):
    plane = tmp_path / "plane0"
    make_plane(plane, fs=None)
    assert run_cli(["predict", plane, "--stride", 16]) == 2
    err = capsys.readouterr().err
    assert "no frame rate" in err and "--frame-rate" in err and not (plane / "ens2zoo.npz").exists()
    assert run_cli(["predict", plane, "--stride", 16, "--frame-rate", 30]) == 0
    capsys.readouterr()
    with np.load(plane / "ens2zoo.npz", allow_pickle=False) as f:
        assert float(f["frame_rate"]) == 30.0


def test_root_with_planes(tmp_path, capsys):
    root = tmp_path / "mouse2" / "suite2p"
    make_plane(root / "plane0", seed=0)
    make_plane(root / "plane1", seed=1)
    (root / "combined").mkdir()
    assert [p.name for p in find_planes(root)] == ["plane0", "plane1"]
    assert [p.name for p in find_planes(root.parent)] == ["plane0", "plane1"]
    # -o names one file: refused for two planes
    assert run_cli(["predict", root, "-o", tmp_path / "x.npz"]) == 2
    assert "--output-dir" in capsys.readouterr().err
    out = tmp_path / "results"
    assert run_cli(["predict", root, "--stride", 16, "--output-dir", out]) == 0
    assert "mouse2/plane1" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["mouse2_plane0.ens2zoo.npz", "mouse2_plane1.ens2zoo.npz"]
    with np.load(out / "mouse2_plane0.ens2zoo.npz") as a, np.load(out / "mouse2_plane1.ens2zoo.npz") as b:
        assert str(a["plane"]) == "plane0" and str(b["plane"]) == "plane1"
        assert not np.array_equal(a["dff"], b["dff"])


def test_not_a_suite2p_folder(tmp_path, capsys):
    assert run_cli(["predict", tmp_path]) == 2
    assert "no suite2p output" in capsys.readouterr().err
