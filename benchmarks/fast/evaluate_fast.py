"""Held-out figures of the whole-trace student against its teacher.

    # a LODO fold: student benchmarks/fast/weights/ens2-exc-fast_lodo_DS09.safetensors vs the fold's ens2-exc family
    .venv/bin/python benchmarks/fast/evaluate_fast.py --fold DS09 --data ../shared/ground_truth
    # the zoo's models on DS01 (never used for training): ens2-exc-fast vs ens2-exc
    .venv/bin/python benchmarks/fast/evaluate_fast.py --zoo --data ../shared/ground_truth

Native rows: ``evaluate_model`` (the published protocol; the teacher exact, stride 1).
Condition rows (re-imaged 30:2, 30:4, 30:8, 15:4, 7.5:4, 7.5:8): ``evaluate_conditions``,
the teacher at ``--stride`` (4), the student has no stride.  Writes
``benchmarks/fast/<student>_<set>.csv`` and ``..._conditions.csv`` for both models, and prints the
median correlation (%) per condition.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from train_fast import fold_teacher  # this folder's script

import ens2zoo
from ens2zoo.benchmark.conditions import evaluate_conditions, write_condition_csv
from ens2zoo.benchmark.evaluation import evaluate_model, read_csv, write_csv
from ens2zoo.cli.options import weights_description
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import REIMAGED_CONDITIONS, lodo_name
from ens2zoo.zoo.entries import Preprocessing

OUT = Path("benchmarks/fast")


def load_student(weights: Path, device: str = "cpu") -> ens2zoo.SpikeModel:
    """A fold's whole-trace student (``tcn``, hyper-parameters read from the weights, silent on flat input)."""
    return ens2zoo.create("tcn", weights=weights, preprocessing=Preprocessing(flat_guard=True), device=device,
                          **weights_description(str(weights)).get("hparams", {}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fold")
    parser.add_argument("--zoo", action="store_true")
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--stride", type=int, default=4, help="teacher stride under the conditions")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--student", help="a fold's student weights (default: weights/ens2-exc-fast_lodo_DSxx."
                                          "safetensors); its CSVs are named after it (<name>_lodo_DSxx.csv)")
    parser.add_argument("--no-conditions", action="store_true")
    parser.add_argument("--reuse-teacher", action="store_true",
                        help="read the teacher's CSVs where they exist instead of evaluating it again")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.zoo:
        teacher, student = ens2zoo.load("ens2-exc", args.device), ens2zoo.load("ens2-exc-fast", args.device)
        dataset_glob, tag, names = "DS01-*", "DS01", ("ens2-exc", "ens2-exc-fast")
    else:
        fold = args.fold.upper()
        teacher, _ = fold_teacher(fold, args.device)
        weights = Path(args.student or OUT / "weights" / f"{lodo_name('ens2-exc-fast', fold)}.safetensors")
        student = load_student(weights, args.device)
        dataset_glob, tag = f"{fold}-*", f"lodo_{fold}"
        names = ("ens2-exc", weights.stem.split("_lodo_")[0])
    (dataset_folder,) = find_datasets(args.data, dataset_glob)
    dataset = load_dataset(dataset_folder)
    summary = {}
    for name, model, stride in ((names[0], teacher, 1), (names[1], student, 1)):
        start = time.perf_counter()
        native_csv, cond_csv = OUT / f"{name}_{tag}.csv", OUT / f"{name}_{tag}_conditions.csv"
        reuse = args.reuse_teacher and name == names[0] and native_csv.is_file() and cond_csv.is_file()
        native = read_csv(native_csv) if reuse else evaluate_model(model, [dataset], stride=stride)
        if not reuse:
            write_csv(native_csv, native)
        result = {"native": float(np.nanmedian([float(r["corr"]) for r in native]))}
        if not args.no_conditions:
            if reuse:
                rows = read_csv(cond_csv)
            else:
                rows = evaluate_conditions(model, [dataset], REIMAGED_CONDITIONS,
                                           stride=args.stride if name == names[0] else 1)
                write_condition_csv(cond_csv, rows)
            for r in rows:
                label = f"{float(r['condition_frame_rate']):g}:{float(r['condition_noise']):g}"
                result.setdefault(label, []).append(float(r["corr"]))
            result = {k: (v if isinstance(v, float) else float(np.nanmedian(v))) for k, v in result.items()}
        summary[name] = result
        print(f"{name} on {tag}: {time.perf_counter() - start:.0f} s", flush=True)
    print("condition | teacher corr | student corr | Δ")
    for cond, value in summary[names[0]].items():
        other = summary[names[1]][cond]
        print(f"{cond} | {value:.1f} | {other:.1f} | {other - value:+.1f}")


if __name__ == "__main__":
    main()
