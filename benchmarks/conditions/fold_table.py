"""The noise-matching table over LODO folds: first recipe vs noise-matched vs the routed family, with peers.

    .venv/bin/python benchmarks/conditions/fold_table.py DS04,DS06,DS09,DS15,DS20 [--data ../shared/ground_truth]

Reads, per fold, ``benchmarks/lodo/<recipe>_lodo_DSxx.csv`` (native rows, stride 1) and
``..._conditions.csv`` (condition rows, stride 4) for the recipes ``ens2-v1`` (today's zoo
recipe, per fold), ``ens2-nm`` (noise-matched) and ``ens2-exc`` (the family: ν < 1.5 → ens2-v1,
else ens2-nm).  The peers are scored in the same run where their CSVs are missing
(``benchmarks/conditions/folds/<peer>_DSxx_conditions.csv``, stride 4): OASIS and the
published ENS² weights — which were trained on every excitatory dataset, so on these folds
they are **not** held out.  Prints a Markdown table of median correlation (%) per fold and
condition and pooled over the folds' neurons, the ER50 (%) on the native rows, and writes the
figure ``benchmarks/conditions/folds/conditions_corr_folds.png``.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np

import ens2zoo
from ens2zoo.benchmark.conditions import evaluate_conditions, write_condition_csv
from ens2zoo.benchmark.evaluation import read_csv
from ens2zoo.benchmark.figures import plot_condition_curves
from ens2zoo.benchmark.oasis import OASIS
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import PAPER_CONDITIONS, lodo_name

LODO = Path("benchmarks/lodo")
OUT = Path("benchmarks/conditions/folds")
RECIPES = ("ens2-v1", "ens2-nm", "ens2-exc")
CONDITIONS = [c.strip() for c in PAPER_CONDITIONS.split(",")]


def _key(row: dict) -> str:
    rate, nu = row.get("condition_frame_rate"), row.get("condition_noise")
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "native"
    return f"{rate:g}:{nu:g}"


def recipe_rows(recipe: str, fold: str) -> list[dict] | None:
    native, cond = LODO / f"{lodo_name(recipe, fold)}.csv", LODO / f"{lodo_name(recipe, fold)}_conditions.csv"
    if not (native.is_file() and cond.is_file()):
        return None
    return [{**r, "condition": "native"} for r in read_csv(native)] + \
        [{**r, "condition": _key(r)} for r in read_csv(cond) if _key(r) != "native"]


def peer_rows(label: str, fold: str, data: str) -> list[dict]:
    path = OUT / f"{label}_{fold}_conditions.csv"
    if not path.is_file():
        (folder,) = find_datasets(data, f"{fold}-*")
        shared = Path(os.environ.get("ENS2ZOO_SHARED", "../shared"))
        model = OASIS() if label == "oasis" else ens2zoo.create(
            "unet", weights=shared / "ens2_reference" / "ens2_exc_state_dict.pt")
        write_condition_csv(path, evaluate_conditions(model, [load_dataset(folder)], PAPER_CONDITIONS, stride=4))
    return [{**r, "condition": _key(r)} for r in read_csv(path)]


def med(rows: list[dict], condition: str, metric: str = "corr") -> float:
    vals = [r[metric] for r in rows if r["condition"] == condition and r.get(metric) is not None]
    vals = [v for v in vals if not math.isnan(v)]
    return float(np.median(vals)) if vals else float("nan")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("folds")
    p.add_argument("--data", default="../shared/ground_truth")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    folds = [f.strip().upper() for f in args.folds.split(",")]
    models = (*RECIPES, "published*", "oasis")
    pooled: dict[str, list[dict]] = {m: [] for m in models}
    done = []
    print("| fold | condition | " + " | ".join(models) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in models) + " |")
    for fold in folds:
        tables = {r: recipe_rows(r, fold) for r in RECIPES}
        if any(t is None for t in tables.values()):
            print(f"| {fold} | (not complete yet) |" + " |" * len(models))
            continue
        tables["published*"] = peer_rows("published", fold, args.data)
        tables["oasis"] = peer_rows("oasis", fold, args.data)
        done.append(fold)
        for m in models:
            pooled[m] += tables[m]
        for c in CONDITIONS:
            print(f"| {fold} | {c} | " + " | ".join(f"{med(tables[m], c):.1f}" for m in models) + " |")
        print(f"| {fold} | native ER50 | " + " | ".join(f"{med(tables[m], 'native', 'er50'):.1f}" for m in models)
              + " |")
    if done:
        label = "+".join(done)
        for c in CONDITIONS:
            print(f"| pooled {label} | {c} | " + " | ".join(f"{med(pooled[m], c):.1f}" for m in models) + " |")
        print(f"| pooled {label} | native ER50 | " +
              " | ".join(f"{med(pooled[m], 'native', 'er50'):.1f}" for m in models) + " |")
        figure_tables = {m: [{**r} for r in pooled[m] if r["condition"] != "native"] +
                         [{**r, "condition_frame_rate": float("nan"), "condition_noise": float("nan")}
                          for r in pooled[m] if r["condition"] == "native"] for m in models}
        plot_condition_curves(figure_tables, OUT / "conditions_corr_folds.png",
                              title=f"held-out folds {', '.join(done)} (pooled neurons)")


if __name__ == "__main__":
    main()
