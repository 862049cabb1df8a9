"""NWB input (DfOverF or Fluorescence + Neuropil) and NWB output."""

from __future__ import annotations

import datetime
import hashlib
import json

import numpy as np
import pytest
from cli_run import run_cli

from ens2zoo.io.dff import dff
from ens2zoo.io.nwb import read_nwb
from ens2zoo.simulate import simulate_recording

pynwb = pytest.importorskip("pynwb")

FS = 30.0


def make_nwb(path, *, dff_series=("DfOverF_1",), fluorescence=True, timestamps=False):
    """4 ROIs × 20 s: ΔF/F series (the simulator's) and raw fluorescence with neuropil."""
    sim = simulate_recording(n_neurons=4, duration_s=20, frame_rate=FS, seed=2)
    rng = np.random.default_rng(0)
    neu = 50 + rng.normal(0, 1, sim.dff.shape)
    F = 300 * (1 + sim.dff) + 0.7 * neu
    nwb = pynwb.NWBFile(session_description="test session", identifier="abc",
                        session_start_time=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                        lab="lab", experimenter=["Ada"])
    device = nwb.create_device(name="scope")
    channel = pynwb.ophys.OpticalChannel(name="green", description="GCaMP", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(name="plane0", optical_channel=channel, description="L2/3", device=device,
                                     excitation_lambda=920.0, indicator="GCaMP6f", location="V1", imaging_rate=FS)
    ophys = nwb.create_processing_module(name="ophys", description="optical physiology")
    seg = pynwb.ophys.ImageSegmentation()
    ophys.add(seg)
    table = seg.create_plane_segmentation(name="PlaneSegmentation", description="ROIs", imaging_plane=plane)
    for i in range(5):  # ROI 0 is not in the series below
        mask = np.zeros((8, 8))
        mask[i, i] = 1
        table.add_roi(image_mask=mask)
    region = table.create_roi_table_region(region=[1, 2, 3, 4], description="ROIs 1-4")
    timing = {"timestamps": np.arange(sim.dff.shape[1]) / FS + 10} if timestamps else {"rate": FS}
    if dff_series:
        container = pynwb.ophys.DfOverF(name="DfOverF")
        ophys.add(container)
        for k, name in enumerate(dff_series):
            container.create_roi_response_series(name=name, data=(sim.dff * (k + 1)).T, rois=region, unit="n.a.",
                                                 **timing)
    if fluorescence:
        fl = pynwb.ophys.Fluorescence(name="Fluorescence")
        ophys.add(fl)
        fl.create_roi_response_series(name="RawF", data=F.T, rois=region, unit="a.u.", **timing)
        fl.create_roi_response_series(name="Neuropil", data=neu.T, rois=region, unit="a.u.", **timing)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return sim, F, neu


def test_read_dff_series(tmp_path):
    sim, _, _ = make_nwb(tmp_path / "s.nwb", timestamps=True)
    s = read_nwb(tmp_path / "s.nwb")
    assert s.kind == "dff" and s.name == "DfOverF_1"
    np.testing.assert_allclose(s.data, sim.dff)
    assert s.roi_index.tolist() == [1, 2, 3, 4]
    assert s.frame_rate == pytest.approx(FS) and s.start_time == pytest.approx(10.0)


def test_fluorescence_goes_through_dff(tmp_path):
    sim, _, neu = make_nwb(tmp_path / "s.nwb", dff_series=())
    s = read_nwb(tmp_path / "s.nwb")
    assert s.kind == "fluorescence" and s.name == "RawF" and s.neuropil is not None
    np.testing.assert_allclose(s.neuropil, neu)
    np.testing.assert_allclose(dff(s.data, s.neuropil, frame_rate=FS).dff, sim.dff, atol=0.08)


def test_several_series_need_series(tmp_path, capsys):
    path = tmp_path / "s.nwb"
    sim, _, _ = make_nwb(path, dff_series=("DfOverF_1", "DfOverF_2"))
    assert run_cli(["predict", path, "--stride", 16]) == 2
    err = capsys.readouterr().err
    assert "--series" in err and "DfOverF_1 (DfOverF)" in err and "DfOverF_2 (DfOverF)" in err
    assert run_cli(["predict", path, "--series", "nope"]) == 2
    assert "RawF (Fluorescence)" in capsys.readouterr().err
    assert run_cli(["predict", path, "--series", "DfOverF_2", "--stride", 16, "--output-dir", tmp_path / "o"]) == 0
    capsys.readouterr()
    with np.load(tmp_path / "o" / "s_DfOverF_2.ens2zoo.npz", allow_pickle=False) as f:
        np.testing.assert_allclose(f["dff"], 2 * sim.dff)
        assert f["roi_index"].tolist() == [1, 2, 3, 4] and float(f["frame_rate"]) == FS
    assert read_nwb(path, series="RawF").kind == "fluorescence"


def test_nwb_output(tmp_path, capsys):
    src = tmp_path / "s.nwb"
    make_nwb(src)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "result.nwb"
    assert run_cli(["predict", src, "--stride", 16, "-o", out, "--series", "RawF"]) == 0
    capsys.readouterr()
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # source untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.nwb", "s.nwb"]
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.session_description == "test session" and nwb.lab == "lab"
        assert nwb.session_start_time.year == 2024
        mod = nwb.processing["spike_inference"]
        rate = mod["InferredRate"]["inferred_rate"]
        counts = mod["InferredSpikes"]["inferred_spike_counts"]
        assert rate.rate == FS and rate.data.shape == (600, 4) and counts.data.shape == (600, 4)
        table = nwb.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        assert list(table["source_roi_index"].data[:]) == [1, 2, 3, 4]
        np.testing.assert_array_equal(table["image_mask"][0], np.eye(8)[1][:, None] * np.eye(8)[1][None])
        spikes = mod["spike_times"]
        assert list(spikes["roi_index"].data[:]) == [1, 2, 3, 4]
        total = sum(len(spikes["spike_times"][i]) for i in range(4))
        assert total == int(np.asarray(counts.data[:]).sum()) > 0
        info = json.loads(nwb.scratch["ens2zoo"].data)
        assert info["model"] == "ens2-exc" and info["series"] == "Fluorescence/RawF" and "dff_recipe" in info


def test_nwb_output_needs_nwb_input(tmp_path, capsys):
    np.save(tmp_path / "x.npy", simulate_recording(2, 20, 30).dff)
    assert run_cli(["predict", tmp_path / "x.npy", "--frame-rate", 30, "-o", tmp_path / "r.nwb"]) == 2
    assert "NWB output needs an NWB input" in capsys.readouterr().err
    assert not (tmp_path / "r.nwb").exists()


def test_nwb_clock_carries_to_every_output(tmp_path, capsys):
    """A series with time stamps from 10 s: the .npz result and the NWB output are in session time."""
    src = tmp_path / "s.nwb"
    make_nwb(src, timestamps=True)
    assert run_cli(["predict", src, "--stride", 16, "-o", tmp_path / "r.npz", "--series", "DfOverF_1"]) == 0
    with np.load(tmp_path / "r.npz") as f:
        assert float(f["start_time"]) == pytest.approx(10.0)
        np.testing.assert_allclose(f["times"], 10.0 + np.arange(1200) / 60.0)
        events = f["event_times"]
        assert events.size and events.min() >= 10.0
        np.testing.assert_allclose(np.rint((events - 10.0) * 60), (events - 10.0) * 60, atol=1e-9)
        npz_events = events
    assert run_cli(["predict", src, "--stride", 16, "-o", tmp_path / "r.nwb", "--series", "DfOverF_1"]) == 0
    capsys.readouterr()
    with pynwb.NWBHDF5IO(str(tmp_path / "r.nwb"), "r") as io:
        module = io.read().processing["spike_inference"]
        rate = module["InferredRate"]["inferred_rate"]
        np.testing.assert_allclose(rate.timestamps[:], np.arange(600) / FS + 10)  # the source's own stamps
        table = module["spike_times"]
        np.testing.assert_allclose(np.concatenate([table["spike_times"][i] for i in range(4)]), npz_events)
