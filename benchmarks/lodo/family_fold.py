"""Assemble and score the noise-routed ``ens2-exc`` (or ``ens2-inh``) family of one LODO fold.

    .venv/bin/python benchmarks/lodo/family_fold.py DS09 [--stride 4] [--threshold 1.5] [--device cuda]
    .venv/bin/python benchmarks/lodo/family_fold.py DS23 --family ens2-inh

The family has two members trained on the same fold (the held-out dataset never seen):
``ens2-v1`` (the zoo's first recipe, on the recordings as they are) serves neurons with
ν < threshold, ``ens2-nm`` (the same U-Net trained also on re-imaged copies at 7.5–30 Hz
and ν 1–9) serves the rest.  Writes the family folder
``benchmarks/lodo/weights/<family>_lodo_DSxx/`` (members' weights + manifest.json; load it
with ``ens2zoo evaluate --weights FOLDER``), the native rows
``benchmarks/lodo/<family>_lodo_DSxx.csv`` (routed by each neuron's ν at its original frame
rate; exact, stride 1) and the condition rows ``<family>_lodo_DSxx_conditions.csv`` (routed by
the ν of the re-imaged trace; ``--stride``, 4 by default, as for the members' condition rows).
The threshold was chosen on DS01 (never used for training, not a report fold): the
noise-matched member wins from ν 2 on, the first recipe below ν 1.3.  The inhibitory family
(``--family ens2-inh``, folds DS22–DS27) uses the same threshold: no inhibitory dataset is
left over to choose one on.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ens2zoo.benchmark.conditions import evaluate_conditions, write_condition_csv
from ens2zoo.benchmark.evaluation import write_csv
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import REIMAGED_CONDITIONS, lodo_name
from ens2zoo.workflows.factory import load_folder
from ens2zoo.zoo.manifest import write_family

LODO = Path("benchmarks/lodo")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("fold")
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--threshold", type=float, default=1.5)
    parser.add_argument("--family", default="ens2-exc", choices=("ens2-exc", "ens2-inh"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    fold, family = args.fold.upper(), args.family
    low, high = (LODO / f"{lodo_name(recipe, fold)}.safetensors" for recipe in ("ens2-v1", "ens2-nm"))
    name = lodo_name(family, fold)
    folder = LODO / "weights" / name
    write_family(folder, name, [
        {"name": "ens2-v1", "weights": low, "noise_range": [None, args.threshold]},
        {"name": "ens2-nm", "weights": high, "noise_range": [args.threshold, None],
         "trained_frame_rates": [7.5, 60.0], "trained_noise_levels": [1.0, 9.0]},
    ], description=f"{family} family, LODO fold {fold} (ν < {args.threshold:g}: ens2-v1, else ens2-nm)")
    model = load_folder(folder, device=args.device)
    (dataset_folder,) = find_datasets(args.data, f"{fold}-*")
    dataset = load_dataset(dataset_folder)
    start = time.perf_counter()
    # native rows exact (stride 1, like the members' own LODO rows); conditions at --stride
    native = [{k: v for k, v in r.items() if not k.startswith("condition_")}
              for r in evaluate_conditions(model, [dataset], "native", stride=1)]
    write_csv(LODO / f"{name}.csv", native)
    rows = evaluate_conditions(model, [dataset], REIMAGED_CONDITIONS, stride=args.stride)
    write_condition_csv(LODO / f"{name}_conditions.csv", rows)
    print(f"{fold}: {len(native)} neurons, {len(rows)} condition rows in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
