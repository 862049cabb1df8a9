"""Register ``zoo_weights/ens2-exc-fast.safetensors`` in the zoo manifest (only that record is touched).

    .venv/bin/python benchmarks/fast/register.py [--metrics benchmarks/fast/ens2-exc-fast_DS01.csv]

``upsert_record`` copies the description from the weights' header and hashes them; the record then
gets ``flat_guard`` (silence flat input, as the zoo's other models) and the frame rates and ν its
unlabelled input covered (the ground truth as it is, 7.8–500 Hz, plus copies re-imaged at 7.5–30 Hz,
ν 1–9), which the input warnings compare against.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ens2zoo.benchmark.evaluation import read_csv, summarize
from ens2zoo.zoo.manifest import read_records, upsert_record, write_records

FOLDER = Path("zoo_weights")
NAME = "ens2-exc-fast"
DESCRIPTION = ("fast whole-trace model, excitatory neurons (DS02–DS21): a dilated 1-D CNN (no windows, local "
               "standardisation, receptive field 2.65 s) distilled from ens2-exc's exact rate on the ground truth "
               "and re-imaged copies (7.5–30 Hz, ν 1–9), fine-tuned on the true rate; no stride")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics", help="held-out DS01 rows (evaluate_fast.py --zoo) to record")
    args = parser.parse_args()
    metrics = None
    if args.metrics:
        rows = read_csv(args.metrics)
        metrics = {"held_out_DS01": {"per_dataset": summarize(rows),
                                     "all": summarize([{**r, "dataset": "all"} for r in rows])[0],
                                     "columns": ["corr", "vrd", "vpd", "er50", "error", "bias"],
                                     "source": [args.metrics]}}
    upsert_record(NAME, weights=FOLDER / f"{NAME}.safetensors", description=DESCRIPTION, metrics=metrics,
                  folder=FOLDER)
    records = read_records(FOLDER)
    for record in records:
        if record["name"] == NAME:
            record["preprocessing"] = {**record["preprocessing"], "flat_guard": True}
            record["trained_frame_rates"] = [7.5, 500.0]
            record["trained_noise_levels"] = [0.21, 9.0]
    write_records(records, FOLDER)
    print(f"registered {NAME}")


if __name__ == "__main__":
    main()
