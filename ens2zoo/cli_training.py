"""``ens2zoo train``, ``evaluate`` and ``benchmark``."""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

EXCITATORY_TRAINING = "DS0[2-9]*,DS1*,DS2[01]*"


def _parse_hparams(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _log_every(n: int):
    start = time.perf_counter()

    def log(iteration: int, loss: float, state) -> None:
        if iteration % n == 0:
            print(f"iter {iteration:5d}  loss {loss:.5g}  best {state.best_loss:.5g} @ {state.best_iteration}  "
                  f"{time.perf_counter() - start:7.1f} s", flush=True)

    return log


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    import ens2zoo
    from ens2zoo.data import TrainingWindows, find_datasets, load_dataset
    from ens2zoo.errors import InputError

    folders = find_datasets(args.data, args.datasets)
    if args.exclude:
        excluded = {p.name for p in find_datasets(args.data, args.exclude)}
        folders = [f for f in folders if f.name not in excluded]
    if not folders:
        raise InputError(f"no dataset under {args.data} matches {args.datasets!r}: check --data and --datasets")
    if args.threads:
        torch.set_num_threads(args.threads)
    datasets = [load_dataset(f, progress=None) for f in folders]
    windows = TrainingWindows(datasets)
    if args.hours:
        windows = windows.subset_hours(args.hours, seed=args.seed)
    model = ens2zoo.create(args.arch, device=args.device, **_parse_hparams(args.hparam))
    print(f"training {args.arch} on {len(folders)} datasets ({windows}); loss {args.loss}")
    model.fit(windows, loss=args.loss, lr=args.lr, batch_size=args.batch_size, max_iter=args.max_iter,
              patience=args.patience, seed=args.seed, progress=args.progress,
              checkpoint=args.checkpoint or f"{args.output}.ckpt.safetensors", resume=args.resume,
              callbacks=[_log_every(args.log_every)] if args.log_every else ())
    report = model.training_report
    training = {
        "datasets": [f.name for f in folders], "hours": round(windows.hours, 3), "windows": len(windows),
        "loss": args.loss, "lr": args.lr, "batch_size": args.batch_size, "max_iter": args.max_iter,
        "patience": args.patience, "seed": args.seed, "iterations": report.iterations,
        "best_iteration": report.best_iteration, "best_loss": report.best_loss,
        "stopped_early": report.stopped_early, "seconds": round(report.seconds, 1),
        "seconds_per_iteration": round(report.seconds_per_iteration, 4),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {args.device}",
        "torch": torch.__version__, "ens2zoo": ens2zoo.__version__,
    }
    sha = model.save(args.output, {"training": training})
    ckpt = Path(args.checkpoint or f"{args.output}.ckpt.safetensors")
    if not args.keep_checkpoint:
        ckpt.unlink(missing_ok=True)
    print(f"{report.iterations} iterations ({'early stop' if report.stopped_early else 'max_iter'}), best loss "
          f"{report.best_loss:.5g} at {report.best_iteration}, {report.seconds:.0f} s "
          f"({report.seconds_per_iteration * 1000:.0f} ms/iteration)")
    print(f"wrote {args.output} (sha256 {sha})")
    if args.zoo_name:
        from ens2zoo.manifest import upsert_record

        upsert_record(args.zoo_name, weights=args.output, folder=Path(args.output).parent)
        print(f"registered {args.zoo_name} in {Path(args.output).parent / 'manifest.json'}")
    return 0


def add_training_commands(sub: argparse._SubParsersAction) -> None:
    """Register the training-related sub-commands."""
    t = sub.add_parser("train", help="train an architecture on CASCADE-format ground truth")
    t.add_argument("--arch", default="unet", help="architecture (see `ens2zoo list`)")
    t.add_argument("--data", required=True, help="folder holding DSxx-* dataset folders")
    t.add_argument("--datasets", default=EXCITATORY_TRAINING,
                   help=f"comma-separated globs of dataset folders (default: {EXCITATORY_TRAINING!r})")
    t.add_argument("--exclude", help="comma-separated globs of datasets to leave out (e.g. a held-out one)")
    t.add_argument("-o", "--output", required=True, help="weights file to write (.safetensors)")
    t.add_argument("--loss", default="mse", help="mse (published), eucd or corr")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--batch-size", type=int, default=1024)
    t.add_argument("--max-iter", type=int, default=5000)
    t.add_argument("--patience", type=int, default=500)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--hours", type=float, help="train on this many hours of randomly drawn windows")
    t.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="architecture hyper-parameter")
    t.add_argument("--device", default="cpu")
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.add_argument("--checkpoint", help="checkpoint file (default: OUTPUT.ckpt.safetensors)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    t.add_argument("--keep-checkpoint", action="store_true")
    t.add_argument("--zoo-name", help="also record the weights under this name in OUTPUT's folder manifest.json")
    t.add_argument("--log-every", type=int, default=100, help="print the loss every N iterations (0: never)")
    t.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    t.set_defaults(func=_cmd_train)
