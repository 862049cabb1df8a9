"""How closely a fold's whole-trace student follows its teacher, on held-out and on training data.

    .venv/bin/python benchmarks/fast/fidelity.py --fold DS04 --datasets DS04,DS06 \
        --student benchmarks/fast/weights/ens2-exc-fast-data8_lodo_DS04.safetensors --data ../shared/ground_truth

For each dataset: the median correlation (%) with the true rate of the teacher
(``benchmarks/lodo/weights/ens2-exc_lodo_<fold>``, loaded by ``train_fast.fold_teacher``), of
the student, and of the student before its fine-tuning (the best distillation state, read from
``runs/fast/<student>/distill.ckpt.safetensors`` where it exists), all exact on the published
protocol (``evaluate_model``); and the fidelity: the median over recordings of the correlation
between the student's and the teacher's 60 Hz rates.  A student that trails its teacher as much
on the teacher's training datasets as on the held-out one lacks capacity (or training), not
generalisation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from evaluate_fast import load_student  # scripts of this folder
from safetensors.torch import load_file
from train_fast import fold_teacher

from ens2zoo.benchmark.evaluation import evaluate_model
from ens2zoo.data import find_datasets, load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fold", required=True)
    parser.add_argument("--student", required=True, type=Path)
    parser.add_argument("--datasets", required=True, help="comma-separated DS prefixes, e.g. DS04,DS06")
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fold = args.fold.upper()
    models = {"teacher": fold_teacher(fold)[0], "student": load_student(args.student)}
    checkpoint = Path("runs/fast") / args.student.stem / "distill.ckpt.safetensors"
    if checkpoint.is_file():
        models["distilled only"] = load_student(args.student)
        best = {k.removeprefix("best."): v for k, v in load_file(checkpoint).items() if k.startswith("best.")}
        models["distilled only"].net.load_state_dict(best)
    print(f"| dataset | {' | '.join(models)} | fidelity (student vs teacher) |")
    print(f"| --- | {' | '.join('---:' for _ in models)} | ---: |")
    for prefix in args.datasets.split(","):
        (folder,) = find_datasets(args.data, f"{prefix.strip().upper()}-*")
        dataset = load_dataset(folder)
        scores = [np.nanmedian([float(r["corr"]) for r in evaluate_model(m, [dataset], stride=1)])
                  for m in models.values()]
        fidelity = []
        for recording in (r for n in dataset.neurons for r in n.recordings):
            trace = recording.trace.astype(np.float64)
            rates = [models[m].predict(trace, frame_rate=recording.sampling_rate, spikes=False).rate[0]
                     for m in ("teacher", "student")]
            fidelity.append(np.corrcoef(*rates)[0, 1])
        print(f"| {folder.name}{' (held out)' if folder.name.startswith(fold + '-') else ''} | "
              + " | ".join(f"{s:.1f}" for s in scores) + f" | {np.nanmedian(fidelity):.3f} |", flush=True)


if __name__ == "__main__":
    main()
