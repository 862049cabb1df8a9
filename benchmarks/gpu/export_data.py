"""Pack the ground truth losslessly and compactly for a GPU machine that cannot see ``../shared``.

    # here: pack (checks the round trip neuron by neuron)
    .venv/bin/python benchmarks/gpu/export_data.py pack --data ../shared/ground_truth --out .gpu_data
    # there: rebuild the CASCADE-format folders the loader reads
    python3 benchmarks/gpu/export_data.py unpack --out .gpu_data --to /tmp/shared

A device call carries at most 64 MiB; the ground truth is 127 MiB of float64 arrays that zlib
alone cannot shrink: ``ens2zoo.data.pack`` keeps the loader's three fields, byte-shuffled (see
there).  ``unpack`` writes ``TO/ground_truth/DSxx-*/<name>.mat`` and ``TO/ens2_reference/``
(weights, sample and published outputs for the GPU parity check).  ``OUT`` is git-ignored
(``.gpu_data/``): nothing from ``../shared`` is ever committed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ens2zoo.data.pack import check, pack, unpack

REFERENCE_FILES = ("ens2_exc_state_dict.pt", "ens2_inh_state_dict.pt", "sample_data.mat",
                   "sample_reference_exc.npz", "published_lodo_metrics.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("pack", "unpack"))
    parser.add_argument("--data", default="../shared/ground_truth")
    parser.add_argument("--out", default=".gpu_data")
    parser.add_argument("--to", help="unpack: folder to rebuild (ground_truth/, ens2_reference/)")
    args = parser.parse_args()
    out = Path(args.out)
    if args.action == "unpack":
        unpack(out, Path(args.to))
        return
    data = Path(args.data)
    pack(data, out, extra=[data.parent / "ens2_reference" / f for f in REFERENCE_FILES], extra_folder="ens2_reference")
    with tempfile.TemporaryDirectory() as tmp:
        unpack(out, Path(tmp))
        check(data, Path(tmp))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}: {size / 2**20:.1f} MiB; every neuron rebuilds identically")


if __name__ == "__main__":
    main()
