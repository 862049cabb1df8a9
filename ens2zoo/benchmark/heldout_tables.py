"""The GCaMP8 tables of the LODO report: models scored on the held-out mice of the GCaMP8 mouse folds.

Reads ``<model>_<FOLD>_conditions.csv`` (``ens2zoo evaluate --fold FOLD --conditions ...``; see
``benchmarks/gcamp8/evaluate_folds.sh``) from a folder, and writes markdown: per condition, pooled
over the report folds that every compared model has, the median correlation (%) and the median
``count`` (Σ rate / true spikes) with its interquartile range, for each model, on the same
neurons; then the same per indicator variant (jGCaMP8f, 8m, 8s).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ens2zoo.benchmark.conditions import parse_conditions, row_condition
from ens2zoo.benchmark.evaluation import format_value, nan_median, read_csv, row_count
from ens2zoo.data.dataset import parse_dataset_name
from ens2zoo.data.groups import GCAMP8_CONDITIONS, GCAMP8_REPORT_FOLDS

__all__ = ["collect_mouse_folds", "gcamp8_lines", "median_iqr"]

_FILE = re.compile(r"(.+)_(M\d+)_conditions\.csv")
#: models in the order the tables show them (others follow, sorted)
_ORDER = ("ens2-exc", "ens2-gcamp8", "cascade-published")

Tables = dict[str, dict[str, list[dict]]]


def collect_mouse_folds(folder: str | Path) -> Tables:
    """model → fold → per-neuron condition rows, from ``folder/<model>_<FOLD>_conditions.csv``."""
    out: Tables = {}
    for path in sorted(Path(folder).glob("*_M*_conditions.csv")):
        if m := _FILE.fullmatch(path.name):
            out.setdefault(m.group(1), {})[m.group(2)] = read_csv(path)
    return out


def _variant(dataset: str) -> str:
    return parse_dataset_name(dataset).indicator  # "GCaMP8f", ...


def median_iqr(values: Sequence[float | None]) -> str:
    """``"median [q1, q3]"`` of the finite values, two decimals; "—" when none."""
    vals = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if not vals.size:
        return "—"
    q1, q2, q3 = np.percentile(vals, [25, 50, 75])
    return f"{q2:.2f} [{q1:.2f}, {q3:.2f}]"


def _rows(tables: Tables, model: str, folds: Sequence[str], label: str, variant: str | None) -> list[dict]:
    return [r for f in folds for r in tables[model][f] if row_condition(r).label == label
            and (variant is None or _variant(str(r["dataset"])) == variant)]


def _table(tables: Tables, models: Sequence[str], folds: Sequence[str], variant: str | None) -> list[str]:
    lines = ["| condition | neurons | " + " | ".join(f"corr {m}" for m in models) + " | Δ corr | "
             + " | ".join(f"count {m} [IQR]" for m in models) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in models) + " | ---: | "
             + " | ".join("---:" for _ in models) + " |"]
    for cond in parse_conditions(GCAMP8_CONDITIONS):
        rows = {m: _rows(tables, m, folds, cond.label, variant) for m in models}
        if not all(rows.values()):
            continue
        corr = {m: nan_median(r["corr"] for r in rows[m]) for m in models}
        delta = corr[models[1]] - corr[models[0]] if len(models) > 1 else float("nan")
        counts = {m: median_iqr([row_count(r) for r in rows[m]]) for m in models}
        lines.append(f"| {cond.label} | {len(rows[models[0]])} | "
                     + " | ".join(format_value(corr[m]) for m in models)
                     + f" | {format_value(delta, '+.1f')} | " + " | ".join(counts[m] for m in models) + " |")
    return lines


def gcamp8_lines(folder: str | Path, folds: Sequence[str] = GCAMP8_REPORT_FOLDS) -> list[str]:
    """Markdown for the GCaMP8 section of the report (empty when no fold table is there)."""
    tables = collect_mouse_folds(folder)
    models = [m for m in _ORDER if m in tables] + sorted(m for m in tables if m not in _ORDER)
    common = [f for f in folds if models and all(f in tables[m] for m in models)]
    if not common:
        return []
    held = {f: len({r["neuron"] for r in tables[models[0]][f]}) for f in common}
    lines = ["## jGCaMP8 (DS30–DS32), held-out mice", "",
             "Each mouse fold (`ens2zoo.data.groups`) holds out one or two mice of every variant and trains "
             "`ens2-gcamp8` on all other GCaMP8 mice (`benchmarks/gcamp8/`); `ens2-exc` never saw GCaMP8. "
             f"Report folds pooled: {', '.join(f'{f} ({held[f]} neurons)' for f in common)} "
             f"(missing: {', '.join(f for f in folds if f not in common) or 'none'}). "
             "Correlation (%) and `count` (Σ rate / true spikes per neuron; 1 = calibrated) are medians over the "
             "same neurons; conditions re-image each recording at R Hz and ν (`30:0`: 30 Hz at its own noise), "
             "window stride 4; Δ corr is the second model minus the first.", "",
             *_table(tables, models, common, None), ""]
    variants = sorted({_variant(str(r["dataset"])) for f in common for r in tables[models[0]][f]})
    for v in variants:
        lines += [f"### {v}", "", *_table(tables, models, common, v), ""]
    return lines

