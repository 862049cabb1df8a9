"""Seconds per training iteration (batch of 1,024 windows) for each architecture.

    .venv/bin/python benchmarks/training_speed.py [--iterations 20] [--threads 2] [--compile]

Data: the DS09 ground-truth dataset (any dataset gives the same cost per
iteration).  Prints a Markdown table with the projected time of a full
5,000-iteration training.  ``--compile``: each architecture also trained compiled
(``fit(compile=True)``; the compilation is paid in the warm-up), eager and compiled
alternating ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

import ens2zoo
from ens2zoo.data import TrainingWindows, find_datasets, load_dataset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--archs", default="unet,mlp,cnn,lstm")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--compile", action="store_true", help="also time fit(compile=True)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--shared", default=os.environ.get("ENS2ZOO_SHARED", "../shared"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = find_datasets(Path(args.shared) / "ground_truth", "DS09*")[0]
    windows = TrainingWindows([load_dataset(folder)])
    print("| architecture | compiled | threads | batch | s/iteration | 5,000 iterations |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    modes = (False, True) if args.compile else (False,)
    for arch in args.archs.split(","):
        model = ens2zoo.create(arch)
        for compile in modes:
            model.fit(windows, max_iter=2, batch_size=args.batch_size, compile=compile)  # warm-up
        for _ in range(args.rounds):
            for compile in modes:
                start = time.perf_counter()
                model.fit(windows, max_iter=args.iterations, batch_size=args.batch_size, compile=compile)
                per = (time.perf_counter() - start) / args.iterations
                print(f"| {arch} | {'yes' if compile else 'no'} | {args.threads} | {args.batch_size} | {per:.3f} "
                      f"| {per * 5000 / 60:.1f} min |", flush=True)


if __name__ == "__main__":
    main()
