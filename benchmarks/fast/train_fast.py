"""Distil variants of ``ens2-exc-fast`` (the design grid): the recipe ``ens2-exc-fast`` with changed settings.

    # the zoo's student is the recipe as named:
    ens2zoo train --recipe ens2-exc-fast --data ../shared/ground_truth -o zoo_weights/ens2-exc-fast.safetensors
    # a LODO fold (teacher: the fold's ens2-exc family; the held-out dataset excluded everywhere):
    .venv/bin/python benchmarks/fast/train_fast.py --fold DS09 --data ../shared/ground_truth --threads 1
    # a variant on a fold (the GPU grid's, benchmarks/gpu/grid.py):
    .venv/bin/python benchmarks/fast/train_fast.py --fold DS09 --channels 48 --iters 6000 -o VARIANT.safetensors

Every run goes through ``ens2zoo.workflows.distillation.train_distilled`` (teacher labels cached and
stages checkpointed in ``<output>.distill/``; ``--resume`` continues) with the recipe
``ens2-exc-fast`` changed by the options given; the weights record the recipe as run.  Output:
``benchmarks/fast/weights/ens2-exc-fast_lodo_DSxx.safetensors`` by default.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import torch

from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS, lodo_name
from ens2zoo.training.recipes import DISTILL_RECIPES
from ens2zoo.workflows.distillation import train_distilled
from ens2zoo.workflows.factory import load_folder

LODO = Path("benchmarks/lodo")
RECIPE = DISTILL_RECIPES["ens2-exc-fast"]


def fold_teacher(fold: str, device: str = "cpu"):
    """The fold's committed ens2-exc family (the teacher) and its folder."""
    folder = LODO / "weights" / lodo_name("ens2-exc", fold)
    if not (folder / "manifest.json").is_file():
        raise SystemExit(f"no teacher for {fold}: {folder} is not a family folder "
                         f"(ens2zoo benchmark --recipe ens2-exc --lodo {fold} writes it)")
    return load_folder(folder, device=device), str(folder)


def variant(args: argparse.Namespace):
    """The recipe with the options given."""
    config = dataclasses.replace(RECIPE.config, max_iter=args.iters or RECIPE.config.max_iter,
                                 finetune_iter=RECIPE.config.finetune_iter if args.finetune is None else args.finetune,
                                 batch_size=args.batch or RECIPE.config.batch_size, seed=args.seed)
    hparams = dict(RECIPE.hparams)
    if args.channels:
        hparams["channels"] = args.channels
    if args.dilations:
        hparams["dilations"] = [int(d) for d in args.dilations.split(",")]
    return dataclasses.replace(RECIPE, config=config, hparams=hparams,
                               hours_original=args.hours_original or RECIPE.hours_original,
                               hours_reimaged=args.hours_reimaged or RECIPE.hours_reimaged,
                               reimage=dataclasses.replace(RECIPE.reimage, seed=args.seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fold", required=True, help="held-out dataset (e.g. DS09)")
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--hours-original", type=float, help="hours of recordings as they are")
    parser.add_argument("--hours-reimaged", type=float, help="hours of re-imaged copies")
    parser.add_argument("--iters", type=int, help="distillation iterations")
    parser.add_argument("--finetune", type=int, help="fine-tuning iterations on the true rate")
    parser.add_argument("--batch", type=int, help="windows per iteration")
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
    fold = args.fold.upper()
    output = Path(args.output or f"benchmarks/fast/weights/{lodo_name('ens2-exc-fast', fold)}.safetensors")
    folders = [f for f in find_datasets(args.data, GROUPS[RECIPE.datasets]) if not f.name.startswith(f"{fold}-")]
    teacher, teacher_name = fold_teacher(fold, args.device)
    recipe = dataclasses.replace(variant(args), teacher=teacher_name)
    train_distilled(recipe, [load_dataset(f) for f in folders], output, teacher=teacher, teacher_name=teacher_name,
                    device=args.device, resume=args.resume, selection=f"{RECIPE.datasets},!{fold}*")


if __name__ == "__main__":
    main()
