"""Model families: written with write_family, loaded by folder or name, each neuron routed by its ν."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ens2zoo
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
