"""The dataset catalogue (groups, neuron selections, GCaMP8 mouse folds) and family recipes trained from the CLI."""

from __future__ import annotations

import csv
import itertools
import json
from fnmatch import fnmatchcase as fm
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from ens2zoo.cli.main import main
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import (
    GCAMP8_MICE,
    GCAMP8_MOUSE_FOLDS,
    GCAMP8_REPORT_FOLDS,
    GCAMP8_SELECTION_FOLDS,
    GROUPS,
    dataset_pattern,
    get_fold,
    mouse_of,
    select_neurons,
    split_selection,
)
from ens2zoo.errors import InputError, RegistryError
from ens2zoo.training.recipes import FAMILY_RECIPES, get_recipe
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.workflows.factory import load_folder
from ens2zoo.zoo.manifest import write_family

#: two mice of jGCaMP8f and one of jGCaMP8m: enough for a fold's held-out and training side
GCAMP8_FILES = {"DS30-GCaMP8f-m-V1": ("CAttached_jGCaMP8f_478348_1_mini.mat", "CAttached_jGCaMP8f_478342_1_mini.mat"),
                "DS31-GCaMP8m-m-V1": ("CAttached_jGCaMP8m_479118_1_mini.mat",)}


def test_mouse_of_reads_the_file_name():
    assert mouse_of("CAttached_jGCaMP8f_471993_1_mini.mat") == "471993"
    assert mouse_of("CAttached_jGCaMP8m_479118_6_mini") == "479118"
    assert mouse_of("CAttached_S1_Cal520_cell2_mini.mat") is None


def test_selection_items_groups_and_exclusions():
    inc, exc = split_selection("gcamp8,DS09*/*cell1*,!DS31*/*_479118_*,!DS32*")
    assert inc == [("DS3[0-2]*", "*"), ("DS09*", "*cell1*")]
    assert exc == [("DS31*", "*_479118_*"), ("DS32*", "*")]
    assert dataset_pattern("excitatory,!DS09*") == GROUPS["excitatory"]


def test_mouse_folds_hold_out_every_mouse_once_and_every_variant_in_each_fold():
    held = [m for f in GCAMP8_MOUSE_FOLDS.values() for _, m in
            (item.split("/*_") for item in f.held_out.split(","))]
    mice = [m.rstrip("_*") for m in held]
    assert sorted(mice) == sorted(m for ms in GCAMP8_MICE.values() for m in ms)  # each exactly once
    for fold in GCAMP8_MOUSE_FOLDS.values():
        variants = {item.split("*")[0] for item in fold.held_out.split(",")}
        assert variants == {"DS30", "DS31", "DS32"}, fold.name
    assert set(GCAMP8_SELECTION_FOLDS).isdisjoint(GCAMP8_REPORT_FOLDS)
    assert set(GCAMP8_SELECTION_FOLDS) | set(GCAMP8_REPORT_FOLDS) == set(GCAMP8_MOUSE_FOLDS)


def test_mouse_folds_match_the_database(ground_truth_dir):
    """The catalogue's mice are the files' mice; a fold's training and held-out neurons split the group."""
    files = {f.name: sorted(p.name for p in f.glob("*.mat")) for f in find_datasets(ground_truth_dir, GROUPS["gcamp8"])}
    for name, names in files.items():
        assert tuple(sorted({mouse_of(n) for n in names})) == GCAMP8_MICE[name[:4]]
    fold = GCAMP8_MOUSE_FOLDS["M2"]
    everything = {(d, n) for d, ns in files.items() for n in ns}

    def chosen(pattern):
        inc, exc = split_selection(pattern)
        return {(d, n) for d, n in everything if any(fm(d, a) and fm(n, b) for a, b in inc)
                and not any(fm(d, a) and fm(n, b) for a, b in exc)}

    held, training = chosen(fold.held_out), chosen(fold.training)
    assert held and training and not held & training and held | training == everything
    assert {mouse_of(n) for _, n in held} == {"471994", "472180", "472182"}
    for variant in ("DS30", "DS31", "DS32"):  # the variant folds: one variant out, the other two train
        fold = get_fold(variant.lower())
        held, training = chosen(fold.held_out), chosen(fold.training)
        assert {d for d, _ in held} == {d for d in files if d.startswith(variant)}
        assert held | training == everything and not held & training
        assert not {d for d, _ in training} & {d for d, _ in held}


