"""The GPU-run helpers in benchmarks/gpu/: the lossless ground-truth pack and the grid's task plan."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from shared_data import DS03_FILES, REPO_ROOT


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"gpu_{name}", REPO_ROOT / "benchmarks" / "gpu" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


export_data = _script("export_data")
grid = _script("grid")


@pytest.mark.parametrize("delta", [False, True])
@pytest.mark.parametrize("array", [
    np.arange(0.0, 12.5, 1 / 60.0).reshape(1, -1),                     # time stamps, nearly evenly spaced
    np.array([[0.25, np.nan, -np.inf, 1e-300, -0.0, 5e300]]),           # values that must survive bit for bit
    np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    np.zeros((0, 0)),
])
def test_encode_decode_is_bit_exact(array, delta):
    encoded = export_data.encode(array, delta)
    assert encoded.dtype == np.uint8 and encoded.size == array.nbytes
    decoded = export_data.decode(encoded, array.dtype, array.shape, delta)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    assert decoded.tobytes() == array.tobytes()


def test_pack_unpack_rebuilds_every_neuron(tmp_path, ground_truth_dir):
    data = tmp_path / "shared" / "ground_truth"
    (data / "DS03-x").mkdir(parents=True)
    source = next(ground_truth_dir.glob("DS03-*"))
    for f in DS03_FILES:
        (data / "DS03-x" / f).symlink_to(source / f)
    reference = data.parent / "ens2_reference"
    reference.mkdir()
    for f in export_data.REFERENCE_FILES:
        (reference / f).write_bytes(f.encode())
    export_data.pack(data, tmp_path / "pack")
    export_data.unpack(tmp_path / "pack", tmp_path / "there")
    export_data.check(data, tmp_path / "there")  # raises SystemExit on any difference
    assert sorted(p.name for p in (tmp_path / "there" / "ens2_reference").iterdir()) == sorted(
        export_data.REFERENCE_FILES)
    # a rebuilt file that differs is caught
    rebuilt = tmp_path / "there" / "ground_truth" / "DS03-x" / DS03_FILES[1]
    rebuilt.unlink()
    rebuilt.symlink_to(source / DS03_FILES[0])
    with pytest.raises(SystemExit, match="does not load to the same neuron"):
        export_data.check(data, tmp_path / "there")


def test_grid_plans_only_what_is_not_committed(tmp_path, monkeypatch):
    lodo = tmp_path / "benchmarks" / "lodo"
    (lodo / "weights" / "ens2-exc_lodo_DS02").mkdir(parents=True)
    (lodo / "weights" / "ens2-exc_lodo_DS02" / "manifest.json").write_text("{}")
    for name in ("unet_lodo_DS02", "unet_lodo_DS03", "mlp_lodo_DS03"):
        (lodo / "weights" / f"{name}.safetensors").write_bytes(b"")
    (tmp_path / "zoo_weights").mkdir()
    (tmp_path / "zoo_weights" / "ens2-inh-nm.safetensors").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(grid, "LODO", Path("benchmarks/lodo"))
    tasks = {t.name: t for t in grid.plan("/data")}
    assert "unet:DS02" not in tasks and "unet:DS03" not in tasks and "unet:DS04" in tasks
    assert "ens2-exc:DS02" not in tasks and "ens2-v1:DS02" not in tasks
    family = tasks["ens2-exc:DS03"].argv  # one task: the family recipe trains the members, then scores
    assert family[family.index("--recipe") + 1] == "ens2-exc" and "--conditions" in family
    assert tasks["ens2-inh:DS23"].argv[-2:] == ["--training-datasets", "DS2[2-7]*"]
    assert "zoo:ens2-inh-nm" not in tasks and "mlp:DS03" not in tasks and "mlp:DS04" in tasks
    assert {n.split(":")[1] for n in tasks if n.startswith("cascade:")} == set(grid.PEER_FOLDS)
    assert {n.split(":")[1] for n in tasks if n.startswith("cascade-fixed:")} == set(grid.PEER_FOLDS)
    assert tasks["cascade-fixed:DS09"].argv[-2:] == ["--conditions-stride", "4"]  # native rows exact
    assert all(t.argv[0] == sys.executable for t in tasks.values())


def test_grid_fast_plan_trains_each_variant_then_scores_it(tmp_path, monkeypatch):
    (tmp_path / "benchmarks" / "fast" / "weights").mkdir(parents=True)
    done = tmp_path / "benchmarks" / "fast" / "weights" / "ens2-exc-fast-base_lodo_DS07.safetensors"
    done.write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(grid, "FAST", Path("benchmarks/fast"))
    tasks = {t.name: t for t in grid.plan_fast("/data")}
    variants, folds = len(grid.FAST_VARIANTS), len(grid.FAST_SELECTION_FOLDS)
    assert sum(n.startswith("eval-") for n in tasks) == variants * folds
    assert len(tasks) == 2 * variants * folds - 1  # the committed student is only scored
    assert "fast-base:DS07" not in tasks and tasks["eval-fast-base:DS07"].needs == []
    train, score = tasks["fast-wide:DS21"], tasks["eval-fast-wide:DS21"]
    assert score.needs == ["fast-wide:DS21", "eval-fast-base:DS21"]  # the teacher is scored once per fold
    assert tasks["eval-fast-data:DS07"].needs == ["fast-data:DS07", "eval-fast-base:DS07"]
    weights = train.argv[train.argv.index("-o") + 1]
    assert weights.endswith("ens2-exc-fast-wide_lodo_DS21.safetensors")
    assert score.argv[score.argv.index("--student") + 1] == weights
    assert "--channels" in train.argv and "cuda" in train.argv


def test_grid_only_keeps_the_selected_tasks_and_drops_needs_left_out(tmp_path, monkeypatch):
    (tmp_path / "benchmarks" / "fast" / "weights").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(grid, "FAST", Path("benchmarks/fast"))
    tasks = {t.name: t for t in grid.select(grid.plan_fast("/data"), "fast-data:,eval-fast-data:")}
    assert set(tasks) == {f"{p}fast-data:{f}" for p in ("", "eval-") for f in grid.FAST_SELECTION_FOLDS}
    assert tasks["eval-fast-data:DS11"].needs == ["fast-data:DS11"]  # eval-fast-base:DS11 was left out
    all_tasks = grid.select(grid.plan_fast("/data"), None)
    assert len(all_tasks) == 2 * len(grid.FAST_VARIANTS) * len(grid.FAST_SELECTION_FOLDS)
