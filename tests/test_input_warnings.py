"""Warnings for input that looks wrong (raw fluorescence, percent, frame rate, ν), naming the fix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ens2zoo
from ens2zoo.cli.main import main
from ens2zoo.io.plausibility import GROUND_TRUTH_NOISE_LEVELS, input_warnings, trained_ranges
from ens2zoo.simulate import simulate_recording

SIM = simulate_recording(n_neurons=3, duration_s=20, frame_rate=30.0, seed=4)  # ν ≈ 0.35


@pytest.fixture(scope="module")
def zoo():
    return ens2zoo.load("ens2-exc")


def _messages(*args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returned = input_warnings(*args, **kwargs)
    assert [str(w.message) for w in caught] == returned
    return returned


def test_clean_input_gives_no_warning(zoo):
    assert _messages(SIM.dff, 30.0, zoo) == []


def test_raw_fluorescence(zoo):
    (msg,) = _messages(300 * (1 + SIM.dff), 30.0, zoo)
    assert "raw fluorescence" in msg and "--input-kind raw" in msg


def test_percent(zoo):
    (msg,) = _messages(100 * SIM.dff, 30.0, zoo)
    assert "percent" in msg and "divide them by 100" in msg and "U-Net" in msg and "scale-invariant" not in msg
    mlp = ens2zoo.create("mlp")
    (msg,) = _messages(100 * SIM.dff, 30.0, mlp)
    assert "mlp architecture is not scale-invariant" in msg


def test_low_frame_rate(zoo):
    msgs = _messages(SIM.dff, 0.5, zoo)
    assert any("below 2 Hz" in m and "--frame-rate" in m for m in msgs)
    msgs = _messages(SIM.dff, 5.0, zoo)  # above 2 Hz, below the ground truth's 7.5 Hz
    assert any("outside the 7.5–500 Hz that ens2-exc was trained on" in m for m in msgs)
    # a model without a training record: only the absolute floor applies
    assert _messages(SIM.dff, 5.0, ens2zoo.create("unet")) == []


def test_noise_outside_trained_range(zoo):
    noisy = SIM.dff + np.random.default_rng(0).normal(0, 0.5, SIM.dff.shape)  # ν ≈ 8.7
    v1 = ens2zoo.load("ens2-exc-v1")  # trained on the recordings as they are: ν 0.21–2.88
    (msg,) = _messages(noisy, 30.0, v1)
    low, high = trained_ranges(v1)[1]
    assert (low, high) == (0.21, 2.88)
    assert f"3 of 3 neurons have a noise level ν outside the {low:g}–{high:g}" in msg
    assert _messages(noisy, 30.0, zoo) == []  # the family's noise-matched member covers ν up to 9
    low, high = trained_ranges(ens2zoo.create("unet"))[1] or GROUND_TRUTH_NOISE_LEVELS


def test_noise_warning_names_the_rois_outside_with_their_nu():
    v1 = ens2zoo.load("ens2-exc-v1")  # ν 0.21–2.88
    nus = np.array([1.0, 4.0, 10.0])
    (msg,) = input_warnings(SIM.dff, 30.0, v1, nus=nus, roi_index=[7, 11, 30], warn=False)
    assert "2 of 3 neurons have a noise level ν outside the 0.21–2.88" in msg
    assert "ROIs 11 (ν 4), 30 (ν 10)" in msg and "7 (ν" not in msg
    assert "median ν of those 7)" in msg  # the median of 4 and 10, not of all three (4)
    (msg,) = input_warnings(SIM.dff, 30.0, v1, nus=nus, warn=False)  # no ROI numbers: rows
    assert "rows 1 (ν 4), 2 (ν 10)" in msg
    many = input_warnings(np.zeros((25, 10)), 30.0, v1, nus=np.full(25, 5.0), warn=False)
    assert "rows 0 (ν 5), 1 (ν 5)" in many[0] and "19 (ν 5) and 5 more" in many[0]


def test_cli_shows_one_line_per_warning(tmp_path, capsys):
    np.save(tmp_path / "raw.npy", 300 * (1 + SIM.dff))
    assert main(["predict", str(tmp_path / "raw.npy"), "--frame-rate", "30", "--stride", "16"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("ens2zoo: warning: the traces look like raw fluorescence")
    # one line per warning (the rate of raw input also falls short of its greedy spikes: a second one)
    assert len(err) <= 2 and all(line.startswith("ens2zoo: warning: ") for line in err)
    # with --input-kind raw ΔF/F is computed: no warning, and the recipe is recorded
    assert main(["predict", str(tmp_path / "raw.npy"), "--frame-rate", "30", "--stride", "16", "--input-kind", "raw",
                 "--baseline-window", "30"]) == 0
    assert capsys.readouterr().err.strip() == ""
    with np.load(tmp_path / "raw.ens2zoo.npz", allow_pickle=False) as f:
        assert '"baseline_window_s": 30.0' in str(f["dff_recipe"]) and f["roi_index"].tolist() == [0, 1, 2]
        np.testing.assert_allclose(f["dff"], SIM.dff, atol=0.08)


def test_spike_shortfall_names_the_neurons_whose_greedy_spikes_fall_short():
    from ens2zoo.inference.result import SpikeResult
    from ens2zoo.io.plausibility import spike_shortfall

    rate = np.zeros((4, 600), dtype=np.float32)
    rate[:, :80] = [[0.125], [0.125], [0.125], [0.025]]  # Σ rate 10, 10, 10 and 2 spikes
    spikes = np.zeros((4, 600), dtype=np.int32)
    spikes[:, 0] = [10, 6, 5, 0]  # 100 %, 60 %, 50 %; the last neuron's rate sums to < 5 spikes: not counted
    result = SpikeResult(rate=rate, spikes=spikes, events=[], sampling_rate=60.0, frame_rate=30.0,
                         n_input_frames=300, model="ens2-exc", spike_estimator="greedy")
    msg = spike_shortfall(result, warn=False, roi_index=[3, 8, 12, 20])
    assert msg.startswith("2 of 3 neurons get fewer discrete spikes than their rate sums to (median 55 % of Σ rate): "
                          "ROIs 8 (60 %), 12 (50 %). ENS²'s greedy spike estimator, ens2-exc's default")
    assert "--spike-estimator count" in msg
    assert "rows 1 (60 %), 2 (50 %)" in spike_shortfall(result, warn=False)
    with pytest.warns(UserWarning, match="2 of 3 neurons get fewer discrete spikes"):
        spike_shortfall(result)
    import dataclasses

    assert spike_shortfall(dataclasses.replace(result, spike_estimator="count"), warn=False) is None
    enough = np.where(np.arange(600) == 0, np.array([[10], [9], [7], [0]]), 0).astype(np.int32)
    full = dataclasses.replace(result, spikes=enough)
    assert spike_shortfall(full, warn=False) is None  # 70 % and more: no warning


def test_cli_warns_of_the_shortfall_only_for_the_models_default(tmp_path, capsys):
    noisy = simulate_recording(n_neurons=3, duration_s=120, frame_rate=30.0, seed=4).dff
    noisy = noisy + np.random.default_rng(1).normal(0, 0.25, noisy.shape)  # ν ≈ 4.3
    np.save(tmp_path / "noisy.npy", noisy)
    args = ["predict", str(tmp_path / "noisy.npy"), "--frame-rate", "30", "--stride", "16"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "get fewer discrete spikes than their rate sums to" in err and "--spike-estimator count" in err
    for chosen in ("greedy", "count"):  # a user's choice is not second-guessed; counted spikes add up
        assert main([*args, "--spike-estimator", chosen]) == 0
        assert "fewer discrete spikes" not in capsys.readouterr().err
