"""The example notebooks run from top to bottom (executed with nbclient, outputs discarded)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["quickstart.ipynb", "benchmark.ipynb"])
def test_notebook_runs(name, tmp_path, monkeypatch, reference_dir):
    monkeypatch.setenv("ENS2ZOO_REPO", str(EXAMPLES.parent))
    monkeypatch.setenv("ENS2ZOO_SHARED", str(reference_dir.parent))
    book = nbformat.read(EXAMPLES / name, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), "strip outputs before committing"
    client = nbclient.NotebookClient(book, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert list(tmp_path.glob("*.png")), "the notebook draws its figures"
