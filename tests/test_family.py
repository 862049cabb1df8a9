"""Model families: written with write_family, loaded by folder or name, each neuron routed by its ν (and,
for a member with a frame-rate range, by the recording's frame rate)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.evaluation import neuron_prediction
from ens2zoo.errors import RegistryError
from ens2zoo.workflows.factory import load_folder
from ens2zoo.zoo.manifest import entry_from_record, write_family


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    folder = tmp_path_factory.mktemp("family")
    files = []
    for seed in (1, 2):
        model = ens2zoo.create("unet", features=3)
        torch.manual_seed(seed)
        for p in model.net.parameters():
            torch.nn.init.normal_(p, 0.0, 0.1)
        path = folder / f"src{seed}.safetensors"
        model.save(path)
        files.append(path)
    write_family(folder / "fam", "toy", [
        {"name": "quiet", "weights": files[0], "noise_range": [None, 2.0]},
        {"name": "noisy", "weights": files[1], "noise_range": [2.0, None], "trained_noise_levels": [1, 9],
         "recipe": "ens2-nm"},  # weights saved without a recipe: the member's record names it
    ], description="two random U-Nets")
    return folder, files


def _traces():
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 0.002, 600)           # ν ≈ 0.07 at 30 Hz
    noisy = rng.normal(0, 0.2, 600)             # ν ≈ 7
    return np.stack([quiet, noisy])


def test_family_routes_each_neuron_to_its_member(family):
    folder, files = family
    model = load_folder(folder / "fam")
    x = _traces()
    result = model.predict(x, 30.0, stride=8)
    assert list(result.member) == ["quiet", "noisy"]
    assert result.noise_level[0] < 2.0 <= result.noise_level[1]
    np.testing.assert_allclose(result.noise_level, ens2zoo.noise_level(x, 30.0))
    for i, f in enumerate(files):  # each neuron's rate is its member's own prediction
        single = ens2zoo.create("unet", weights=f, features=3).predict(x[i], 30.0, stride=8)
        np.testing.assert_array_equal(result.rate[i], single.rate[0])


def test_noise_level_override_and_out_of_range_routing(family):
    folder, _ = family
    model = load_folder(folder / "fam")
    assert list(model.predict(_traces(), 30.0, stride=8, noise_level=5.0).member) == ["noisy", "noisy"]
    assert model.route(np.array([0.5, 2.0, 50.0, np.nan])) == [0, 1, 1, 0]


def test_family_manifest_records_members_and_hashes(family):
    folder, _ = family
    record = json.loads((folder / "fam" / "manifest.json").read_text())["models"][0]
    assert [m["name"] for m in record["members"]] == ["quiet", "noisy"]
    assert all(len(m["sha256"]) == 64 for m in record["members"])
    assert record["members"][1]["trained_noise_levels"] == [1, 9]
    assert [m["recipe"] for m in record["members"]] == [None, "ens2-nm"]
    assert record["preprocessing"]["flat_guard"] is True
    bad = {**record, "members": [{**record["members"][0], "sha256": ""}]}
    with pytest.raises(RegistryError, match="needs name, weights and sha256"):
        entry_from_record(bad, base_dir=folder / "fam")


def test_tampered_member_is_refused(family, tmp_path):
    import shutil

    folder, _ = family
    copy = tmp_path / "fam"
    shutil.copytree(folder / "fam", copy)
    with open(copy / "noisy.safetensors", "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ens2zoo.WeightsError, match="sha256"):
        load_folder(copy)


def test_cli_evaluate_and_predict_take_a_family_folder(family, tmp_path, capsys):
    from ens2zoo.cli.main import main

    folder, _ = family
    np.save(tmp_path / "x.npy", _traces())
    assert main(["predict", str(tmp_path / "x.npy"), "--frame-rate", "30", "--weights", str(folder / "fam"),
                 "--stride", "8", "-o", str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as z:
        assert list(z["member"]) == ["quiet", "noisy"] and z["noise_level"].shape == (2,)


def test_cluster_workers_load_a_family_folder(family):
    """``--weights FOLDER --scheduler …``: each worker loads the folder's family, routing included."""
    from ens2zoo.cluster import ModelSpec

    folder, _ = family
    model = ModelSpec.of(weights=folder / "fam").load()
    result = model.predict(_traces(), 30.0, stride=8, spikes=False)
    assert list(result.member) == ["quiet", "noisy"]
    np.testing.assert_array_equal(result.rate, load_folder(folder / "fam").predict(_traces(), 30.0, stride=8,
                                                                                    spikes=False).rate)


@pytest.fixture(scope="module")
def rate_family(family, tmp_path_factory):
    """quiet (ν < 2), at30 (ν ≥ 2 at 21.2–42.4 Hz; listed first, so it wins there), noisy (ν ≥ 2, any rate)."""
    _, files = family
    at30 = ens2zoo.create("unet", features=3)
    torch.manual_seed(3)
    for p in at30.net.parameters():
        torch.nn.init.normal_(p, 0.0, 0.1)
    folder = tmp_path_factory.mktemp("rates")
    at30.save(folder / "src3.safetensors")
    write_family(folder / "fam", "toy-rates", [
        {"name": "quiet", "weights": files[0], "noise_range": [None, 2.0]},
        {"name": "at30", "weights": folder / "src3.safetensors", "noise_range": [2.0, None],
         "frame_rate_range": [21.2, 42.4]},
        {"name": "noisy", "weights": files[1], "noise_range": [2.0, None]},
    ])
    return load_folder(folder / "fam"), files, folder / "src3.safetensors"


