"""Markdown table of every leave-one-dataset-out fold in a results folder, against the published U-Net.

    .venv/bin/python benchmarks/lodo_table.py [benchmarks/lodo]

Reads ``<arch>_lodo_<DSxx>.csv`` (written by ``ens2zoo benchmark``) and the
published per-neuron table (``$ENS2ZOO_SHARED/ens2_reference/published_lodo_metrics.csv``);
prints per fold and architecture the median corr (%), ER50 (%) and VPd of the
held-out neurons, ours next to the published U-Net's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ens2zoo.benchmark.evaluation import read_csv, summarize
from ens2zoo.benchmark.published import (
    dataset_number,
    published_medians,
    published_metrics_path,
    read_published_metrics,
)


def main(folder: Path) -> None:
    published = read_published_metrics(published_metrics_path())
    print("| held out | architecture | neurons | corr % (ours / published) | ER50 % (ours / published) "
          "| VPd (ours / published) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    native = [(m, p) for p in folder.glob("*_lodo_DS*.csv") if (m := re.fullmatch(r"(.+)_lodo_(DS\d+)\.csv", p.name))]
    for match, path in sorted(native, key=lambda mp: (mp[0].group(2), mp[0].group(1))):
        arch, fold = match.groups()
        ours = summarize(read_csv(path))[0]
        pub = published_medians(dataset_number(fold), published)
        print(f"| {ours['dataset']} | {arch} | {ours['neurons']} | {ours['corr']:.1f} / {pub['published_corr']:.1f} "
              f"| {ours['er50']:.1f} / {pub['published_er50']:.1f} | {ours['vpd']:.2f} / {pub['published_vpd']:.2f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/lodo"))
