"""Condition table: models (and the OASIS peer) scored under recording conditions, plus the figure.

    .venv/bin/python benchmarks/conditions/run_conditions.py --data ../shared/ground_truth \\
        --datasets 'DS09*,DS20*' --model ens2-exc --model oasis \\
        --model mine=unet:path/to/weights.safetensors --stride 4 -o benchmarks/conditions/results

Each ``--model`` is a zoo name, a peer name (``oasis``; needs ``pip install 'ens2zoo[peers]'``)
or ``LABEL=ARCH:WEIGHTS``.  Writes ``<LABEL>_conditions.csv`` per model (columns of
``ens2zoo evaluate --conditions``; an existing one is kept unless ``--force``) and
``conditions_corr.png`` (median correlation against ν, one panel per frame rate, one line
per model; dashed: native).  Every model sees the very same re-imaged traces (the noise is
seeded by dataset, neuron, recording and condition).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ens2zoo
from ens2zoo.benchmark.conditions import PAPER_CONDITIONS, evaluate_conditions, parse_conditions, write_condition_csv
from ens2zoo.benchmark.figures import plot_condition_curves
from ens2zoo.benchmark.oasis import PEER_PREDICTORS
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.data.groups import GROUPS


def build(spec: str):
    """(label, model) from ``NAME`` (zoo model or peer) or ``LABEL=ARCH:WEIGHTS``."""
    label, sep, rest = spec.partition("=")
    if sep:
        arch, colon, weights = rest.partition(":")
        if not colon:
            raise ens2zoo.InputError(f"--model {spec!r}: write LABEL=ARCH:WEIGHTS, e.g. mine=unet:w.safetensors")
        return label, ens2zoo.create(arch, weights=weights)
    return spec, (PEER_PREDICTORS[spec]() if spec in PEER_PREDICTORS else ens2zoo.load(spec))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder of DSxx-* ground-truth folders")
    p.add_argument("--datasets", default=GROUPS["excitatory"], help="comma-separated globs")
    p.add_argument("--model", action="append", required=True, help="NAME or LABEL=ARCH:WEIGHTS (repeat)")
    p.add_argument("--conditions", default=PAPER_CONDITIONS)
    p.add_argument("--stride", type=int, default=1, help="window stride of the networks (1 = exact)")
    p.add_argument("-o", "--output", default="benchmarks/conditions/results")
    p.add_argument("--force", action="store_true", help="re-evaluate models whose CSV exists")
    args = p.parse_args(argv)
    conditions = parse_conditions(args.conditions)
    folders = find_datasets(args.data, args.datasets)
    if not folders:
        raise SystemExit(f"no dataset under {args.data} matches {args.datasets!r}")
    models = [build(spec) for spec in args.model]
    out = Path(args.output)
    datasets = None
    tables = {}
    for label, model in models:
        path = out / f"{label}_conditions.csv"
        tables[label] = path
        if path.is_file() and not args.force:
            print(f"{path} exists: kept (--force re-evaluates)")
            continue
        datasets = datasets or [load_dataset(f, progress=None) for f in folders]
        start = time.perf_counter()
        rows = evaluate_conditions(model, datasets, conditions, stride=args.stride, progress=sys.stderr.isatty())
        write_condition_csv(path, rows)
        print(f"{label}: {len(rows)} rows in {time.perf_counter() - start:.0f} s; wrote {path}", flush=True)
    figure = plot_condition_curves(tables, out / "conditions_corr.png")
    print(f"wrote {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
