"""Figures of the condition benchmark: median correlation against noise level, per frame rate."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import nan_median, read_csv
from ens2zoo.errors import InputError
from ens2zoo.utils.atomic import atomic_path

__all__ = ["condition_medians", "plot_condition_curves"]

TableArg = str | os.PathLike | Sequence[Mapping] | Sequence[str | os.PathLike]


def _rows(table: TableArg) -> list[Mapping]:
    """Rows of one model: a CSV path, several CSV paths (e.g. one per LODO fold), or rows."""
    if isinstance(table, (str, os.PathLike)):
        return read_csv(table)
    items = list(table)
    if items and all(isinstance(t, (str, os.PathLike)) for t in items):
        return [r for t in items for r in read_csv(t)]
    return items


def condition_medians(rows: Sequence[Mapping], metric: str = "corr") -> dict[tuple[float, float] | None, float]:
    """Median ``metric`` over all neurons per condition: ``{(rate, ν): median}``, ``None`` for native."""
    groups: dict[tuple[float, float] | None, list] = {}
    for row in rows:
        if metric not in row:
            raise InputError(f"the rows have no {metric!r} column: give condition tables written by "
                             "ens2zoo evaluate --conditions")
        cond = row_condition(row)
        key = None if cond.is_native else (float(cond.frame_rate), float(cond.noise_level))
        groups.setdefault(key, []).append(row[metric])
    return {k: nan_median(v) for k, v in groups.items()}


def plot_condition_curves(tables: Mapping[str, TableArg], path: str | os.PathLike, *, metric: str = "corr",
                          title: str | None = None) -> Path:
    """Write a figure: median ``metric`` against ν, one panel per frame rate, one line per model.

    Args:
        tables: model label → its condition rows (rows, a CSV written by ``evaluate --conditions``
            or a list of such CSVs, e.g. the ``*_conditions.csv`` of every LODO fold).
        path: image file (format from the suffix: ``.png``, ``.pdf``, ``.svg``), written atomically.
        metric: the column to plot (default ``corr``, %).

    A model's ``native`` median, where its rows have one, is drawn as a dashed horizontal line.
    """
    if not tables:
        raise InputError("no condition table to plot: give at least one model's rows")
    medians = {label: condition_medians(_rows(t), metric) for label, t in tables.items()}
    rates = sorted({k[0] for m in medians.values() for k in m if k is not None}, reverse=True)
    if not rates:
        raise InputError("the tables hold no RATE:NU condition to plot (only native rows): evaluate with "
                         "--conditions, e.g. 30:2,30:4,7.5:4")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rates), figsize=(3.4 * len(rates) + 0.6, 3.4), sharey=True, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, med) in enumerate(medians.items()):
        colour = colours[i % len(colours)]
        for ax, rate in zip(axes[0], rates):
            points = sorted((k[1], v) for k, v in med.items() if k is not None and k[0] == rate)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color=colour, label=label)
            native = med.get(None)
            if native is not None and not math.isnan(native):
                ax.axhline(native, color=colour, ls="--", lw=0.8)
    for ax, rate in zip(axes[0], rates):
        ax.set_title(f"{rate:g} Hz")
        ax.set_xlabel("noise level ν (%·Hz$^{-1/2}$)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(f"median {metric}" + (" (%)" if metric in ("corr", "er50") else ""))
    axes[0, -1].legend(fontsize=8, loc="best")
    fig.suptitle(title or f"median {metric} by recording condition (dashed: native)", fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120)
    finally:
        plt.close(fig)
    return Path(path)
