"""CASCADE's own model folders (``ens2zoo.load_folder``): parity with CASCADE's stored output, bad folders.

The reference is ``$ENS2ZOO_SHARED/cascade_reference``: CascadeTorch's ``Global_EXC_30Hz_smoothing25ms``
folder and ``sample_reference_cascade.npz`` (8 traces at 30 Hz and CascadeTorch's ``cascade.predict``
output for them, NaN for the first and last 32 frames).  Nothing of it is copied here.

Edges (documented in ``ens2zoo.workflows.cascade_folder``): where CASCADE returns NaN (frames whose
64-frame window leaves the trace) ens2zoo evaluates the zero-padded window, so those frames have
finite, non-negative rates; parity is checked on every frame where CASCADE's rate is finite.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo import InputError, WeightsError
from ens2zoo.architectures.cascade import CascadeNet
from ens2zoo.cli.main import main
from ens2zoo.workflows import cascade_folder

from shared_data import _require

MODEL = "Global_EXC_30Hz_smoothing25ms"


@pytest.fixture(scope="module")
def reference() -> Path:
    return _require("cascade_reference")


@pytest.fixture(scope="module")
def folder(reference) -> Path:
    return reference / MODEL


@pytest.fixture(scope="module")
def sample(reference) -> dict[str, np.ndarray]:
    with np.load(reference / "sample_reference_cascade.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def model(folder, one_torch_thread):
    return ens2zoo.load_folder(folder)


@pytest.fixture(scope="module")
def result(model, sample):
    with pytest.warns(UserWarning, match="above the highest"):
        return model.predict(sample["traces"], float(sample["frame_rate"]))


def small_folder(tmp_path: Path, folder: Path, suffix: str = "pth", levels: tuple[int, ...] = (2, 3)) -> Path:
    """A copy of the reference folder (symlinks) with only ``levels`` and one weight format."""
    out = tmp_path / "model"
    out.mkdir(parents=True)
    text = (folder / "config.yaml").read_text()
    listed = "".join(f"- {k}\n" for k in levels)
    text = re.sub(r"noise_levels:\n(- \d+\n)+", f"noise_levels:\n{listed}", text)
    (out / "config.yaml").write_text(text)
    for k in levels:
        for p in folder.glob(f"Model_NoiseLevel_{k}_Ensemble_*.{suffix}"):
            (out / p.name).symlink_to(p)
    return out


def test_rates_equal_cascade_where_finite(result, sample):
    reference = sample["spike_rate"]
    finite = np.isfinite(reference)
    assert finite.sum() == reference.size - 64 * reference.shape[0]   # CASCADE: NaN for 32 frames at each end
    scale = np.abs(reference[finite]).max()
    assert np.abs(result.rate - reference)[finite].max() <= 1e-5 * scale
    assert result.sampling_rate == 30.0 and result.rate.shape == reference.shape  # spikes per 30 Hz frame
    edges = result.rate[:, ~finite[0]]                                       # CASCADE's NaN frames
    assert np.isfinite(edges).all() and (edges >= 0).all()


def test_same_level_per_neuron_as_cascade(result, sample):
    levels = np.arange(2, 10)
    cascade_level = levels[np.argmin(np.abs(sample["noise_levels"][:, None] - levels[None, :]), axis=1)]
    assert list(result.member) == [f"level-{k}" for k in cascade_level]
    np.testing.assert_allclose(result.noise_level, sample["noise_levels"], rtol=1e-6)


def test_spikes_and_metadata(result, model, folder):
    assert result.spikes is not None and result.spikes.shape == result.rate.shape
    assert len(result.events) == 8 and all(np.all(np.diff(e) >= 0) for e in result.events)
    described = model.entry.provenance
    assert described["name"] == MODEL and described["sampling_rate"] == 30 and described["smoothing_s"] == 0.025
    assert "DS03-Cal520-m-S1" in described["training_datasets"] and described["before"] == 31
    assert len(described["sha256"]) == 41 and "config.yaml" in described["sha256"]   # config + 40 networks
    assert model.preprocessing.smoothing_sigma_s == 0.025 and model.hparams["dense_expansion"] == 10
    assert result.sha256 == model.folder.digest


def test_warning_names_rows_above_the_highest_level(model, sample):
    with pytest.warns(UserWarning, match=r"rows 2 \(ν 14\.0\); they were served by level 9"):
        model.predict(sample["traces"][5:], 30.0, spikes=False)   # ν 7.6, 9.4 (nearest 9: no warning), 14


def test_noise_level_override_routes_every_neuron(model, sample):
    out = model.predict(sample["traces"][:2], 30.0, spikes=False, noise_level=5.4)
    assert set(out.member) == {"level-5"}


def test_other_frame_rates_are_refused(model, sample):
    with pytest.raises(InputError, match="trained at 30 Hz"):
        model.predict(sample["traces"], 60.0)


def test_chunks_equal_one_pass(model, sample, monkeypatch):
    whole = model.predict(sample["traces"], 30.0, noise_level=4)
    monkeypatch.setattr(cascade_folder, "CHUNK_NEURONS", 3)
    chunked = model.predict(sample["traces"], 30.0, noise_level=4)
    np.testing.assert_array_equal(chunked.rate, whole.rate)
    np.testing.assert_array_equal(chunked.spikes, whole.spikes)
    np.testing.assert_array_equal(chunked.noise_level, whole.noise_level)
    assert [len(e) for e in chunked.events] == [len(e) for e in whole.events]
    bad = sample["traces"].copy()
    bad[6, 10] = np.nan
    with pytest.raises(InputError, match=r"neurons \[6\]"):             # rows counted over the whole input
        model.predict(bad, 30.0)


def test_npz_folder_equals_pth_folder(tmp_path, folder, sample):
    pth = ens2zoo.load_folder(small_folder(tmp_path / "a", folder, "pth"))
    npz = ens2zoo.load_folder(small_folder(tmp_path / "b", folder, "npz"))
    a = pth.predict(sample["traces"][1:3], 30.0, spikes=False)
    b = npz.predict(sample["traces"][1:3], 30.0, spikes=False)
    np.testing.assert_array_equal(a.rate, b.rate)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 63, 64, 65, 131])
@pytest.mark.parametrize("before", [0, 31, 32, 63])
def test_whole_trace_phases_equal_windows(n, before):
    torch.manual_seed(n + before)
    net = CascadeNet(dense_expansion=10)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(2, n)
    windows = torch.nn.functional.pad(x, (before, 63 - before)).unfold(1, 64, 1)   # window t: t−before … t−before+63
    expected = net(windows.reshape(-1, 64)).reshape(2, n)
    torch.testing.assert_close(net.forward_trace(x, before), expected, rtol=1e-5, atol=1e-5)


def test_cli_predict_and_metadata(tmp_path, folder, sample, capsys):
    inp, out = tmp_path / "x.npy", tmp_path / "x.npz"
    np.save(inp, sample["traces"][:3])
    assert main(["predict", str(inp), "--frame-rate", "30", "--weights", str(small_folder(tmp_path, folder)),
                 "-o", str(out)]) == 0
    with np.load(out) as saved:
        assert float(saved["sampling_rate"]) == 30.0 and saved["rate"].shape == (3, 3000)
        assert MODEL in str(saved["model_folder"]) and "Model_NoiseLevel_3_Ensemble_4.pth" in str(saved["model_folder"])
    assert main(["predict", str(inp), "--frame-rate", "15", "--weights", str(tmp_path / "model"),
                 "-o", str(tmp_path / "y.npz")]) == 2
    assert "trained at 30 Hz" in capsys.readouterr().err and not (tmp_path / "y.npz").exists()


def test_missing_config(tmp_path, folder):
    model = small_folder(tmp_path, folder)
    (model / "config.yaml").unlink()
    with pytest.raises(InputError, match="no config.yaml"):
        ens2zoo.load_folder(model)


def test_config_missing_keys_and_levels(tmp_path, folder):
    model = small_folder(tmp_path, folder)
    config = model / "config.yaml"
    config.write_text(config.read_text().replace("- 3\n", "- 3\n- 4\n", 1))
    with pytest.raises(InputError, match=r"no \.pth networks for \[4\]"):
        ens2zoo.load_folder(model)
    config.write_text(re.sub(r"dense_expansion:.*\n", "", config.read_text()))
    with pytest.raises(InputError, match="missing dense_expansion"):
        ens2zoo.load_folder(model)


def test_corrupt_pth(tmp_path, folder):
    model = small_folder(tmp_path, folder)
    victim = model / "Model_NoiseLevel_2_Ensemble_1.pth"
    victim.unlink()
    victim.write_bytes(b"not a state dict" * 10)
    with pytest.raises(WeightsError, match="Model_NoiseLevel_2_Ensemble_1.pth"):
        ens2zoo.load_folder(model)


def test_unknown_keys(tmp_path, folder):
    model = small_folder(tmp_path, folder)
    victim = model / "Model_NoiseLevel_3_Ensemble_0.pth"
    state = torch.load(victim, weights_only=True)
    state["lstm.weight"] = torch.zeros(2)
    victim.unlink()
    torch.save(state, victim)
    with pytest.raises(WeightsError, match=r"unknown tensors \['lstm.weight'\]"):
        ens2zoo.load_folder(model)


def test_wrong_sizes(tmp_path, folder):
    model = small_folder(tmp_path, folder)
    config = model / "config.yaml"
    config.write_text(config.read_text().replace("dense_expansion: 10", "dense_expansion: 30"))
    with pytest.raises(WeightsError, match="do not fit"):
        ens2zoo.load_folder(model)


def test_keras_h5_folder_is_refused(tmp_path, folder):
    model = tmp_path / "keras"
    model.mkdir()
    (model / "config.yaml").symlink_to(folder / "config.yaml")
    (model / "Model_NoiseLevel_2_Ensemble_0.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(InputError, match="Keras .h5"):
        ens2zoo.load_folder(model)


def test_30hz_output_is_scored_at_60hz():
    from ens2zoo.benchmark.conditions import to_scoring_rate

    np.testing.assert_array_equal(to_scoring_rate(np.array([0.4, 0.0, 1.0]), 2, split=True),
                                  [0.2, 0.2, 0.0, 0.0, 0.5, 0.5])           # spikes per frame, totals kept
    np.testing.assert_array_equal(to_scoring_rate(np.array([1, 0, 2]), 2, split=False), [1, 0, 0, 0, 2, 0])


@pytest.mark.filterwarnings("ignore:.*above the highest")                   # a folder cut to levels 2 and 3
def test_evaluate_under_30hz_conditions(tmp_path, folder, small_root):
    from ens2zoo.benchmark.evaluation import read_csv

    out = tmp_path / "m.csv"
    assert main(["evaluate", "--weights", str(small_folder(tmp_path, folder)), "--data", str(small_root),
                 "--datasets", "DS03*", "--conditions", "30:0,30:4", "--threads", "1", "-o", str(out)]) == 0
    rows = read_csv(out)
    assert len(rows) == 2 * 2                                                # 2 neurons × 2 conditions
    assert all(0 < float(r["corr"]) <= 100 and float(r["condition_frame_rate"]) == 30 for r in rows)
