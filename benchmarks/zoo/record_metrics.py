"""Write measured held-out metrics into zoo_weights/manifest.json.

    .venv/bin/python benchmarks/zoo/record_metrics.py NAME KEY CSV [CSV ...]

Each CSV is a per-neuron table written by ``ens2zoo evaluate`` or
``ens2zoo benchmark``; the per-dataset medians (corr and er50 in %, vpd, vrd,
error, bias, number of neurons) and the pooled median over all neurons are
stored under ``metrics[KEY]`` of zoo record NAME, with the CSV paths as source.
Condition tables (``..._conditions.csv``: one row per neuron and recording condition) are
summarised per condition instead (``per_condition``: pooled medians over all their neurons), and
their ``native`` rows, where present, give ``all``.

Keys in the zoo: ``held_out_DSxx`` (the zoo's weights on a dataset they never saw),
``lodo_recipe`` (the model's recipe trained per LODO fold, each fold scored on the dataset
it held out), ``lodo_architecture`` (the architecture per fold with the LODO recipe of
its name, e.g. ``mlp``: 1,500 iterations — the zoo's own weights trained longer),
``training_data_not_held_out`` (not held out).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import read_csv, summarize
from ens2zoo.metrics import COLUMNS
from ens2zoo.zoo.manifest import upsert_record


def _rounded(row: dict) -> dict:
    """``row`` with floats rounded to 4 decimals and the figures its tables lack (NaN) left out."""
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
            if not (isinstance(v, float) and math.isnan(v))}


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    name, key, paths = argv[0], argv[1], [Path(p) for p in argv[2:]]
    rows = [r for p in paths for r in read_csv(p)]
    if rows and "condition_frame_rate" in rows[0]:
        summary = [_rounded({"condition": c.pop("dataset"), **c})
                   for c in summarize([{**r, "dataset": row_condition(r).label} for r in rows])]
        record, shown = {"per_condition": summary}, ", ".join(f"{c['condition']} {c['corr']:.1f}" for c in summary)
        native = [r for r in rows if row_condition(r).is_native]
        if native:
            record["all"] = _rounded(summarize([{**r, "dataset": "all"} for r in native])[0])
    else:
        pooled = _rounded(summarize([{**r, "dataset": "all"} for r in rows])[0])
        record, shown = {"per_dataset": [_rounded(s) for s in summarize(rows)], "all": pooled}, str(pooled)
    figures = [*record.get("per_dataset", []), *record.get("per_condition", []), record.get("all", {})]
    columns = [c for c in COLUMNS if any(c in f for f in figures)]  # the figures some summary has
    upsert_record(name, metrics={key: {**record, "columns": columns, "source": [str(p) for p in paths]}})
    print(f"{name}: metrics[{key!r}] = {shown}")


if __name__ == "__main__":
    main(sys.argv[1:])
