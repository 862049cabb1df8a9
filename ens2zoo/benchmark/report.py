"""The leave-one-dataset-out report, rebuilt from the per-neuron CSVs alone (no training, no inference).

    .venv/bin/python benchmarks/lodo/report.py            # writes benchmarks/lodo/REPORT.md and figures

Reads ``<model>_lodo_<DSxx>.csv`` (native rows, one per held-out neuron) and
``<model>_lodo_<DSxx>_conditions.csv`` from the results folder, and the published per-neuron
table (``$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv``; without it the published
columns stay empty).  Overall medians pool the neurons of the folds a model has; their 95 %
confidence intervals come from a bootstrap over neurons stratified by dataset (each resample
draws, within every dataset, as many neurons as it has, with replacement), so every fold keeps
its weight; a difference between two models (ours − published) resamples both sides the same
way, independently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ens2zoo.benchmark.bootstrap import bootstrap_difference_ci, bootstrap_median_ci
from ens2zoo.benchmark.conditions import parse_conditions, row_condition
from ens2zoo.benchmark.evaluation import format_value, nan_median, read_csv, row_count
from ens2zoo.benchmark.heldout_tables import (
    cascade_published_lines,
    gcamp8_lines,
    gcamp8_variant_lines,
    high_noise_lines,
    median_iqr,
)
from ens2zoo.benchmark.published import published_metrics_path, read_published_metrics
from ens2zoo.data.groups import EXCITATORY_FOLDS, INHIBITORY_FOLDS, PAPER_CONDITIONS, PEERS
from ens2zoo.utils.atomic import atomic_path

__all__ = [
    "EXCITATORY_FOLDS",
    "INHIBITORY_FOLDS",
    "collect",
    "write_report",
]

#: the published overall median correlation (%) and ER50 (%) over the 203 neurons of the 19 folds
PUBLISHED_OVERALL = {"corr": 69.35, "er50": 47.31}
#: the paper-table issue's targets on the overall median correlation (all 19 folds, 203 neurons):
#: model → (lowest, highest) difference to the published 69.35 %, points
TARGETS = {"unet": (-1.0, 1.0), "ens2-exc": (1.0, None)}
_NATIVE = re.compile(r"(.+)_lodo_(DS\d+)\.csv")
_CONDITIONS = re.compile(r"(.+)_lodo_(DS\d+)_conditions\.csv")

Tables = dict[str, dict[str, list[dict]]]


def _finite(values) -> np.ndarray:
    a = np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return a[np.isfinite(a)]


def collect(folder: Path) -> tuple[Tables, Tables]:
    """``(native, conditions)``: model → fold → per-neuron rows, from the CSVs in ``folder``."""
    native: Tables = {}
    conditions: Tables = {}
    for path in sorted(folder.glob("*_lodo_DS*.csv")):
        if m := _CONDITIONS.fullmatch(path.name):
            conditions.setdefault(m.group(1), {})[m.group(2)] = read_csv(path)
        elif m := _NATIVE.fullmatch(path.name):
            native.setdefault(m.group(1), {})[m.group(2)] = read_csv(path)
    return native, conditions


def _published_by_fold(rows: Sequence[Mapping]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(f"DS{int(float(r['dset'])):02d}", []).append(dict(r))
    return out


def _med(rows: Sequence[Mapping] | None, metric: str = "corr") -> float:
    return nan_median(r.get(metric) for r in rows or ())


def _pooled(tables: Mapping[str, list[dict]], folds: Sequence[str], metric: str) -> tuple[np.ndarray, list[str]]:
    values, strata = [], []
    for f in folds:
        for r in tables.get(f, []):
            v = r.get(metric)
            if v is not None and np.isfinite(float(v)):
                values.append(float(v))
                strata.append(f)
    return np.asarray(values), strata


def _overall_row(label: str, tables: Mapping[str, list[dict]], published: Mapping[str, list[dict]],
                 folds: Sequence[str], metric: str) -> str:
    have = [f for f in folds if f in tables]
    if not have:
        return f"| {label} | 0 | — | — | — | — | — |"
    ours, s_ours = _pooled(tables, have, metric)
    pub, s_pub = _pooled(published, have, metric)
    lo, hi = bootstrap_median_ci(ours, s_ours)
    row = (f"| {label} | {len(have)} | {len(ours)} | {np.median(ours):.2f} [{lo:.2f}, {hi:.2f}] ")
    if pub.size:
        plo, phi = bootstrap_median_ci(pub, s_pub)
        dlo, dhi = bootstrap_difference_ci(ours, s_ours, pub, s_pub)
        row += (f"| {np.median(pub):.2f} [{plo:.2f}, {phi:.2f}] | {np.median(ours) - np.median(pub):+.2f} "
                f"[{dlo:+.2f}, {dhi:+.2f}] |")
    else:
        row += "| — | — |"
    return row


def _target_lines(native: Tables) -> list[str]:
    """The targets on the overall median correlation, judged where a model has every fold."""
    lines = ["| target (overall median corr, 19 folds) | folds | measured | met |", "| --- | ---: | ---: | --- |"]
    published = PUBLISHED_OVERALL["corr"]
    for model, (low, high) in TARGETS.items():
        want = (f"within {high:g} point of {published}" if high is not None and low == -high
                else f"≥ {published + low:.2f} (published + {low:g})")
        have = [f for f in EXCITATORY_FOLDS if f in native.get(model, {})]
        if len(have) < len(EXCITATORY_FOLDS):
            lines.append(f"| `{model}` {want} | {len(have)} | — | not judged: folds missing |")
            continue
        delta = float(np.median(_pooled(native[model], have, "corr")[0])) - published
        met = (low is None or delta >= low) and (high is None or delta <= high)
        lines.append(f"| `{model}` {want} | {len(have)} | {published + delta:.2f} ({delta:+.2f}) | "
                     f"{'yes' if met else '**no**'} |")
    return [*lines, ""]


def _save(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` atomically (a half-written PNG never replaces the last one) and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def _figures(native: Tables, published: Mapping[str, list[dict]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    models = [m for m in ("unet", "ens2-exc") if m in native]
    folds = [f for f in EXCITATORY_FOLDS if any(f in native[m] for m in models) or f in published]
    series = [("published U-Net", published, "0.6")] + [(m, native[m], c) for m, c in
                                                          zip(models, ("tab:blue", "tab:orange"), strict=False)]
    fig, ax = plt.subplots(figsize=(max(8.0, 0.75 * len(folds)), 4.2))
    width = 0.8 / len(series)
    for k, (label, tables, colour) in enumerate(series):
        data = [_finite(r.get("corr") for r in tables.get(f, [])) for f in folds]
        pos = [i + (k - (len(series) - 1) / 2) * width for i in range(len(folds))]
        keep = [(p, d) for p, d in zip(pos, data, strict=True) if d.size]
        if keep:
            bp = ax.boxplot([d for _, d in keep], positions=[p for p, _ in keep], widths=width * 0.9,
                            patch_artist=True, showfliers=False, manage_ticks=False)
            for box in bp["boxes"]:
                box.set_facecolor(colour)
            ax.plot([], [], "s", color=colour, label=label)
    ax.set_xticks(range(len(folds)), folds, rotation=45)
    ax.set_ylabel("correlation with true rate (%)")
    ax.set_title("held-out datasets (leave-one-dataset-out)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    _save(fig, out / "lodo_boxplots.png")
    written.append("lodo_boxplots.png")

    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for m, colour in zip(models, ("tab:blue", "tab:orange"), strict=False):
        pairs = [(_med(published.get(f)), _med(native[m][f])) for f in EXCITATORY_FOLDS if f in native[m]]
        if pairs:
            ax.scatter(*zip(*pairs, strict=True), color=colour, label=m, s=22)
    ax.plot([20, 100], [20, 100], color="0.5", lw=0.8)
    ax.set_xlabel("published U-Net, fold median corr (%)")
    ax.set_ylabel("ours, fold median corr (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out / "lodo_ours_vs_published.png")
    written.append("lodo_ours_vs_published.png")

    peer_folds = sorted({f for p in PEERS if p in native for f in native[p]})
    peers = [p for p in ("unet", *PEERS) if p in native and all(f in native[p] for f in peer_folds)]
    if peer_folds:
        fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(peers)), 4.0))
        data = [_pooled(native[p], peer_folds, "corr")[0] for p in peers]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(peers) + 1), peers)
        ax.set_ylabel("correlation with true rate (%)")
        ax.set_title(f"peers on {len(peer_folds)} folds ({', '.join(peer_folds)})", fontsize=9)
        fig.tight_layout()
        _save(fig, out / "lodo_peers.png")
        written.append("lodo_peers.png")
    return written


def _count_table(native: Tables, models: Sequence[str], folds: Sequence[str]) -> list[str]:
    """Per model, pooled over its tables of ``folds``: ``count`` (Σ rate / true spikes) and ``spike_count``
    (Σ discrete spikes / true spikes, where a table has it) per neuron, median [IQR]; ends with a blank line."""
    lines = ["| model | folds | neurons | count | spike_count |", "| --- | ---: | ---: | ---: | ---: |"]
    for m in models:
        have = [f for f in folds if f in native[m]]
        rows = [r for f in have for r in native[m][f]]
        lines.append(f"| {m} | {len(have)} | {len(rows)} | {median_iqr([row_count(r) for r in rows])} | "
                     f"{median_iqr([r.get('spike_count') for r in rows])} |")
    return [*lines, ""]


def _condition_table(conditions: Tables, models: Sequence[str], folds: Sequence[str], title: str) -> list[str]:
    """Median correlation per condition, pooled over the ``folds`` every one of ``models`` has; then the median
    ``count`` (Σ rate / true spikes) and ``spike_count`` (Σ discrete spikes / true spikes) of the models whose
    tables on those folds have them in every row."""
    have = [m for m in models if m in conditions and any(f in conditions[m] for f in folds)]
    common = [f for f in folds if have and all(f in conditions[m] for m in have)]
    if not common:
        return []
    counted = [m for m in have if all(r.get(c) is not None for f in common for r in conditions[m][f]
                                      for c in ("count", "spike_count"))]
    columns = [*have, *(f"count {m}" for m in counted), *(f"spike_count {m}" for m in counted)]
    lines = [f"## {title} (re-imaged at R Hz and ν, predicted at R)", "",
             f"Pooled over the folds every listed model has (`<model>_lodo_DSxx_conditions.csv`): "
             f"{', '.join(common)}. Correlation (%)"
             + (", then the median count (Σ rate / true spikes) and spike_count (Σ discrete spikes / true spikes; "
                "each model's own estimator) per neuron of the models whose tables have them in every row."
                if counted else "."), "",
             "| condition | " + " | ".join(columns) + " |", "| --- | " + " | ".join("---:" for _ in columns) + " |"]
    for k in (c.label for c in parse_conditions(PAPER_CONDITIONS) if not c.is_native):
        rows = {m: [r for f in common for r in conditions[m][f] if row_condition(r).label == k] for m in have}
        cells = [*(format_value(_med(rows[m])) for m in have),
                 *(format_value(_med(rows[m], metric), ".2f") for metric in ("count", "spike_count") for m in counted)]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def write_report(folder: str | os.PathLike = "benchmarks/lodo", published_path: Path | None = None,
                 gcamp8_folder: Path | None = None) -> Path:
    """Write ``folder/REPORT.md`` and its figures from the CSVs in ``folder`` (the GCaMP8 mouse-fold tables
    from ``gcamp8_folder``, default ``folder/../gcamp8/results``); returns the report's path."""
    folder = Path(folder)
    native, conditions = collect(folder)
    pub_path = published_path or published_metrics_path()
    published = _published_by_fold(read_published_metrics(pub_path)) if pub_path else {}
    lines = ["# Leave-one-dataset-out report", "",
             "Rebuilt from the per-neuron CSVs of this folder alone: `make lodo-report` "
             "(`python benchmarks/lodo/report.py`). Correlation (%) of the inferred rate with the true "
             "rate (60 Hz, Gaussian σ 25 ms) per held-out neuron; medians; 95 % intervals from a "
             "bootstrap over neurons stratified by dataset (10,000 resamples, seed 0).",
             "How each table was made is in `benchmarks/lodo/README.md`.", ""]
    ex_models = [m for m in ("unet", "ens2-exc", "ens2-v1", "ens2-nm") if m in native]
    lines += ["## Excitatory folds (the paper's table)", "",
              "| held out | neurons | published U-Net | " + " | ".join(ex_models) + " | "
              + " | ".join(f"ER50 {m}" for m in ex_models[:2]) + " | ER50 published |",
              "| --- | ---: | ---: | " + " | ".join("---:" for _ in ex_models) + " | "
              + " | ".join("---:" for _ in ex_models[:2]) + " | ---: |"]
    for f in EXCITATORY_FOLDS:
        n = len(published.get(f, [])) or max((len(native[m].get(f, [])) for m in ex_models), default=0)
        lines.append(f"| {f} | {n} | {format_value(_med(published.get(f)))} | "
                     + " | ".join(format_value(_med(native[m].get(f))) for m in ex_models) + " | "
                     + " | ".join(format_value(_med(native[m].get(f), 'er50')) for m in ex_models[:2])
                     + f" | {format_value(_med(published.get(f), 'er50'))} |")
    lines += ["", "### Overall (pooled neurons of the folds each model has)", "",
              f"Published overall over the 203 neurons of the 19 folds: corr {PUBLISHED_OVERALL['corr']} %, "
              f"ER50 {PUBLISHED_OVERALL['er50']} %. The published column below is computed on the same folds "
              "as the row's model.", ""]
    for metric in ("corr", "er50"):
        lines += [f"| {metric}: model | folds | neurons | ours median [95 % CI] | published median [95 % CI] "
                  "| ours − published [95 % CI] |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [_overall_row(m, native[m], published, EXCITATORY_FOLDS, metric) for m in ex_models]
        lines.append("")
    lines += _target_lines(native)
    lines += ["### Spike counts", "",
              "`count` = Σ rate / true spikes per neuron (1 = calibrated; tables written before the column give "
              "1 + bias, the same figure); `spike_count` = Σ discrete spikes (the model's estimator: ENS²'s "
              "published greedy one for these) / true spikes, over the neurons whose table has it; median "
              "[interquartile range] over the pooled neurons.", "",
              *_count_table(native, ex_models, EXCITATORY_FOLDS)]
    peers = [p for p in PEERS if p in native]
    if peers:
        peer_folds = sorted({f for p in peers for f in native[p]})
        cols = [m for m in ("unet", "ens2-exc", *peers) if m in native]
        lines += ["## Peers", "",
                  "Same held-out neurons, same targets. `cascade`: CASCADE's network and training re-implemented "
                  "(recipe `cascade`, see `ens2zoo/architectures/cascade.py` for what differs from CASCADE), "
                  "stopped early by our rule, which undertrains it; `cascade-fixed`: the same for "
                  "CASCADE's own budget (6,000 iterations, no early stopping, as CASCADE trains), the "
                  "CASCADE peer to compare with (`cascade` stays to show what the early stop cost); "
                  "`oasis`: OASIS AR(2) ℓ1 (`ens2zoo/benchmark/oasis.py`), no training. The figure shows "
                  "the models that have every peer fold.", "",
                  "| held out | " + " | ".join(cols) + " |", "| --- | " + " | ".join("---:" for _ in cols) + " |"]
        for f in peer_folds:
            lines.append(f"| {f} | " + " | ".join(format_value(_med(native[m].get(f))) for m in cols) + " |")
        def pooled(m: str) -> str:  # over all peer folds; a model still missing some is not pooled
            have = sum(f in native[m] for f in peer_folds)
            if have < len(peer_folds):
                return f"— ({have} of {len(peer_folds)} folds)"
            return format_value(float(np.median(_pooled(native[m], peer_folds, "corr")[0])))

        lines += [f"| pooled ({len(peer_folds)} folds) | " + " | ".join(pooled(m) for m in cols) + " |", ""]
    inh_models = [m for m in ("ens2-inh", "ens2-v1", "ens2-nm") if m in native
                  and any(f in native[m] for f in INHIBITORY_FOLDS)]
    if inh_models:
        lines += ["## Inhibitory folds (DS22–DS27; no published figure exists)", "",
                  "`ens2-v1`/`ens2-nm` here are trained on the other inhibitory datasets; `ens2-inh` routes "
                  "between them by ν (threshold 1.5 %·Hz^-1/2).", "",
                  "| held out | neurons | " + " | ".join(f"corr {m}" for m in inh_models) + " | "
                  + " | ".join(f"ER50 {m}" for m in inh_models) + " |",
                  "| --- | ---: | " + " | ".join("---:" for _ in inh_models * 2) + " |"]
        for f in INHIBITORY_FOLDS:
            n = max(len(native[m].get(f, [])) for m in inh_models)
            lines.append(f"| {f} | {n} | "
                         + " | ".join(format_value(_med(native[m].get(f))) for m in inh_models) + " | "
                         + " | ".join(format_value(_med(native[m].get(f), "er50")) for m in inh_models) + " |")
        for m in inh_models:
            vals, strata = _pooled(native[m], INHIBITORY_FOLDS, "corr")
            if vals.size:
                lo, hi = bootstrap_median_ci(vals, strata)
                lines.append(f"\n{m}: pooled over {len(set(strata))} folds, {vals.size} neurons: "
                             f"median corr {np.median(vals):.2f} % [{lo:.2f}, {hi:.2f}]")
        lines += ["", "Spike counts on the inhibitory folds (as for the excitatory ones above):", "",
                  *_count_table(native, inh_models, INHIBITORY_FOLDS)]
    lines += _condition_table(conditions, ("ens2-v1", "ens2-nm", "ens2-exc", "cascade", "cascade-fixed"),
                              EXCITATORY_FOLDS,
                              "Recording conditions, excitatory folds")
    lines += _condition_table(conditions, ("ens2-v1", "ens2-nm", "ens2-inh"), INHIBITORY_FOLDS,
                              "Recording conditions, inhibitory folds")
    gcamp8_results = gcamp8_folder or folder.parent / "gcamp8" / "results"
    lines += gcamp8_lines(gcamp8_results)
    lines += gcamp8_variant_lines(gcamp8_results)
    lines += cascade_published_lines(folder / "cascade-published")
    lines += high_noise_lines(folder / "highnoise")
    figures = _figures(native, published, folder)
    lines += ["## Figures", ""] + [f"![{name}]({name})" for name in figures] + [""]
    path = folder / "REPORT.md"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return path
