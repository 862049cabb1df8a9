"""``ens2zoo train``, ``evaluate`` and ``benchmark``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path

from ens2zoo.cli.options import (
    add_model_args,
    add_training_args,
    given_settings,
    model_from_args,
    recipe_from_args,
    recipe_settings,
    recipes_from_args,
)
from ens2zoo.data import selected_datasets
from ens2zoo.data.groups import GROUPS
from ens2zoo.defaults import SPIKE_ESTIMATORS
from ens2zoo.errors import InputError

log = logging.getLogger("ens2zoo.cli")

#: Datasets ENS² trains its excitatory model on (DS01 is never used for training).
EXCITATORY_TRAINING = GROUPS["excitatory"]
CONDITIONS_HELP = ("score every neuron under these recording conditions: native (the database as it is) or "
                   "RATE:NU (re-imaged at RATE Hz with white noise up to ν = NU %%·Hz^-1/2), e.g. "
                   "native,30:2,30:4,30:8,15:4,7.5:4,7.5:8; adds the columns condition_frame_rate and "
                   "condition_noise. --model oasis scores the OASIS peer (pip install 'ens2zoo[peers]')")


def training_selection(args: argparse.Namespace, recipe) -> str:
    """What ``train`` trains on: ``--fold``'s training mice, else ``--datasets`` (default: the recipe's
    group), minus ``--exclude``."""
    from ens2zoo.data.groups import get_fold
    from ens2zoo.utils.checks import split_globs

    if args.fold:
        if args.datasets:
            raise InputError(f"--fold {args.fold} fixes the training data: drop --datasets")
        pattern = get_fold(args.fold).training
    else:
        pattern = args.datasets or recipe.datasets
    return ",".join([pattern, *("!" + g for g in split_globs(args.exclude or ""))])


def _train_family(args: argparse.Namespace, family) -> int:
    from ens2zoo.workflows.family import train_family

    if args.zoo_name or args.checkpoint or args.keep_checkpoint:
        raise InputError(f"--recipe {family.name} trains a family into the folder -o names (each member "
                         "checkpoints beside its weights): drop --zoo-name/--checkpoint/--keep-checkpoint")
    overrides = recipe_settings(args, given_settings(args))
    selection = training_selection(args, family)
    record = train_family(family.override(**overrides), selected_datasets(args.data, selection), args.output,
                          selection=selection, device=args.device, resume=args.resume,
                          log_interval=args.log_every, progress=args.progress)
    def served(m: dict) -> str:
        low, high = m.get("frame_rate_range") or (None, None)
        rates = "" if (low, high) == (None, None) else f", {low or 0:g}–{high or '∞'} Hz"
        return f"{m['name']} (ν {m['noise_range'][0] or 0:g}–{m['noise_range'][1] or '∞'}{rates})"

    members = ", ".join(served(m) for m in record["members"])
    print(f"wrote family {family.name} to {args.output}: {members}; load it with ens2zoo.load_folder")
    return 0


def _train_distilled(args: argparse.Namespace, recipe) -> int:
    from ens2zoo.workflows.distillation import train_distilled
    from ens2zoo.workflows.factory import ModelSpec
    from ens2zoo.workflows.runner import torch_threads

    if args.zoo_name or args.checkpoint or args.keep_checkpoint:
        raise InputError(f"--recipe {recipe.name} distils into one file; its labels and checkpoints stay in "
                         "OUTPUT's .distill folder: drop --zoo-name/--checkpoint/--keep-checkpoint")
    recipe = recipe.override(**recipe_settings(args, given_settings(args)))
    if args.teacher:  # e.g. a LODO fold's family: recorded as the recipe's teacher
        recipe = dataclasses.replace(recipe, teacher=args.teacher)
    teacher_name = recipe.teacher
    spec = ModelSpec.of(weights=teacher_name, device=args.device) if Path(teacher_name).is_dir() \
        else ModelSpec.of(teacher_name, device=args.device)
    selection = training_selection(args, recipe)
    with torch_threads(recipe.threads):
        sha = train_distilled(recipe, selected_datasets(args.data, selection), args.output, teacher=spec.load(),
                              teacher_name=teacher_name, device=args.device, resume=args.resume,
                              selection=selection, log_interval=args.log_every)
    print(f"wrote {args.output} (sha256 {sha}), distilled from {teacher_name}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from ens2zoo.training.recipes import get_distill_recipe, get_family_recipe
    from ens2zoo.workflows.runner import train_and_save

    family = get_family_recipe(args.recipe) if args.recipe else None
    if family is not None:
        return _train_family(args, family)
    distilled = get_distill_recipe(args.recipe) if args.recipe else None
    if distilled is not None:
        return _train_distilled(args, distilled)
    if args.teacher:
        raise InputError("--teacher is for a distillation recipe (e.g. --recipe ens2-exc-fast)")
    recipe = recipe_from_args(args)
    selection = training_selection(args, recipe)
    datasets = selected_datasets(args.data, selection)
    train_and_save(datasets, args.output, recipe, device=args.device, checkpoint=args.checkpoint,
                   resume=args.resume, keep_checkpoint=args.keep_checkpoint, log_interval=args.log_every,
                   progress=args.progress, selection=selection)
    if args.zoo_name:
        from ens2zoo.zoo.manifest import upsert_record

        upsert_record(args.zoo_name, weights=args.output, folder=Path(args.output).parent)
        print(f"registered {args.zoo_name} in {Path(args.output).parent / 'manifest.json'}")
    return 0


def _evaluated_model(args: argparse.Namespace):
    """The zoo model the options name, or a peer (``--model oasis``) that evaluate scores alike."""
    from ens2zoo.benchmark.oasis import PEER_PREDICTORS

    if args.model in PEER_PREDICTORS and not (args.weights or args.arch or args.hparam):
        return PEER_PREDICTORS[args.model]()
    return model_from_args(args)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ens2zoo.benchmark.conditions import (
        evaluate_conditions,
        parse_conditions,
        row_condition,
        write_condition_csv,
    )
    from ens2zoo.benchmark.evaluation import evaluate_model, summarize, write_csv
    from ens2zoo.data.groups import get_fold
    from ens2zoo.model import SpikeModel
    from ens2zoo.utils.files import check_suffix
    from ens2zoo.workflows.runner import torch_threads

    out = check_suffix(args.output, (".csv",), "the metrics table")
    conditions = parse_conditions(args.conditions) if args.conditions is not None else None
    if args.fold and args.datasets != "*":
        raise InputError(f"--fold {args.fold} fixes the scored neurons (its held-out mice): drop --datasets")
    pattern = get_fold(args.fold).held_out if args.fold else args.datasets
    model = _evaluated_model(args)
    if args.spike_estimator is not None:
        if not isinstance(model, SpikeModel):
            raise InputError(f"--spike-estimator: {args.model} estimates its own spikes; drop the option")
        model = model.with_spike_estimator(args.spike_estimator)
    with torch_threads(args.threads):
        datasets = selected_datasets(args.data, pattern)
        n = sum(len(d.neurons) for d in datasets)
        under = f" under {len(conditions)} conditions" if conditions else ""
        print(f"evaluating {model.name} on {n} neurons of {len(datasets)} datasets{under} (stride {args.stride})",
              flush=True)
        start = time.perf_counter()
        if conditions is None and isinstance(model, SpikeModel):
            rows = evaluate_model(model, datasets, stride=args.stride, progress=args.progress,
                                  indicator=args.indicator)
        else:
            rows = evaluate_conditions(model, datasets, conditions or "native", stride=args.stride,
                                       progress=args.progress, indicator=args.indicator)
    if conditions is None:
        write_csv(out, rows)
        shown = rows
    else:
        write_condition_csv(out, rows)
        shown = [dict(r, dataset=f"{r['dataset'][:40]:<40} {row_condition(r).label:>9}") for r in rows]
    print(f"{'dataset':<40} {'condition':>9} " if conditions else f"{'dataset':<40} ", end="")
    print(f"{'n':>3} {'corr %':>7} {'er50 %':>7} {'vpd':>6} {'count':>6} {'spikes':>6}")
    for s in summarize(shown):
        name = s["dataset"] if conditions else f"{s['dataset'][:40]:<40}"
        print(f"{name} {s['neurons']:>3} {s['corr']:>7.1f} {s['er50']:>7.1f} {s['vpd']:>6.2f} {s['count']:>6.2f} "
              f"{s['spike_count']:>6.2f}")
    print(f"{len(rows)} rows in {time.perf_counter() - start:.0f} s; wrote {out}")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from ens2zoo.benchmark.lodo import run_benchmark, summary_table
    from ens2zoo.utils.checks import split_globs

    kwargs = dict(training_datasets=args.training_datasets, stride=args.stride, published=args.published,
                  device=args.device, log_interval=args.log_every, conditions=args.conditions,
                  conditions_stride=args.conditions_stride)
    if args.scheduler is None:
        if args.workers is not None:
            raise InputError("--workers N sizes a local Dask cluster: add --scheduler local")
        summary = run_benchmark(args.data, split_globs(args.lodo), args.output, recipes_from_args(args), **kwargs)
    else:
        from ens2zoo.cluster import open_client, run_folds

        recipes = recipes_from_args(args)
        with open_client(args.scheduler, args.workers) as client:
            summary = run_benchmark(args.data, split_globs(args.lodo), args.output, recipes,
                                    fold_map=lambda folds: run_folds(client, folds, progress=args.progress), **kwargs)
    print(summary_table(summary))
    print(f"wrote {Path(args.output) / 'summary.csv'}")
    return 0


def add_training_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``train``, ``evaluate`` and ``benchmark``."""
    t = sub.add_parser("train", help="train an architecture on CASCADE-format ground truth")
    t.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders")
    t.add_argument("--datasets",
                   help="comma-separated globs of dataset folders, DS/FILE globs of neurons ('DS30*/*_471993_*'), "
                        "!-prefixed exclusions, or a group name (excitatory, inhibitory, gcamp8) "
                        f"(default: the recipe's group; without a recipe excitatory = {EXCITATORY_TRAINING!r})")
    t.add_argument("--exclude", help="comma-separated globs of datasets (or DS/FILE neurons) to leave out")
    t.add_argument("--fold", metavar="M1", help="train on a catalogue fold's training data (GCaMP8 mouse folds "
                                                 "M1-M5: every GCaMP8 mouse but the fold's; variant folds "
                                                 "DS30-DS32: the other two jGCaMP8 variants)")
    t.add_argument("-o", "--output", required=True, help="weights file to write (.safetensors); a folder for a "
                                                          "family recipe (ens2-exc, ens2-inh, ens2-gcamp8)")
    add_training_args(t)
    t.add_argument("--checkpoint", help="checkpoint file (default: OUTPUT.ckpt.safetensors)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    t.add_argument("--keep-checkpoint", action="store_true")
    t.add_argument("--zoo-name", help="also record the weights under this name in OUTPUT's folder manifest.json")
    t.add_argument("--teacher", help="distillation recipes: the teacher, a zoo name or a model folder (e.g. a "
                                     "LODO fold's family; exclude its held-out dataset with --exclude); default: "
                                     "the recipe's")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("evaluate", help="benchmark metrics of a model on every neuron of ground-truth datasets")
    e.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders (CASCADE format)")
    e.add_argument("--datasets", default="*",
                   help="comma-separated globs of dataset folders, DS/FILE globs of neurons, !-prefixed exclusions "
                        "or a group name (excitatory, inhibitory, gcamp8) (default: all)")
    e.add_argument("--fold", metavar="M2", help="score a catalogue fold's held-out neurons (GCaMP8 mouse folds "
                                                 "M1-M5, variant folds DS30-DS32)")
    e.add_argument("--stride", type=int, default=1, help="window stride (1 = exact, as published)")
    e.add_argument("-o", "--output", required=True, help="per-neuron metrics table to write (.csv)")
    e.add_argument("--threads", type=int, help="torch CPU threads")
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")
    e.add_argument("--conditions", metavar="native,30:2,...", help=CONDITIONS_HELP)
    e.add_argument("--indicator", metavar="NAME",
                   help="predict with the model's spike-count calibration for this indicator, or 'dataset' "
                        "for each dataset's own (DS32-GCaMP8s-... → gcamp8s); default: the model's pooled gain")
    e.add_argument("--spike-estimator", choices=SPIKE_ESTIMATORS,
                   help="score the discrete spikes of this estimator (greedy: ENS²'s published one; count: as many "
                        "spikes as the rate sums to); default: the model's")
    add_model_args(e)
    e.set_defaults(func=_cmd_evaluate)

    b = sub.add_parser("benchmark", help="leave-one-dataset-out benchmark against the published ENS² table")
    b.add_argument("--lodo", required=True, metavar="DS09,DS10,...",
                   help="datasets to hold out in turn (DS prefixes)")
    b.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders")
    b.add_argument("--training-datasets", default=EXCITATORY_TRAINING,
                   help=f"comma-separated globs of the training pool, minus the held-out dataset "
                        f"(default: {EXCITATORY_TRAINING!r})")
    b.add_argument("-o", "--output", required=True, help="results folder")
    b.add_argument("--stride", type=int, default=1, help="evaluation window stride of the native rows "
                                                         "(1 = exact, as published)")
    b.add_argument("--conditions-stride", type=int, metavar="N",
                   help="window stride of the --conditions rows (default: --stride; 4 keeps them affordable "
                        "while the native rows stay exact)")
    b.add_argument("--published", help="published per-neuron metrics CSV (default: "
                                       "$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv)")
    b.add_argument("--conditions", metavar="30:2,7.5:8,...",
                   help="also score each fold under these recording conditions (RATE:NU, Hz : %%·Hz^-1/2) "
                        "into <recipe>_lodo_DSxx_conditions.csv; <recipe>_lodo_DSxx.csv keeps the native rows")
    b.add_argument("--scheduler", metavar="ADDRESS",
                   help="train and evaluate the folds as tasks, one fold per worker, on the Dask cluster at "
                        "ADDRESS (tcp://host:8786), or 'local' to start one here (pip install 'ens2zoo[dask]'); "
                        "torch threads: --threads, else the worker's")
    b.add_argument("--workers", type=int, metavar="N",
                   help="with --scheduler local: worker processes, one thread each (default: one per CPU core)")
    add_training_args(b)
    b.set_defaults(func=_cmd_benchmark)
