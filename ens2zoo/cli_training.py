"""``ens2zoo train``, ``evaluate`` and ``benchmark``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ens2zoo.lodo import EXCITATORY_TRAINING


def _settings(args: argparse.Namespace):
    from ens2zoo.cli import _parse_hparams  # lazy: cli imports this module
    from ens2zoo.lodo import TrainingSettings

    return TrainingSettings(arch=args.arch, loss=args.loss, lr=args.lr, batch_size=args.batch_size,
                            max_iter=args.max_iter, patience=args.patience, seed=args.seed, hours=args.hours,
                            hparams=_parse_hparams(args.hparam), device=args.device, threads=args.threads,
                            log_every=args.log_every, progress=args.progress, loss_window=args.loss_window)


def _cmd_train(args: argparse.Namespace) -> int:
    from ens2zoo.data import find_datasets
    from ens2zoo.errors import InputError
    from ens2zoo.lodo import train_and_save

    folders = find_datasets(args.data, args.datasets)
    if args.exclude:
        excluded = {p.name for p in find_datasets(args.data, args.exclude)}
        folders = [f for f in folders if f.name not in excluded]
    if not folders:
        raise InputError(f"no dataset under {args.data} matches {args.datasets!r}: check --data and --datasets")
    train_and_save(folders, args.output, _settings(args), checkpoint=args.checkpoint, resume=args.resume,
                   keep_checkpoint=args.keep_checkpoint)
    if args.zoo_name:
        from ens2zoo.manifest import upsert_record

        upsert_record(args.zoo_name, weights=args.output, folder=Path(args.output).parent)
        print(f"registered {args.zoo_name} in {Path(args.output).parent / 'manifest.json'}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ens2zoo.cli import _model_from_args  # lazy: cli imports this module
    from ens2zoo.data import find_datasets, load_dataset
    from ens2zoo.errors import InputError
    from ens2zoo.evaluation import evaluate_model, summarize, write_csv

    out = Path(args.output)
    if out.suffix.lower() != ".csv":
        raise InputError(f"-o {out}: the metrics table must end in .csv")
    folders = find_datasets(args.data, args.datasets)
    if not folders:
        raise InputError(f"no dataset under {args.data} matches {args.datasets!r}: check --data and --datasets")
    model = _model_from_args(args)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    datasets = [load_dataset(f, progress=None) for f in folders]
    n = sum(len(d.neurons) for d in datasets)
    print(f"evaluating {model.name} on {n} neurons of {len(datasets)} datasets (stride {args.stride})", flush=True)
    start = time.perf_counter()
    rows = evaluate_model(model, datasets, stride=args.stride, progress=args.progress)
    write_csv(out, rows)
    print(f"{'dataset':<40} {'n':>3} {'corr %':>7} {'er50 %':>7} {'vpd':>6}")
    for s in summarize(rows):
        print(f"{s['dataset'][:40]:<40} {s['neurons']:>3} {s['corr']:>7.1f} {s['er50']:>7.1f} {s['vpd']:>6.2f}")
    print(f"{len(rows)} neurons in {time.perf_counter() - start:.0f} s; wrote {out}")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from ens2zoo.lodo import run_benchmark

    held_out = [s.strip() for s in args.lodo.split(",") if s.strip()]
    run_benchmark(args.data, held_out, args.output, _settings(args), training_datasets=args.training_datasets,
                  stride=args.stride, published=args.published)
    return 0


def _add_training_args(p: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``benchmark``."""
    p.add_argument("--arch", default="unet", help="architecture (see `ens2zoo list`)")
    p.add_argument("--loss", default="mse", help="mse (published), eucd or corr")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--max-iter", type=int, default=5000)
    p.add_argument("--patience", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--loss-window", type=int, default=1,
                   help="iterations averaged for early stopping (1 = published: each batch's loss)")
    p.add_argument("--hours", type=float, help="train on this many hours of randomly drawn windows")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="architecture hyper-parameter")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--log-every", type=int, default=100, help="print the loss every N iterations (0: never)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def add_training_commands(sub: argparse._SubParsersAction) -> None:
    """Register the training-related sub-commands."""
    t = sub.add_parser("train", help="train an architecture on CASCADE-format ground truth")
    t.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders")
    t.add_argument("--datasets", default=EXCITATORY_TRAINING,
                   help=f"comma-separated globs of dataset folders (default: {EXCITATORY_TRAINING!r})")
    t.add_argument("--exclude", help="comma-separated globs of datasets to leave out (e.g. a held-out one)")
    t.add_argument("-o", "--output", required=True, help="weights file to write (.safetensors)")
    _add_training_args(t)
    t.add_argument("--checkpoint", help="checkpoint file (default: OUTPUT.ckpt.safetensors)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    t.add_argument("--keep-checkpoint", action="store_true")
    t.add_argument("--zoo-name", help="also record the weights under this name in OUTPUT's folder manifest.json")
    t.set_defaults(func=_cmd_train)

    from ens2zoo.cli import _add_model_args  # lazy: cli imports this module

    e = sub.add_parser("evaluate", help="benchmark metrics of a model on every neuron of ground-truth datasets")
    e.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders (CASCADE format)")
    e.add_argument("--datasets", default="*", help="comma-separated globs of dataset folders (default: all)")
    e.add_argument("--stride", type=int, default=1, help="window stride (1 = exact, as published)")
    e.add_argument("--hparam", action="append", metavar="KEY=VALUE",
                   help="architecture hyper-parameter of --arch (for weights trained with non-default ones)")
    e.add_argument("-o", "--output", required=True, help="per-neuron metrics table to write (.csv)")
    e.add_argument("--threads", type=int, help="torch CPU threads")
    e.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")
    _add_model_args(e)
    e.set_defaults(func=_cmd_evaluate)

    b = sub.add_parser("benchmark", help="leave-one-dataset-out benchmark against the published ENS² table")
    b.add_argument("--lodo", required=True, metavar="DS09,DS10,...",
                   help="datasets to hold out in turn (DS prefixes)")
    b.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders")
    b.add_argument("--training-datasets", default=EXCITATORY_TRAINING,
                   help=f"comma-separated globs of the training pool, minus the held-out dataset "
                        f"(default: {EXCITATORY_TRAINING!r})")
    b.add_argument("-o", "--output", required=True, help="results folder")
    b.add_argument("--stride", type=int, default=1, help="evaluation window stride (1 = exact, as published)")
    b.add_argument("--published", help="published per-neuron metrics CSV (default: "
                                       "$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv)")
    _add_training_args(b)
    b.set_defaults(func=_cmd_benchmark)
