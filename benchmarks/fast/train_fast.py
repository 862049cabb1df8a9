"""Distil the whole-trace student ``ens2-exc-fast`` (architecture ``tcn``) from an ``ens2-exc`` teacher.

    # the zoo's student: teacher ens2-exc, unlabelled input from DS02–DS21 (excitatory)
    .venv/bin/python benchmarks/fast/train_fast.py --data ../shared/ground_truth --threads 1
    # a LODO fold: teacher = that fold's family folder, the held-out dataset excluded everywhere
    .venv/bin/python benchmarks/fast/train_fast.py --fold DS09 --data ../shared/ground_truth --threads 1

Stages (``ens2zoo.training.distill``): teacher labels (stride 1, cached in
``runs/fast/<output name>/labels.npz``), distillation (``--iters``), fine-tuning on the true rate
(``--finetune``).  Checkpoints live in ``runs/fast/<output name>/``; ``--resume`` continues a run.
Output: ``zoo_weights/ens2-exc-fast.safetensors`` (zoo) or
``benchmarks/fast/weights/ens2-exc-fast_lodo_DSxx.safetensors`` (fold), with the run in the
``training`` metadata and the ``recipe`` (name ``ens2-fast``).
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from pathlib import Path

import torch

import ens2zoo
from ens2zoo._version import __version__
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS, lodo_name
from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.training.distill import (
    DistillConfig,
    distill,
    recipe_record,
    teacher_labels,
    training_window,
    unlabelled_set,
    unlabelled_windows,
)
from ens2zoo.workflows.factory import load_folder
from ens2zoo.zoo.manifest import write_family

EXCITATORY = GROUPS["excitatory"]
LODO = Path("benchmarks/lodo")
RUNS = Path("runs/fast")
log = logging.getLogger("train_fast")


def fold_teacher(fold: str, device: str = "cpu"):
    """The fold's ens2-exc family folder; if only its two members exist yet, the same family assembled in runs/."""
    folder = LODO / "weights" / lodo_name("ens2-exc", fold)
    if (folder / "manifest.json").is_file():
        return load_folder(folder, device=device), str(folder)
    low, high = (LODO / f"{lodo_name(recipe, fold)}.safetensors" for recipe in ("ens2-v1", "ens2-nm"))
    if not (low.is_file() and high.is_file()):
        raise SystemExit(f"no teacher for {fold}: neither {folder} nor {low} and {high} exist yet")
    folder = RUNS / f"teacher_{fold}"
    write_family(folder, lodo_name("ens2-exc", fold), [  # as benchmarks/lodo/family_fold.py (threshold 1.5)
        {"name": "ens2-v1", "weights": low, "noise_range": [None, 1.5]},
        {"name": "ens2-nm", "weights": high, "noise_range": [1.5, None],
         "trained_frame_rates": [7.5, 60.0], "trained_noise_levels": [1.0, 9.0]},
    ], description=f"ens2-exc family, LODO fold {fold}")
    return load_folder(folder, device=device), str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fold", help="held-out dataset (e.g. DS09); default: the zoo student")
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--datasets", default=EXCITATORY,
                        help="unlabelled input from these datasets (comma-separated globs; default: the excitatory "
                             "training datasets); the held-out --fold is removed from them in any case")
    parser.add_argument("--hours-original", type=float, default=3.0, help="hours of recordings as they are")
    parser.add_argument("--hours-reimaged", type=float, default=3.0, help="hours of re-imaged copies")
    parser.add_argument("--iters", type=int, default=3000, help="distillation iterations")
    parser.add_argument("--finetune", type=int, default=300, help="fine-tuning iterations on the true rate")
    parser.add_argument("--batch", type=int, default=64, help="windows per iteration")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="teacher labels and training on this device (cuda)")
    parser.add_argument("--channels", type=int, help="student width (tcn default: 32)")
    parser.add_argument("--dilations", help="student dilations, comma-separated (tcn default: 1,2,4,8,16,32,1,2,4,8)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("-o", "--output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    fold = args.fold.upper() if args.fold else None
    name = lodo_name("ens2-exc-fast", fold) if fold else "ens2-exc-fast"
    output = Path(args.output or (f"benchmarks/fast/weights/{name}.safetensors" if fold
                                  else "zoo_weights/ens2-exc-fast.safetensors"))
    run_dir = RUNS / output.name.removesuffix(".safetensors")
    if fold and not any(f.name.startswith(f"{fold}-") for f in find_datasets(args.data, EXCITATORY)):
        raise SystemExit(f"{fold} is not one of the excitatory training datasets")
    folders = [f for f in find_datasets(args.data, args.datasets) if not (fold and f.name.startswith(f"{fold}-"))]
    if not folders:
        raise SystemExit(f"no training dataset left in {args.data} for --datasets {args.datasets!r}")
    if fold:
        teacher, teacher_name = fold_teacher(fold, args.device)
    else:
        teacher, teacher_name = ens2zoo.load("ens2-exc", device=args.device), "ens2-exc"
    teacher_hash = ",".join(sorted(m.record.sha256 or "" for m in teacher.members)) or (teacher.sha256 or "")
    datasets = [load_dataset(f) for f in folders]
    neurons = [n for d in datasets for n in d.neurons]
    spec = ReimageSpec(frame_rates=(7.5, 15.0, 30.0), noise_levels=(1.0, 9.0), copies=1, keep_original=False,
                       seed=args.seed)
    items = unlabelled_set(neurons, hours_original=args.hours_original, hours_reimaged=args.hours_reimaged,
                           reimage=spec, seed=args.seed)
    hparams = {"channels": args.channels} if args.channels else {}
    if args.dilations:
        hparams["dilations"] = [int(d) for d in args.dilations.split(",")]
    student = ens2zoo.create("tcn", **hparams)
    config = DistillConfig(max_iter=args.iters, finetune_iter=args.finetune, batch_size=args.batch, seed=args.seed)
    window = training_window(student.net, config.crop, config.window)
    windows = unlabelled_windows(items, window)
    n_reimaged = sum(it.reimaged for it in items)
    log.info("%s: teacher %s; unlabelled %s (%d recordings, %d re-imaged)", name, teacher_name, windows,
             len(items), n_reimaged)
    start = time.perf_counter()
    key = f"{teacher_hash}|{args.hours_original}|{args.hours_reimaged}|{args.seed}|{len(items)}|{window}"
    labels = teacher_labels(teacher, items, windows, cache=run_dir / "labels.npz", key=key,
                            progress=lambda k, n: k % 200 == 0 and log.info("labels %d/%d", k, n))
    label_seconds = time.perf_counter() - start
    log.info("teacher labels: %.0f s", label_seconds)
    state, reports = distill(student.net, windows, labels, config, checkpoint_dir=run_dir, resume=args.resume,
                             log_every=250, device=args.device)
    student.net.load_state_dict(state)
    training = {
        "datasets": [f.name for f in folders], "held_out": fold, "teacher": teacher_name,
        "teacher_sha256": teacher_hash, "hours": round(windows.hours, 3),
        "hours_reimaged": round(sum(len(it.recording) for it in items if it.reimaged) / 60 / 3600, 3),
        "recordings": len(items), "label_seconds": round(label_seconds, 1),
        "iterations": sum(r.iterations for r in reports), "seconds": round(sum(r.seconds for r in reports), 1),
        **{r.stage: r.to_dict() for r in reports},
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {args.device}",
        "torch": torch.__version__, "ens2zoo": __version__,
    }
    recipe = recipe_record("tcn", student.hparams, config, teacher=teacher_name,
                           hours_original=args.hours_original, hours_reimaged=args.hours_reimaged, reimage=spec)
    output.parent.mkdir(parents=True, exist_ok=True)
    sha = student.save(output, {"training": training, "recipe": recipe})
    log.info("wrote %s (sha256 %s, %d bytes)", output, sha, output.stat().st_size)


if __name__ == "__main__":
    main()
