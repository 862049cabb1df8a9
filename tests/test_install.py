"""A wheel carries the zoo: built, installed into a temporary folder and used from outside the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11


def test_every_subpackage_is_listed_for_setuptools():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ens2zoo").rglob("__init__.py")}
    assert found | {"ens2zoo.zoo_weights"} == listed


@pytest.mark.slow
def test_wheel_installs_and_loads_the_zoo(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("ens2zoo-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import numpy as np, ens2zoo; m = ens2zoo.load('ens2-exc'); "
            "r = m.predict(np.random.default_rng(0).normal(0, 0.05, (1, 600)), 30.0, stride=16); "
            "print(ens2zoo.__file__); print(m.entry.resolve(m.entry.members[0].weights)); print(r.rate.shape)")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "ENS2ZOO_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    module, weights, shape = out.stdout.strip().splitlines()
    assert module.startswith(str(target)) and weights.startswith(str(target / "ens2zoo" / "zoo_weights"))
    assert shape == "(1, 1200)"
