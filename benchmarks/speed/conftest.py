"""Fixtures locating ``$ENS2ZOO_SHARED`` (default ``../shared``); a benchmark that needs an absent folder is skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("ENS2ZOO_SHARED", Path(__file__).resolve().parents[3] / "shared")).resolve()


def shared_folder(sub: str) -> Path:
    """``SHARED/sub``, or skip the benchmark naming what is missing."""
    path = SHARED / sub
    if not path.exists():
        pytest.skip(f"{path} is absent: set ENS2ZOO_SHARED to the folder holding ens2_reference/ and ground_truth/")
    return path


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``$ENS2ZOO_SHARED/ens2_reference``: published weights and outputs."""
    return shared_folder("ens2_reference")


@pytest.fixture(scope="session")
def ground_truth_dir() -> Path:
    """``$ENS2ZOO_SHARED/ground_truth``: the CASCADE-format ground-truth database."""
    return shared_folder("ground_truth")