def test_a_member_with_a_frame_rate_range_serves_only_those_rates(rate_family):
    model, files, at30 = rate_family
    nus = np.array([0.5, 5.0, 50.0, np.nan])
    assert model.route(nus, frame_rate=30.0) == [0, 1, 1, 0]
    assert model.route(nus, frame_rate=42.4) == [0, 2, 2, 0]  # [low, high): 42.4 Hz is past the band
    assert model.route(nus, frame_rate=21.2) == model.route(nus, frame_rate=30.0)
    assert model.route(nus, frame_rate=7.5) == [0, 2, 2, 0]
    assert model.route(nus, frame_rate=15.0, override=0.1) == [0, 0, 0, 0]
    x = _traces()
    fast = model.predict(x, 30.0, stride=8)
    assert list(fast.member) == ["quiet", "at30"]
    own = ens2zoo.create("unet", weights=at30, features=3).predict(x[1], 30.0, stride=8)
    np.testing.assert_array_equal(fast.rate[1], own.rate[0])
    slow = model.predict(x[:, ::4], 7.5, stride=8)
    assert list(slow.member) == ["quiet", "noisy"]
    single = ens2zoo.create("unet", weights=files[1], features=3).predict(x[1, ::4], 7.5, stride=8)
    np.testing.assert_array_equal(slow.rate[1], single.rate[0])  # the noisy member's own rate, per frame


def test_the_evaluation_routes_a_neuron_by_its_frame_rate_too(rate_family, small_root):
    from ens2zoo.data import load_dataset

    model, _, _ = rate_family
    neuron = load_dataset(small_root / "DS03-x", progress=None).neurons[0]
    for rate, member in ((30.0, "at30"), (60.0, "noisy")):
        moved = dataclasses.replace(neuron, frame_rate=rate, noise_level=5.0)
        assert neuron_prediction(model, moved, stride=8).member == member


def test_the_manifest_records_a_frame_rate_range_only_where_one_is_set(rate_family):
    model, _, _ = rate_family
    members = {m.name: m for m in model.entry.members}
    assert members["at30"].frame_rate_range == (21.2, 42.4) and members["noisy"].frame_rate_range == (None, None)
    assert members["at30"].serves_frame_rate(30.0) and not members["at30"].serves_frame_rate(60.0)
    record = json.loads((Path(model.entry.base_dir) / "manifest.json").read_text())["models"][0]
    assert [("frame_rate_range" in m) for m in record["members"]] == [False, True, False]


def test_a_family_carries_its_spike_estimator_and_predict_can_override_it(family, tmp_path, small_root):
    from ens2zoo.data import load_dataset
    from ens2zoo.inference.spikes import estimate_spikes, spike_times
    from ens2zoo.io.formats import write_results

    _, files = family
    write_family(tmp_path / "fam", "toy", [{"name": "only", "weights": files[0], "noise_range": [None, None]}],
                 spike_estimator="count")
    record = json.loads((tmp_path / "fam" / "manifest.json").read_text())["models"][0]
    assert record["preprocessing"]["spike_estimator"] == "count"
    model = load_folder(tmp_path / "fam")
    assert model.preprocessing.spike_estimator == "count"
    x = _traces() * 20
    counted = model.predict(x, 30.0, stride=8)
    greedy = model.predict(x, 30.0, stride=8, spike_estimator="greedy")
    np.testing.assert_array_equal(counted.rate, greedy.rate)
    # per neuron: the family's default is the count estimator on the same rate, the override the published one
    np.testing.assert_array_equal(counted.spikes, estimate_spikes(counted.rate, estimator="count"))
    np.testing.assert_array_equal(greedy.spikes, estimate_spikes(greedy.rate))
    assert (counted.spike_estimator, greedy.spike_estimator) == ("count", "greedy")
    assert counted.spikes.sum() != greedy.spikes.sum()
    with np.load(write_results(tmp_path / "out.npz", counted)) as z:
        assert str(z["spike_estimator"]) == "count"
    neuron = load_dataset(small_root / "DS03-x", progress=None).neurons[0]
    scored = neuron_prediction(model, neuron, stride=8)  # the evaluation scores the spikes predict gives
    np.testing.assert_array_equal(scored.pred_events, spike_times(
        estimate_spikes(scored.pred_rate, estimator="count")))
    assert len(scored.pred_events) != estimate_spikes(scored.pred_rate).sum()
    switched = model.with_spike_estimator("greedy")  # the same networks, another default
    assert switched.preprocessing.spike_estimator == "greedy" and model.preprocessing.spike_estimator == "count"
    np.testing.assert_array_equal(switched.predict(x, 30.0, stride=8).spikes, greedy.spikes)
    with pytest.raises(ens2zoo.InputError, match="spike estimator 'oasis' is not one of greedy, count"):
        model.with_spike_estimator("oasis")
    with pytest.raises(ens2zoo.InputError, match="'count' as many spikes as the rate sums to"):
        model.predict(x, 30.0, stride=8, spike_estimator="oasis")
    with pytest.raises(RegistryError, match="spike_estimator 'oasis' is not one of greedy, count"):
        write_family(tmp_path / "bad", "toy", [{"name": "only", "weights": files[0], "noise_range": [None, None]}],
                     spike_estimator="oasis")
    assert not (tmp_path / "bad" / "manifest.json").exists()
