"""``ens2zoo plot``: redraw a saved result; clear errors and no figure for missing or foreign files."""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import run_cli

import ens2zoo
from ens2zoo.io.formats import write_results
from ens2zoo.simulate import simulate_recording


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    sim = simulate_recording(n_neurons=3, duration_s=20, frame_rate=30.0, seed=1)
    result = ens2zoo.load("ens2-exc").predict(sim.dff, 30.0, stride=16)
    path = tmp_path_factory.mktemp("res") / "r.ens2zoo.npz"
    write_results(path, result, {"input": "sim"}, traces=sim.dff, roi_index=[7, 11, 12], true_events=sim.spike_times)
    return path, sim, result


def test_saved_result_holds_what_plot_needs(saved):
    path, sim, result = saved
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["dff"], sim.dff)
        for i, spikes in enumerate(sim.spike_times):
            np.testing.assert_array_equal(f["true_event_times"][f["true_event_offsets"][i]:
                                                                f["true_event_offsets"][i + 1]], spikes)
        np.testing.assert_array_equal(f["noise_level"], result.noise_level)
        assert f["roi_index"].tolist() == [7, 11, 12]


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_plot_formats(tmp_path, capsys, saved, suffix, magic):
    fig = tmp_path / f"fig{suffix}"
    assert run_cli(["plot", saved[0], "-o", fig, "--neurons", "0,2", "--start", 2, "--duration", 10]) == 0
    assert f"wrote {fig}" in capsys.readouterr().out
    assert fig.read_bytes()[:len(magic)] == magic
    if suffix == ".svg":
        text = fig.read_text()
        assert "ROI 7" in text and "ROI 12" in text and "ROI 11" not in text and "true spikes" in text


@pytest.mark.parametrize("case", ["missing", "foreign", "not-npz", "bad-neurons", "bad-figure"])
def test_plot_errors(tmp_path, capsys, saved, case):
    fig = tmp_path / "fig.png"
    src = saved[0]
    extra = []
    if case == "missing":
        src = tmp_path / "nope.npz"
    elif case == "foreign":
        src = tmp_path / "other.npz"
        np.savez(src, x=np.zeros(3))
    elif case == "not-npz":
        src = tmp_path / "x.txt"
        src.write_text("hello")
    elif case == "bad-neurons":
        extra = ["--neurons", "0,5"]
    else:
        fig = tmp_path / "fig.bmp"
    assert run_cli(["plot", src, "-o", fig, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ens2zoo: error: ") and len(err.splitlines()) == 1
    words = {"missing": "does not exist", "foreign": "not an ens2zoo result", "not-npz": "not a .npz",
             "bad-neurons": "neurons 0–2", "bad-figure": ".png, .pdf, .svg"}[case]
    assert words in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"foreign": ["other.npz"], "not-npz": ["x.txt"]}.get(case, []))


def test_plot_by_roi_numbers_says_what_it_drew(tmp_path, capsys, saved):
    fig = tmp_path / "fig.svg"
    assert run_cli(["plot", saved[0], "-o", fig, "--rois", "12,7"]) == 0
    assert "drew rows 2, 0 (ROIs 12, 7)" in capsys.readouterr().out
    text = fig.read_text()
    assert "ROI 12" in text and "ROI 7" in text and "ROI 11" not in text
    assert run_cli(["plot", saved[0], "-o", fig, "--rois", "8"]) == 2
    err = capsys.readouterr().err
    assert "ROIs [8] are not in this result; it holds ROIs 7, 11, 12" in err
    assert run_cli(["plot", saved[0], "-o", fig, "--rois", "7", "--neurons", "0"]) == 2  # one or the other
