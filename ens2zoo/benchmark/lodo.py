"""The leave-one-dataset-out (LODO) benchmark (``ens2zoo benchmark``).

:func:`run_benchmark`: for each held-out dataset (``DS09`` → folder ``DS09-*``), train a
recipe on every other training dataset, save ``<recipe>_lodo_<DSxx>.safetensors``,
evaluate on the held-out dataset (:func:`ens2zoo.benchmark.evaluation.evaluate_model`),
write ``<recipe>_lodo_<DSxx>.csv`` and finally ``summary.csv``: our per-dataset medians
next to the published ones (:mod:`ens2zoo.benchmark.published`).  Existing weights are
reused only when their metadata records the same recipe (an interrupted benchmark
resumes; an interrupted training resumes from its checkpoint), and an existing
per-neuron CSV newer than its weights is not re-evaluated.

With ``conditions`` (``--conditions 30:2,7.5:8``) each fold's model is also scored
under those recording conditions (:mod:`ens2zoo.benchmark.conditions`), into
``<recipe>_lodo_<DSxx>_conditions.csv`` (resumable the same way: kept when newer than
the weights and holding every condition asked for); ``<recipe>_lodo_<DSxx>.csv`` keeps
the native rows only.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ens2zoo.benchmark.conditions import (
    Condition,
    evaluate_conditions,
    parse_conditions,
    row_condition,
    write_condition_csv,
)
from ens2zoo.benchmark.evaluation import evaluate_model, format_value, nan_median, read_csv, write_csv
from ens2zoo.benchmark.published import (
    SUMMARY_METRICS,
    dataset_number,
    published_medians,
    published_metrics_path,
    read_published_metrics,
)
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS, lodo_name
from ens2zoo.errors import InputError
from ens2zoo.training.recipes import FamilyRecipe, Recipe, same_recipe
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.workflows.factory import create, load_folder
from ens2zoo.workflows.family import train_family
from ens2zoo.workflows.runner import torch_threads, train_and_save
from ens2zoo.zoo.manifest import MANIFEST_NAME

log = logging.getLogger(__name__)

#: Datasets ENS² trains its excitatory model on (DS01 is never used for training).
EXCITATORY_TRAINING = GROUPS["excitatory"]
#: Datasets of inhibitory neurons.
INHIBITORY_TRAINING = GROUPS["inhibitory"]
#: Columns of ``summary.csv``.
SUMMARY_COLUMNS = ("dataset", "neurons", "corr", "er50", "vpd",
                   "published_neurons", "published_corr", "published_er50", "published_vpd", "recipe")


def check_recipe(weights: Path, recipe: Recipe) -> None:
    """Refuse to reuse ``weights`` trained with another recipe than ``recipe``."""
    recorded = safetensors_metadata(weights).get("recipe")
    if not same_recipe(recorded, recipe):
        name = recorded.get("name") if isinstance(recorded, dict) else "no recorded recipe"
        raise InputError(f"{weights} was trained with {name!r}, not with recipe {recipe.name!r} as now: "
                         "move it away (or delete it) to retrain, or choose its recipe")


def summary_table(rows: Sequence[dict]) -> str:
    """The benchmark summary as an aligned text table."""
    header = (f"{'recipe':<8} {'dataset':<10} {'n':>3} {'corr %':>7} {'pub':>7} {'er50 %':>7} {'pub':>7} "
              f"{'vpd':>6} {'pub':>6} {'pub n':>5}")
    lines = [header]
    for r in rows:
        lines.append(f"{r.get('recipe', '')!s:<8} {r['dataset']!s:<10} {format_value(r['neurons'], 'd'):>3} "
                     f"{format_value(r['corr'], '.1f'):>7} "
                     f"{format_value(r['published_corr'], '.1f'):>7} {format_value(r['er50'], '.1f'):>7} "
                     f"{format_value(r['published_er50'], '.1f'):>7} {format_value(r['vpd'], '.2f'):>6} "
                     f"{format_value(r['published_vpd'], '.2f'):>6} {format_value(r['published_neurons'], 'd'):>5}")
    return "\n".join(lines)


def _condition_rows(path: Path, weights: Path, wanted: Sequence[Condition]) -> list[dict] | None:
    """The rows of an up-to-date condition table holding every condition ``wanted`` (else None)."""
    if not path.is_file() or path.stat().st_mtime < weights.stat().st_mtime:
        return None
    rows = read_csv(path)
    have = {row_condition(r) for r in rows}
    if not set(wanted) <= have:
        log.info("%s lacks conditions %s: re-evaluating", path,
                 ", ".join(c.label for c in wanted if c not in have))
        return None
    return [r for r in rows if row_condition(r) in set(wanted)]


def _fold_conditions(out: Path, name: str, prefix: str, folder: Path, stamp: Path, model: Callable[[], Any],
                     conditions: Sequence[Condition], *, stride: int) -> list[dict]:
    """Condition rows of one fold, from ``<name>_lodo_<prefix>_conditions.csv`` when newer than ``stamp``."""
    table = out / f"{lodo_name(name, prefix)}_conditions.csv"
    rows = _condition_rows(table, stamp, conditions)
    if rows is not None:
        log.info("%s is up to date: not re-evaluating the conditions", table)
        return rows
    dataset = load_dataset(folder, progress=None)
    start = time.perf_counter()
    rows = evaluate_conditions(model(), [dataset], conditions, stride=stride)
    write_condition_csv(table, rows)
    log.info("evaluated %d neurons of %s under %d conditions in %.0f s; wrote %s", len(dataset.neurons),
             folder.name, len(conditions), time.perf_counter() - start, table)
    return rows


def _score_fold(out: Path, name: str, prefix: str, folder: Path, stamp: Path, model: Callable[[], Any], *,
                stride: int, conditions: Sequence[Condition], conditions_stride: int | None) -> list[dict]:
    """Score a fold's model (built by ``model()``) on its held-out dataset: the native rows into
    ``<name>_lodo_<prefix>.csv``, non-native ``conditions`` into ``..._conditions.csv``; tables newer
    than ``stamp`` (the weights, or a family's manifest) are kept."""
    others = [c for c in conditions if not c.is_native]
    if others:
        _fold_conditions(out, name, prefix, folder, stamp, model, others,
                         stride=stride if conditions_stride is None else conditions_stride)
    table = out / f"{lodo_name(name, prefix)}.csv"
    if table.is_file() and table.stat().st_mtime >= stamp.stat().st_mtime:
        log.info("%s is up to date: not re-evaluating", table)
        return read_csv(table)
    dataset = load_dataset(folder, progress=None)
    start = time.perf_counter()
    rows = evaluate_model(model(), [dataset], stride=stride)
    write_csv(table, rows)
    log.info("evaluated %d neurons of %s in %.0f s; wrote %s", len(rows), folder.name,
             time.perf_counter() - start, table)
    return rows


def family_folder(out: Path, family: FamilyRecipe, prefix: str) -> Path:
    """Where a fold's family is written: ``<out>/weights/<family>_lodo_<prefix>/``."""
    return Path(out) / "weights" / lodo_name(family.name, prefix)


def run_fold(out: Path, recipe: Recipe | FamilyRecipe, prefix: str, folder: Path, training: Sequence[Path], *,
             stride: int, device: str, log_interval: int, conditions: Sequence[Condition] = (),
             conditions_stride: int | None = None, weights: Path | None = None,
             evaluate: bool = True, selection: str = "") -> list[dict]:
    """Train (or reuse) and evaluate one fold; returns its native per-neuron rows (at ``stride``).

    A :class:`Recipe` trains into ``weights`` (default ``<out>/<recipe>_lodo_<prefix>.safetensors``);
    ``evaluate=False`` stops there (a family's member).  A :class:`FamilyRecipe` writes the fold's
    family folder (:func:`family_folder`) from members trained there before (any missing member
    trains now) and scores the family.  Non-native ``conditions`` are scored too (at
    ``conditions_stride``, default ``stride``), into ``<name>_lodo_<prefix>_conditions.csv``.
    Runs with torch's current thread count unless the recipe sets one for the training;
    :func:`run_benchmark` calls it once per held-out dataset (through ``fold_map``).
    """
    log.info("== %s: held out %s; %s on %d datasets", prefix, folder.name, recipe.name, len(training))
    if isinstance(recipe, FamilyRecipe):
        target = family_folder(out, recipe, prefix)
        datasets = [load_dataset(f, progress=None) for f in training]
        train_family(recipe, datasets, target, selection=selection, device=device, resume=True,
                     log_interval=log_interval)
        stamp = target / MANIFEST_NAME
        return _score_fold(out, recipe.name, prefix, folder, stamp, lambda: load_folder(target, device=device),
                           stride=stride, conditions=conditions, conditions_stride=conditions_stride)
    weights = Path(weights) if weights is not None else out / f"{lodo_name(recipe.name, prefix)}.safetensors"
    if weights.is_file():
        check_recipe(weights, recipe)
        log.info("%s exists (recipe %s): not retraining", weights, recipe.name)
    else:
        weights.parent.mkdir(parents=True, exist_ok=True)
        train_and_save(training, weights, recipe, device=device, resume=True, log_interval=log_interval,
                       selection=selection or None)
    if not evaluate:
        return []
    return _score_fold(out, recipe.name, prefix, folder, weights,
                       lambda: create(recipe.architecture, weights=weights, device=device, **recipe.hparams),
                       stride=stride, conditions=conditions, conditions_stride=conditions_stride)


def _summary(recipe: str, plan: Sequence[tuple], results: Sequence[list[dict]], pub_rows: list[dict]) -> list[dict]:
    """Per-fold medians of one recipe's native rows beside the published ones, pooled when several."""
    summary, all_rows = [], []
    for (prefix, number, _, _), rows in zip(plan, results, strict=True):
        all_rows.extend(rows)
        summary.append({"dataset": prefix, "neurons": len(rows),
                        **{m: nan_median(r.get(m) for r in rows) for m in SUMMARY_METRICS},
                        **published_medians(number, pub_rows), "recipe": recipe})
    if len(summary) > 1:
        numbers = {n for _, n, _, _ in plan}
        pooled = [r for r in pub_rows if int(r.get("dset", -1)) in numbers]
        summary.append({"dataset": "all", "neurons": len(all_rows),
                        **{m: nan_median(r.get(m) for r in all_rows) for m in SUMMARY_METRICS},
                        "published_neurons": len(pooled) if pooled else None,
                        **{f"published_{m}": (nan_median(r.get(m) for r in pooled) if pooled else None)
                           for m in SUMMARY_METRICS}, "recipe": recipe})
    return summary


def run_benchmark(data: str | os.PathLike, held_out: Sequence[str], output: str | os.PathLike,
                  recipe: Recipe | FamilyRecipe | Sequence[Recipe | FamilyRecipe], *,
                  training_datasets: str = EXCITATORY_TRAINING,
                  stride: int = 1, published: str | os.PathLike | None = None, device: str = "cpu",
                  log_interval: int = 100, conditions: str | Sequence[str | Condition] | None = None,
                  conditions_stride: int | None = None,
                  fold_map: Callable[[list[dict[str, Any]]], list[list[dict]]] | None = None) -> list[dict]:
    """Leave-one-dataset-out benchmark; returns the summary rows (also written to ``summary.csv``).

    Args:
        data: folder of ``DSnn-*`` dataset folders.
        held_out: dataset prefixes (``"DS09"``); each is held out in turn.
        output: results folder.
        recipe: what to train (architecture, hyper-parameters, training settings); names the files.
            Several recipes: every fold of each, all through ``fold_map`` at once (on a cluster, in
            parallel); the summary has one block per recipe.  A family recipe (``ens2-exc``) trains
            its members of every fold first (one ``fold_map`` wave, into the folds' family folders
            ``<output>/weights/<family>_lodo_DSxx/``), then writes and scores each fold's family.
        training_datasets: comma-separated globs of the training pool; the held-out
            dataset is removed from it.
        stride: inference stride for the evaluation of the native rows (1 = exact, the paper's table).
        published: published per-neuron metrics CSV (default: :func:`published_metrics_path`).
        conditions: recording conditions (``"native,30:2,7.5:8"``, see
            :mod:`ens2zoo.benchmark.conditions`) to score each fold's model under as well; the
            non-native ones go to ``<recipe>_lodo_<DSxx>_conditions.csv``, while
            ``<recipe>_lodo_<DSxx>.csv`` and the summary keep the native rows (the paper's table).
        conditions_stride: inference stride for the condition rows (default: ``stride``).
        fold_map: runs the folds: given one keyword dict of :func:`run_fold` per held-out dataset,
            returns each fold's rows in the same order (e.g. ``ens2zoo.cluster.run_folds`` on a
            Dask cluster, one fold per worker).  Default: one after another in this process,
            with the recipe's torch threads.
    """
    conds = parse_conditions(conditions) if conditions else []
    if not held_out:
        raise InputError("--lodo names no dataset: give e.g. --lodo DS09,DS10")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    pub_path = Path(published) if published else published_metrics_path()
    if published and not pub_path.is_file():
        raise InputError(f"{pub_path}: no such published metrics file")
    pub_rows = read_published_metrics(pub_path)
    if pub_path is None:
        log.warning("published metrics not found (set ENS2ZOO_SHARED): published columns left empty")

    pool = find_datasets(data, training_datasets)
    plan = []
    for label in held_out:
        number = dataset_number(label)
        prefix = f"DS{number:02d}"
        matches = find_datasets(data, f"{prefix}-*")
        if len(matches) != 1:
            found = ", ".join(m.name for m in matches) or "none"
            raise InputError(f"held-out {label}: expected one folder {prefix}-* under {data}, found {found}")
        training = [f for f in pool if f.name != matches[0].name]
        if not training:
            raise InputError(f"held-out {prefix}: no training dataset left under {data} matching "
                             f"{training_datasets!r}")
        plan.append((prefix, number, matches[0], training))

    units = [recipe] if isinstance(recipe, (Recipe, FamilyRecipe)) else list(recipe)
    common = {"out": out, "stride": stride, "device": device, "log_interval": log_interval, "conditions": conds,
              "conditions_stride": conditions_stride}
    members, scored = [], []
    for unit in units:
        for prefix, _, folder, training in plan:
            fold = {**common, "recipe": unit, "prefix": prefix, "folder": folder, "training": training}
            if isinstance(unit, FamilyRecipe):  # its members train first, every fold's at once
                target, fold["selection"] = family_folder(out, unit, prefix), f"{training_datasets},!{prefix}*"
                members += [{**fold, "recipe": r, "weights": target / f"{m.name}.safetensors", "evaluate": False}
                            for m, r in zip(unit.members, unit.member_recipes())]
            scored.append(fold)
    results = []
    for wave in (members, scored):
        if fold_map is None:
            for fold in wave:
                with torch_threads(fold["recipe"].threads):
                    results.append(run_fold(**fold))
        elif wave:
            results += fold_map(wave)
    results = results[len(members):]
    summary = []
    for i, r in enumerate(units):
        summary += _summary(r.name, plan, results[i * len(plan):(i + 1) * len(plan)], pub_rows)
    write_csv(out / "summary.csv", summary, SUMMARY_COLUMNS)
    log.debug("%s", summary_table(summary))
    return summary
