"""Report tables of models on data they never saw: the GCaMP8 mouse folds, and CASCADE's published model.

:func:`gcamp8_lines` reads ``<model>_<FOLD>_conditions.csv`` (``ens2zoo evaluate --fold FOLD
--conditions ...``; ``benchmarks/gcamp8/evaluate_folds.sh``) and writes, per condition, pooled over
the report folds that every compared model has, the median correlation (%) and the median ``count``
(Σ rate / true spikes) with its interquartile range, for each model, on the same neurons; then the
same per indicator variant (jGCaMP8f, 8m, 8s); :func:`gcamp8_variant_lines` the variant folds
(``<family>_DS3x_conditions.csv``: a variant the family never saw).
:func:`cascade_published_lines` does the same per held-out dataset for CASCADE's published model
(``benchmarks/lodo/cascade_published.sh``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ens2zoo.benchmark.bootstrap import bootstrap_paired_difference_ci
from ens2zoo.benchmark.conditions import parse_conditions, row_condition
from ens2zoo.benchmark.evaluation import format_value, nan_median, read_csv, row_count
from ens2zoo.data.dataset import parse_dataset_name
from ens2zoo.data.groups import GCAMP8_CONDITIONS, GCAMP8_REPORT_FOLDS

__all__ = ["cascade_published_lines", "collect_mouse_folds", "gcamp8_lines", "gcamp8_variant_lines", "high_noise_lines",
           "median_iqr"]

_FILE = re.compile(r"(.+)_(M\d+)_conditions\.csv")
#: models in the order the tables show them (others follow, sorted)
_ORDER = ("ens2-exc", "ens2-gcamp8-indicator", "ens2-gcamp8-uncalibrated", "ens2-gcamp8-two-member",
          "ens2-gcamp8-one-network", "cascade-published")

Tables = dict[str, dict[str, list[dict]]]


def _collect(folder: str | Path, name: re.Pattern) -> Tables:
    """model → fold → per-neuron condition rows, from the files of ``folder`` whose names ``name`` matches
    (groups: model, fold)."""
    out: Tables = {}
    for path in sorted(Path(folder).glob("*_conditions.csv")):
        if m := name.fullmatch(path.name):
            out.setdefault(m.group(1), {})[m.group(2)] = read_csv(path)
    return out


def collect_mouse_folds(folder: str | Path) -> Tables:
    """model → fold → per-neuron condition rows, from ``folder/<model>_<FOLD>_conditions.csv``."""
    return _collect(folder, _FILE)


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
    return list(_keyed_rows(tables, model, folds, label, variant).values())


def _keyed_rows(tables: Tables, model: str, folds: Sequence[str], label: str,
                variant: str | None) -> dict[tuple[str, str, str], dict]:
    """(fold, dataset, neuron) → the model's row at condition ``label`` (of ``variant``'s neurons, or all)."""
    return {(f, str(r["dataset"]), str(r["neuron"])): r for f in folds for r in tables[model][f]
            if row_condition(r).label == label and (variant is None or _variant(str(r["dataset"])) == variant)}


def _cells(groups: Sequence[list[dict]]) -> tuple[str, list[str], list[str], str]:
    """(neurons, corr cells, count cells, Δ corr of the second against the first) of one table row."""
    corr = [nan_median(r["corr"] for r in rows) if rows else float("nan") for rows in groups]
    delta = corr[1] - corr[0] if len(corr) > 1 else float("nan")
    return (str(len(groups[0])), [format_value(c) for c in corr],
            [median_iqr([row_count(r) for r in rows]) for rows in groups], format_value(delta, "+.1f"))


def _header(models: Sequence[str], first: str) -> list[str]:
    return [f"| {first} | neurons | " + " | ".join(f"corr {m}" for m in models) + " | Δ corr | "
            + " | ".join(f"count {m} [IQR]" for m in models) + " |",
            f"| --- | ---: | {' | '.join('---:' for _ in models)} | ---: | {' | '.join('---:' for _ in models)} |"]


def _paired_interval(first: dict[tuple[str, str, str], dict], second: dict[tuple[str, str, str], dict]) -> str:
    """95 % paired-bootstrap interval of median(second) − median(first) correlation over the neurons keyed
    (fold, dataset, neuron) by :func:`_keyed_rows`, ``"[lo, hi]"`` (resampled within datasets, both models' scores
    of each drawn); "—" unless both score the same neurons."""
    keys = sorted(first)
    if not keys or set(second) != set(keys):
        return "—"
    base, new = (np.array([float(rows[k]["corr"]) for k in keys]) for rows in (first, second))
    if not np.isfinite([*base, *new]).all():
        return "—"
    lo, hi = bootstrap_paired_difference_ci(new, base, [k[1] for k in keys])
    return f"[{lo:+.1f}, {hi:+.1f}]"


def _table(tables: Tables, models: Sequence[str], folds: Sequence[str], variant: str | None) -> list[str]:
    lines = _header(models, "condition")
    lines[0] += " Δ corr 95 % CI |"
    lines[1] += " ---: |"
    for cond in parse_conditions(GCAMP8_CONDITIONS):
        keyed = [_keyed_rows(tables, m, folds, cond.label, variant) for m in models]
        if not keyed[0]:
            continue
        n, corr, counts, delta = _cells([list(rows.values()) for rows in keyed])
        interval = _paired_interval(*keyed[:2]) if len(keyed) > 1 else "—"
        lines.append(f"| {cond.label} | {n} | {' | '.join(corr)} | {delta} | {' | '.join(counts)} | {interval} |")
    return lines


def _spike_table(tables: Tables, models: Sequence[str], folds: Sequence[str]) -> list[str]:
    """Per condition, each model's discrete spikes: ``spike_count`` (Σ spikes / true spikes per neuron) median
    [IQR] and the median ``er50`` (%)."""
    lines = ["| condition | neurons | " + " | ".join(f"spike_count {m} [IQR]" for m in models) + " | "
             + " | ".join(f"er50 {m}" for m in models) + " |",
             f"| --- | ---: | {' | '.join('---:' for _ in models)} | {' | '.join('---:' for _ in models)} |"]
    for cond in parse_conditions(GCAMP8_CONDITIONS):
        groups = [_rows(tables, m, folds, cond.label, None) for m in models]
        if not groups[0]:
            continue
        spikes = [median_iqr([r.get("spike_count") for r in rows]) for rows in groups]
        er50 = [format_value(nan_median(r["er50"] for r in rows)) for rows in groups]
        lines.append(f"| {cond.label} | {len(groups[0])} | {' | '.join(spikes)} | {' | '.join(er50)} |")
    return lines


def gcamp8_lines(folder: str | Path, folds: Sequence[str] = GCAMP8_REPORT_FOLDS) -> list[str]:
    """Markdown for the GCaMP8 section of the report (empty when no fold table is there)."""
    tables = collect_mouse_folds(folder)
    models = [m for m in _ORDER if m in tables] + sorted(m for m in tables if m not in _ORDER)
    models = [m for m in models if any(f in tables[m] for f in folds)]
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
             "window stride 4; Δ corr is the second model minus the first, with its 95 % paired-bootstrap interval in "
             "the last column (neurons resampled within each variant, both models' scores of each drawn; 10,000 "
             "resamples). `ens2-gcamp8-indicator` is the "
             "fold's family predicting with each recording's indicator (`--indicator`: the count gain of its "
             "jGCaMP8 variant times the factor of the recording's ν, both fitted on the other four mouse folds' "
             "held-out neurons); `ens2-gcamp8-uncalibrated` the same family with gain 1 (the correlations "
             "differ only where one neuron's recordings get different ν factors); `ens2-gcamp8-two-member` the "
             "family before its 30 Hz member (the ν < 1.5 member and the noise-matched one at every rate; gain "
             "1); `ens2-gcamp8-one-network` the family before its noise-matched member became the mean of 3 "
             "networks (its network 0 alone; gain 1).", "",
             *_table(tables, models, common, None), "",
             "Discrete spikes (each model's own estimator: `ens2-exc` ENS²'s published greedy one, `ens2-gcamp8` "
             "the count-preserving one; `benchmarks/gcamp8/spike_estimators.py` compares the two on the same "
             "rates): `spike_count` = Σ spikes / true spikes per neuron, median [IQR]; `er50` the error rate "
             "(%, 1 − F1 of spikes matched within 50 ms; lower is better), median.", "",
             *_spike_table(tables, models[:2], common), ""]
    lines += _exact_lines(Path(folder) / "exact", models[:2], common)
    variants = sorted({_variant(str(r["dataset"])) for f in common for r in tables[models[0]][f]})
    for v in variants:
        lines += [f"### {v}", "", *_table(tables, models, common, v), ""]
    return lines


def _exact_lines(folder: Path, models: Sequence[str], folds: Sequence[str]) -> list[str]:
    """The first two models' rows scored exactly (window stride 1, ``benchmarks/gcamp8/exact_rows.sh``) on the same
    folds, when ``folder`` has every one of them; else nothing."""
    tables = collect_mouse_folds(folder)
    if len(models) < 2 or not all(f in tables.get(m, {}) for m in models for f in folds):
        return []
    return ["Exact rows: the same models and neurons at window stride 1, what `predict` does by default (the tables "
            "above use stride 4 to keep the grid affordable; `benchmarks/gcamp8/exact_rows.sh`).", "",
            *_table(tables, models, folds, None), ""]


_VARIANT_FILE = re.compile(r"(.+)_(DS3[0-2])_conditions\.csv")


def gcamp8_variant_lines(folder: str | Path, folds: Sequence[str] = GCAMP8_REPORT_FOLDS) -> list[str]:
    """Markdown for the GCaMP8 variant folds (``<family>_DS3x_conditions.csv``, ``benchmarks/gcamp8/variant_folds.sh``):
    per held-out variant, on its neurons of the report mouse folds, the family trained without that variant
    against the same family (same model name: trained alike) of the mouse folds, trained on the variant's other
    mice too, and ``ens2-exc``; empty without tables."""
    variants = _collect(folder, _VARIANT_FILE)
    mouse = collect_mouse_folds(folder)
    lines: list[str] = []
    for family in sorted(variants):
        if family in mouse and "ens2-exc" in mouse:
            lines += _variant_family_lines(family, variants[family], mouse, folds)
    return lines


def _variant_family_lines(family: str, variant_tables: dict[str, list[dict]], mouse: Tables,
                          folds: Sequence[str]) -> list[str]:
    common = [f for f in folds if f in mouse[family] and f in mouse["ens2-exc"]]
    names = ["mouse folds", "variant fold", "ens2-exc"]
    lines = [f"## jGCaMP8 variant folds: a variant the family never saw (`{family}`)", "",
             f"Each variant fold trains the family `{family}` names on the other two jGCaMP8 variants and scores it "
             "on the held-out variant's neurons (`benchmarks/gcamp8/variant_folds.sh`; uncalibrated, as the count "
             "gains are per variant). Set beside, on the same neurons (those of the report mouse folds "
             f"{', '.join(common)}): `mouse folds`, `{family}` of the mouse folds (trained alike on the variant's "
             "other mice and the other variants), and `ens2-exc`. Δ corr = variant fold − mouse folds: what the "
             "variant's own data (other mice) are worth.", ""]
    pooled_family = [r for f in common for r in mouse[family][f]]
    pooled_exc = [r for f in common for r in mouse["ens2-exc"][f]]
    for fold in sorted(variant_tables):
        held = {(r["dataset"], r["neuron"]) for r in pooled_exc if str(r["dataset"]).startswith(fold)}
        sources = [pooled_family, variant_tables[fold], pooled_exc]
        lines += [f"### {fold} held out", "", *_header(names, "condition")]
        for cond in parse_conditions(GCAMP8_CONDITIONS):
            groups = [[r for r in rows if (r["dataset"], r["neuron"]) in held and row_condition(r).label == cond.label]
                      for rows in sources]
            if all(groups):
                n, corr, counts, delta = _cells(groups)
                lines.append(f"| {cond.label} | {n} | {' | '.join(corr)} | {delta} | {' | '.join(counts)} |")
        lines.append("")
    return lines


_DATASET_FILE = re.compile(r"(.+)_(DS\d+)_conditions\.csv")
#: the 30 Hz conditions CASCADE's published model is compared at
CASCADE_CONDITIONS = "30:0,30:2,30:4,30:8"


def cascade_published_lines(folder: str | Path) -> list[str]:
    """Markdown comparing CASCADE's published model with ens2-exc per held-out dataset, from
    ``folder/<model>_<DS>_conditions.csv`` (``benchmarks/lodo/cascade_published.sh``); empty without tables."""
    tables = _collect(folder, _DATASET_FILE)
    models = [m for m in ("cascade-published", "ens2-exc") if m in tables]
    if len(models) < 2:
        return []
    datasets = sorted(set(tables[models[0]]) & set(tables[models[1]]))
    lines = ["## CASCADE's published model on data it never saw", "",
             "`cascade-published`: CASCADE's own `Global_EXC_30Hz_smoothing25ms` (trained on DS03–DS20 re-sampled to "
             "30 Hz and ν 2–9), run by `ens2zoo.load_folder` (parity with CascadeTorch in CI). `ens2-exc`: the zoo's "
             "family for DS01 (trained on DS02–DS21), and for DS02 and DS21 its LODO family of that fold (trained "
             "without it). Each recording is re-imaged at 30 Hz (`30:0`: its own noise); CASCADE's 30 Hz output is "
             "scored at 60 Hz by splitting each frame's rate equally over its two samples; ens2-exc at window "
             "stride 4. Δ corr = ens2-exc − cascade-published. The GCaMP8 datasets (DS30–DS32) are in the "
             "jGCaMP8 section (its `cascade-published` column). `benchmarks/lodo/cascade_published.sh`.", "",
             *_header(models, "held out, condition")]
    for ds in datasets:
        for cond in parse_conditions(CASCADE_CONDITIONS):
            groups = [[r for r in tables[m][ds] if row_condition(r).label == cond.label] for m in models]
            if groups[0] and groups[1]:
                n, corr, counts, delta = _cells(groups)
                lines.append(f"| {ds} {cond.label} | {n} | {' | '.join(corr)} | {delta} | {' | '.join(counts)} |")
    return [*lines, ""]


_LODO_FILE = re.compile(r"(.+)_lodo_(DS\d+)_conditions\.csv")


def high_noise_lines(folder: str | Path) -> list[str]:
    """Markdown for the high-noise members: each LODO fold's three-member family (``ens2-exc``, ``ens2-inh``)
    against its noise-matched member alone (what the two-member family served there), from
    ``folder/<model>_lodo_<DS>_conditions.csv`` (``benchmarks/lodo/train_high_noise.sh``); empty without tables."""
    tables = _collect(folder, _LODO_FILE)
    lines: list[str] = []
    for family in ("ens2-exc", "ens2-inh"):
        models = [f"{family}-nm", family]
        if not all(m in tables for m in models):
            continue
        folds = sorted(set(tables[models[0]]) & set(tables[models[1]]))
        labels = sorted({row_condition(r).label for f in folds for r in tables[family][f]},
                        key=lambda label: float(label.split(":")[1]))
        if not lines:
            lines = ["## High noise (ν 12 and 20): the high-noise member", "",
                     "Each LODO fold's family with its third member `-hn` (recipe `ens2-hn`: copies re-imaged at "
                     "7.5/15/30 Hz and ν 6–20, serving ν ≥ 9) against its noise-matched member `-nm` alone (trained "
                     "on ν 1–9: what the two-member family served at these ν), on the held-out dataset re-imaged at "
                     "30 Hz, window stride 4; Δ corr = family − nm (`benchmarks/lodo/train_high_noise.sh`).", ""]
        lines += [f"### {family}: folds {', '.join(folds)}", "", *_header(models, "condition")]
        for label in labels:
            groups = [[r for f in folds for r in tables[m][f] if row_condition(r).label == label] for m in models]
            n, corr, counts, delta = _cells(groups)
            lines.append(f"| {label} | {n} | {' | '.join(corr)} | {delta} | {' | '.join(counts)} |")
        lines += ["", "| fold | " + " | ".join(f"corr {m} {label}" for label in labels for m in models) + " |",
                  "| --- | " + " | ".join("---:" for _ in labels for _ in models) + " |"]
        for f in folds:
            cells = [format_value(nan_median(r["corr"] for r in tables[m][f] if row_condition(r).label == label))
                     for label in labels for m in models]
            lines.append(f"| {f} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines
