"""OASIS as a peer of the LODO table: ``benchmarks/lodo/oasis_lodo_DSxx.csv`` (native rows).

    .venv/bin/python benchmarks/lodo/oasis_folds.py DS03,DS04,DS06,DS09,DS15,DS17,DS19,DS21 \
        --data ../shared/ground_truth

OASIS (:class:`ens2zoo.benchmark.oasis.OASIS`: AR(2), ℓ1, parameters estimated per trace) trains
on nothing, so its "fold" is just the held-out dataset, scored with the protocol of the table
(native recordings, 60 Hz targets, σ 25 ms).  A fold whose CSV exists is skipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ens2zoo.benchmark.conditions import evaluate_conditions
from ens2zoo.benchmark.evaluation import write_csv
from ens2zoo.benchmark.oasis import OASIS
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import lodo_name

LODO = Path("benchmarks/lodo")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folds")
    parser.add_argument("--data", default="../shared/ground_truth")
    args = parser.parse_args()
    for fold in (f.strip().upper() for f in args.folds.split(",")):
        out = LODO / f"{lodo_name('oasis', fold)}.csv"
        if out.is_file():
            continue
        (folder,) = find_datasets(args.data, f"{fold}-*")
        start = time.perf_counter()
        rows = evaluate_conditions(OASIS(), [load_dataset(folder)], "native", stride=1)
        write_csv(out, [{k: v for k, v in r.items() if not k.startswith("condition_")} for r in rows])
        print(f"{fold}: {len(rows)} neurons in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
