"""Time to load the whole ground-truth database at 60 Hz, cold (empty cache) and warm.

    .venv/bin/python benchmarks/data_loading.py [--shared ../shared]

Uses a fresh temporary cache folder, so the first pass preprocesses every file
and the second reads the cached arrays. Also reports the memory of the
excitatory training windows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from ens2zoo.data import TrainingWindows, load_datasets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=os.environ.get("ENS2ZOO_SHARED", "../shared"))
    args = parser.parse_args()
    root = Path(args.shared) / "ground_truth"
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm"):
            start = time.perf_counter()
            datasets = load_datasets(root, cache=Path(cache))
            elapsed = time.perf_counter() - start
            n = sum(len(d.neurons) for d in datasets)
            print(f"{label}: {len(datasets)} datasets, {n} neurons in {elapsed:.1f} s")
    exc = [d for d in datasets if d.cell_type == "excitatory" and not d.name.startswith("DS01")]
    windows = TrainingWindows(exc)
    print(f"excitatory training windows: {windows}")


if __name__ == "__main__":
    main()
