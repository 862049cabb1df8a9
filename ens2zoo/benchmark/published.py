"""The published ENS² LODO table (``published_lodo_metrics.csv``): finding, reading and summarising it."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from pathlib import Path

from ens2zoo.benchmark.evaluation import nan_median
from ens2zoo.errors import InputError

#: Metrics summarised against the published table.
SUMMARY_METRICS = ("corr", "er50", "vpd")


_DS_RE = re.compile(r"^(?:DS)?0*(\d+)$", re.IGNORECASE)


def dataset_number(label: str) -> int:
    """``"DS09"``, ``"ds9"``, ``"9"`` or a folder name ``"DS09-GCaMP6f-m-V1"`` → 9."""
    head = label.strip().split("-", 1)[0]
    match = _DS_RE.match(head)
    if not match:
        raise InputError(f"{label!r} does not name a dataset: use its DS prefix, e.g. DS09")
    return int(match.group(1))


def published_metrics_path() -> Path | None:
    """``$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv`` (default ``../shared``), if it exists."""
    roots = [Path(os.environ["ENS2ZOO_SHARED"])] if os.environ.get("ENS2ZOO_SHARED") else \
        [Path("../shared"), Path(__file__).resolve().parents[2].parent / "shared"]
    for root in roots:
        path = root / "ens2_reference" / "published_lodo_metrics.csv"
        if path.is_file():
            return path
    return None


def read_published_metrics(path: Path | None) -> list[dict]:
    """Rows of the published per-neuron LODO table as floats (none if ``path`` is None)."""
    if path is None:
        return []
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                out.append({k: float(v) for k, v in row.items() if v not in ("", None)})
            except ValueError as exc:
                raise InputError(f"{path}: not a published metrics table ({exc})") from exc
    return out


def published_medians(number: int, rows: Sequence[dict]) -> dict:
    """Published medians (corr, er50, vpd) and neuron count of dataset ``number``."""
    mine = [r for r in rows if int(r.get("dset", -1)) == number]
    if not mine:
        return {"published_neurons": None, **{f"published_{m}": None for m in SUMMARY_METRICS}}
    return {"published_neurons": len(mine),
            **{f"published_{m}": nan_median(r.get(m) for r in mine) for m in SUMMARY_METRICS}}