@pytest.fixture(scope="module")
def gcamp8_root(tmp_path_factory, ground_truth_dir) -> Path:
    root = tmp_path_factory.mktemp("gt8")
    for name, names in GCAMP8_FILES.items():
        (root / name).mkdir()
        for n in names:
            (root / name / n).symlink_to(ground_truth_dir / name / n)
    return root


def test_select_neurons_keeps_the_selected_files(gcamp8_root):
    datasets = [load_dataset(f) for f in find_datasets(gcamp8_root, "*")]
    kept = select_neurons(datasets, "gcamp8,!DS30*/*_478348_*")
    assert [(d.name, [n.name for n in d.neurons]) for d in kept] == [
        ("DS30-GCaMP8f-m-V1", ["CAttached_jGCaMP8f_478342_1_mini"]),
        ("DS31-GCaMP8m-m-V1", ["CAttached_jGCaMP8m_479118_1_mini"])]
    with pytest.raises(InputError, match="no neuron matches"):
        select_neurons(datasets, "DS30*/*_999999_*")


def _tensors(path: Path) -> dict[str, np.ndarray]:
    return load_file(str(path))


def test_family_recipe_trains_both_members_routes_and_records_the_override(gcamp8_root, tmp_path, capsys):
    out = tmp_path / "g8"
    args = ["train", "--recipe", "ens2-gcamp8", "--max-iter", "2", "--threads", "1", "--data", str(gcamp8_root),
            "--datasets", "gcamp8,!DS30*/*_478348_*", "-o", str(out), "--log-every", "0"]
    assert main(args) == 0
    assert "wrote family ens2-gcamp8" in capsys.readouterr().out
    record = json.loads((out / "manifest.json").read_text())["models"][0]
    assert [m["name"] for m in record["members"]] == ["ens2-gcamp8-v1", "ens2-gcamp8-nm30", "ens2-gcamp8-nm"]
    assert [m.get("frame_rate_range") for m in record["members"]] == [None, [21.2, 42.4], None]
    assert record["provenance"]["family_recipe"]["name"] == "ens2-gcamp8"
    assert record["provenance"]["overrides"] == {"max_iter": 2}
    assert record["indicators"] == ["gcamp8f", "gcamp8m"]  # of its training data
    nm = record["members"][2]
    seeds = [n["seed"] for n in safetensors_metadata(out / nm["weights"])["training"]["networks"]]
    assert len(set(seeds)) == 3 and seeds[0] == 0  # 2 iterations: a network may learn nothing, then another seed
    assert sorted(p.name for p in out.iterdir()) == ["ens2-gcamp8-nm.safetensors", "ens2-gcamp8-nm30.safetensors",
                                                     "ens2-gcamp8-v1.safetensors",
                                                     "manifest.json"]  # the ensembles' parts are gone
    assert nm["trained_frame_rates"][0] == 7.5 and nm["trained_noise_levels"][1] == 20.0  # from its re-imaging spec
    assert record["members"][1]["trained_frame_rates"][0] == 30.0
    for m in record["members"]:
        meta = safetensors_metadata(out / m["weights"])
        assert meta["recipe"]["name"] == m["name"] and meta["recipe"]["overrides"] == {"max_iter": 2}
        networks = meta["training"].get("networks", [meta["training"]])  # the nm members: ensembles
        assert [n["iterations"] for n in networks] == [2] * meta["recipe"]["config"].get("ensemble", 1)
        assert meta["training"]["neurons"] == 2
        assert "!DS30*/*_478348_*" in meta["training"]["selection"]

    # routing picks each member: by ν, and at ν ≥ 1.5 by the frame rate
    model = load_folder(out)
    rng = np.random.default_rng(0)
    traces = np.stack([rng.normal(0, 0.002, 900), rng.normal(0, 0.3, 900)])
    assert list(model.predict(traces, 30.0).member) == ["ens2-gcamp8-v1", "ens2-gcamp8-nm30"]
    assert list(model.predict(traces[:, ::4], 7.5).member) == ["ens2-gcamp8-v1", "ens2-gcamp8-nm"]

    # a re-run keeps the trained members; the same member recipe run alone gives the same weights
    shas = [m["sha256"] for m in record["members"]]
    assert main(args) == 0
    assert [m["sha256"] for m in json.loads((out / "manifest.json").read_text())["models"][0]["members"]] == shas
    single = tmp_path / "v1.safetensors"
    assert main(["train", "--recipe", "ens2-gcamp8-v1", "--max-iter", "2", "--threads", "1", "--data",
                 str(gcamp8_root), "--datasets", "gcamp8,!DS30*/*_478348_*", "-o", str(single),
                 "--log-every", "0"]) == 0
    a, b = _tensors(single), _tensors(out / "ens2-gcamp8-v1.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_capped_weights_stay_out_of_the_zoo(gcamp8_root, tmp_path, monkeypatch):
    out = tmp_path / "v1.safetensors"
    assert main(["train", "--recipe", "ens2-gcamp8-v1", "--max-iter", "1", "--threads", "1", "--data",
                 str(gcamp8_root), "-o", str(out), "--log-every", "0"]) == 0
    monkeypatch.setenv("ENS2ZOO_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(RegistryError, match="max_iter"):
        write_family(tmp_path, "toy", [{"name": "v1", "weights": out, "noise_range": [None, None]}])


def test_family_recipes_name_known_member_recipes_and_their_groups():
    for family in FAMILY_RECIPES.values():
        assert family.datasets in GROUPS
        for m in family.members:
            get_recipe(m.recipe)
        # the members serving every frame rate cover ν consecutively, from 0 to ∞; a member for some frame
        # rates (listed before them, so it wins there) serves a ν range they cover and a proper band of rates
        general = [m for m in family.members if m.frame_rate_range == (None, None)]
        ranges = [m.noise_range for m in general]
        assert ranges[0][0] is None and ranges[-1][1] is None
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        assert all(low is None or low < high for low, high in ranges[:-1])
        for m in family.members:
            if m.frame_rate_range != (None, None):
                low, high = m.frame_rate_range
                assert 0 < low < high and family.members.index(m) < family.members.index(general[-1])


def test_family_recipe_refuses_a_file_output_and_zoo_name(gcamp8_root, tmp_path, capsys):
    assert main(["train", "--recipe", "ens2-gcamp8", "--data", str(gcamp8_root), "-o",
                 str(tmp_path / "x.safetensors")]) == 2
    assert "writes a folder" in capsys.readouterr().err
    assert main(["train", "--recipe", "ens2-gcamp8", "--data", str(gcamp8_root), "-o", str(tmp_path / "f"),
                 "--zoo-name", "x"]) == 2
    assert "--zoo-name" in capsys.readouterr().err


def test_benchmark_trains_and_scores_a_family_per_fold(gcamp8_root, tmp_path, capsys):
    out = tmp_path / "lodo"
    args = ["benchmark", "--recipe", "ens2-gcamp8", "--max-iter", "2", "--threads", "1", "--lodo", "DS31",
            "--data", str(gcamp8_root), "--training-datasets", "DS3*", "--stride", "8", "-o", str(out)]
    assert main(args) == 0
    assert "ens2-gcamp8" in capsys.readouterr().out
    folder = out / "weights" / "ens2-gcamp8_lodo_DS31"
    record = json.loads((folder / "manifest.json").read_text())["models"][0]
    assert [m["name"] for m in record["members"]] == ["ens2-gcamp8-v1", "ens2-gcamp8-nm30", "ens2-gcamp8-nm"]
    assert record["provenance"]["overrides"] == {"max_iter": 2}
    assert record["training_data"] == ["DS30-GCaMP8f-m-V1"]  # the held-out dataset never trains
    rows = list(csv.DictReader(open(out / "ens2-gcamp8_lodo_DS31.csv")))
    assert [r["dataset"] for r in rows] == ["DS31-GCaMP8m-m-V1"]
    summary = list(csv.DictReader(open(out / "summary.csv")))
    assert [(r["recipe"], r["dataset"]) for r in summary] == [("ens2-gcamp8", "DS31")]
    # a member equals the same recipe trained alone on the fold's data
    single = tmp_path / "v1.safetensors"
    assert main(["train", "--recipe", "ens2-gcamp8-v1", "--max-iter", "2", "--threads", "1", "--data",
                 str(gcamp8_root), "--datasets", "DS3*", "--exclude", "DS31*", "-o", str(single),
                 "--log-every", "0"]) == 0
    a, b = _tensors(single), _tensors(folder / "ens2-gcamp8-v1.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    # a rerun reuses every member and table
    shas = [m["sha256"] for m in record["members"]]
    assert main(args) == 0
    assert [m["sha256"] for m in json.loads((folder / "manifest.json").read_text())["models"][0]["members"]] == shas
