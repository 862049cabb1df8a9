"""Fixtures locating ``../shared`` (reference data, ground truth).

The folder is found through ``ENS2ZOO_SHARED`` (default: ``../shared`` beside the
repository).  Where it is absent, tests that need it are skipped with a reason;
under CI (``CI=true``) its absence is an error, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    return Path(os.environ.get("ENS2ZOO_SHARED", REPO_ROOT.parent / "shared")).resolve()


def _require(sub: str) -> Path:
    path = shared_root() / sub
    if not path.exists():
        msg = (f"{path} is absent: set ENS2ZOO_SHARED to the folder holding "
               "ens2_reference/ and ground_truth/")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI must not skip reference tests)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``$ENS2ZOO_SHARED/ens2_reference``: published weights and outputs."""
    return _require("ens2_reference")


@pytest.fixture(scope="session")
def ground_truth_dir() -> Path:
    """``$ENS2ZOO_SHARED/ground_truth``: the CASCADE-format ground-truth database."""
    return _require("ground_truth")


@pytest.fixture(scope="session")
def suite2p_fixture_dir() -> Path:
    """``$ENS2ZOO_SHARED/suite2p_fixture``: a plane suite2p 1.1.0 wrote from a simulated movie, with its truth."""
    return _require("suite2p_fixture")


#: two small DS03 neurons with several recordings each (recording boundaries matter) and one DS05 neuron (7.8 Hz)
DS03_FILES = ("CAttached_S1_Cal520_cell2_mini.mat", "CAttached_S1_Cal520_cell3_mini.mat")
DS05_FILES = ("CAttached_Cal520_pDp_190118_Fish1_cell2_mini.mat",)


@pytest.fixture(scope="session")
def small_root(tmp_path_factory, ground_truth_dir) -> Path:
    """A ground-truth folder with DS03-x (2 neurons of DS03) and DS05-x (1 neuron of DS05), as symlinks."""
    root = tmp_path_factory.mktemp("gt")
    for name, files in (("DS03-x", DS03_FILES), ("DS05-x", DS05_FILES)):
        folder = root / name
        folder.mkdir()
        source = next(ground_truth_dir.glob(name.split("-")[0] + "-*"))
        for f in files:
            (folder / f).symlink_to(source / f)
    return root
