"""The GPU grid's task plan (benchmarks/gpu/grid.py, run through its command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from ens2zoo.data.groups import FAST_SELECTION_FOLDS, PEER_FOLDS

from shared_data import REPO_ROOT

#: the student variants grid.py plans (its FAST_VARIANTS)
N_FAST_VARIANTS = 3


def _plan(cwd: Path, *options: str) -> dict:
    """The grid's planned tasks (``grid.py --list``: the script run as it runs on the GPU machine, from ``cwd``)."""
    out = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "gpu" / "grid.py"), "--data", "/data",
                          "--list", *options], cwd=cwd, capture_output=True, text=True, check=True).stdout
    return {t["name"]: SimpleNamespace(**t) for t in json.loads(out)}


def test_grid_plans_only_what_is_not_committed(tmp_path):
    lodo = tmp_path / "benchmarks" / "lodo"
    (lodo / "weights" / "ens2-exc_lodo_DS02").mkdir(parents=True)
    (lodo / "weights" / "ens2-exc_lodo_DS02" / "manifest.json").write_text("{}")
    for name in ("unet_lodo_DS02", "unet_lodo_DS03", "mlp_lodo_DS03"):
        (lodo / "weights" / f"{name}.safetensors").write_bytes(b"")
    (tmp_path / "zoo_weights").mkdir()
    (tmp_path / "zoo_weights" / "ens2-inh-nm.safetensors").write_bytes(b"")
    tasks = _plan(tmp_path, "--device", "cuda")
    assert "unet:DS02" not in tasks and "unet:DS03" not in tasks and "unet:DS04" in tasks
    assert "ens2-exc:DS02" not in tasks and "ens2-v1:DS02" not in tasks
    family = tasks["ens2-exc:DS03"].argv  # one task: the family recipe trains the members, then scores
    assert family[family.index("--recipe") + 1] == "ens2-exc" and "--conditions" in family
    assert tasks["ens2-inh:DS23"].argv[-2:] == ["--training-datasets", "DS2[2-7]*"]
    assert "zoo:ens2-inh-nm" not in tasks and "mlp:DS03" not in tasks and "mlp:DS04" in tasks
    assert {n.split(":")[1] for n in tasks if n.startswith("cascade:")} == set(PEER_FOLDS)
    assert {n.split(":")[1] for n in tasks if n.startswith("cascade-fixed:")} == set(PEER_FOLDS)
    assert tasks["cascade-fixed:DS09"].argv[-2:] == ["--conditions-stride", "4"]  # native rows exact
    assert all(t.argv[0] == sys.executable for t in tasks.values())


def test_grid_fast_plan_trains_each_variant_then_scores_it(tmp_path):
    (tmp_path / "benchmarks" / "fast" / "weights").mkdir(parents=True)
    done = tmp_path / "benchmarks" / "fast" / "weights" / "ens2-exc-fast-base_lodo_DS07.safetensors"
    done.write_bytes(b"")
    tasks = _plan(tmp_path, "--plan", "fast")
    selected = _plan(tmp_path, "--plan", "fast", "--only", "fast-data:,eval-fast-data:")
    variants, folds = N_FAST_VARIANTS, len(FAST_SELECTION_FOLDS)
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
    # --only keeps the selected tasks; a need left out of the selection no longer holds a task back
    assert set(selected) == {f"{p}fast-data:{f}" for p in ("", "eval-") for f in FAST_SELECTION_FOLDS}
    assert selected["eval-fast-data:DS11"].needs == ["fast-data:DS11"]  # eval-fast-base:DS11 was left out
