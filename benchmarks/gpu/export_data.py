"""Pack the ground truth losslessly and compactly for a GPU machine that cannot see ``../shared``.

    # here: pack (checks the round trip neuron by neuron)
    .venv/bin/python benchmarks/gpu/export_data.py pack --data ../shared/ground_truth --out .gpu_data
    # there: rebuild the CASCADE-format folders the loader reads
    python3 benchmarks/gpu/export_data.py unpack --out .gpu_data --to /tmp/shared

A device call carries at most 64 MiB; the ground truth is 127 MiB of float64 arrays that zlib
alone cannot shrink.  Only the three fields the loader reads are kept (``fluo_mean``,
``fluo_time``, ``events_AP``, values, shapes and dtypes exactly as stored), and each array is
stored as its bytes regrouped by byte position ("shuffle", as Blosc and HDF5 do) before zlib;
time stamps, nearly evenly spaced, are first replaced by the differences of their 64-bit
integer views (exactly invertible).  ``unpack`` writes ``TO/ground_truth/DSxx-*/<name>.mat``
and ``TO/ens2_reference/`` (weights, sample and published outputs for the GPU parity check).
``OUT`` is git-ignored (``.gpu_data/``): nothing from ``../shared`` is ever committed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import scipy.io

from ens2zoo.data.matfile import REQUIRED_FIELDS

REFERENCE_FILES = ("ens2_exc_state_dict.pt", "ens2_inh_state_dict.pt", "sample_data.mat",
                   "sample_reference_exc.npz", "published_lodo_metrics.csv")
PACK = "ground_truth.npz"


def encode(a: np.ndarray, delta: bool) -> np.ndarray:
    """Bytes of ``a`` regrouped by position (after integer deltas if ``delta``), as uint8."""
    flat = np.ascontiguousarray(a).reshape(-1)
    size = flat.dtype.itemsize
    if delta and flat.dtype == np.float64:
        ints = flat.view(np.int64)
        flat = np.diff(ints, prepend=np.int64(0))
    return np.ascontiguousarray(flat.view(np.uint8).reshape(-1, size).T).reshape(-1)


def decode(b: np.ndarray, dtype: np.dtype, shape: tuple[int, ...], delta: bool) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    raw = np.ascontiguousarray(b.reshape(size, -1).T).reshape(-1)
    if delta and np.dtype(dtype) == np.float64:
        return np.cumsum(raw.view(np.int64)).view(np.float64).reshape(shape)
    return raw.view(dtype).reshape(shape)


def pack(data: Path, out: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for source in sorted(data.glob("DS*/*.mat")):
        cells = scipy.io.loadmat(str(source), variable_names=["CAttached"])["CAttached"].reshape(-1)
        key = f"{source.parent.name}/{source.name}"
        arrays[f"{key};trials"] = np.int64(cells.size)
        for i, cell in enumerate(cells):
            rec = cell.reshape(-1)[0] if isinstance(cell, np.ndarray) else cell
            for name in REQUIRED_FIELDS:
                a = np.asarray(rec[name]) if name in (rec.dtype.names or ()) else np.zeros((0, 0))
                arrays[f"{key};{i};{name};{a.dtype.str};{'x'.join(map(str, a.shape))}"] = \
                    encode(a, name == "fluo_time")
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / PACK, **arrays)
    ref = out / "ens2_reference"
    ref.mkdir(exist_ok=True)
    for name in REFERENCE_FILES:
        shutil.copy2(data.parent / "ens2_reference" / name, ref / name)


def unpack(out: Path, to: Path) -> None:
    files: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    counts: dict[str, int] = {}
    with np.load(out / PACK) as z:
        for k in z.files:
            parts = k.split(";")
            if parts[1] == "trials":
                counts[parts[0]] = int(z[k])
                continue
            key, i, name, dtype, shape = parts
            dims = tuple(int(s) for s in shape.split("x")) if shape else ()
            files.setdefault(key, {}).setdefault(int(i), {})[name] = decode(z[k], np.dtype(dtype), dims,
                                                                           name == "fluo_time")
    dtype = [(name, object) for name in REQUIRED_FIELDS]
    for key, trials in files.items():
        cells = np.empty((1, counts[key]), dtype=object)
        for i in range(counts[key]):
            struct = np.zeros((1, 1), dtype=dtype)
            for name in REQUIRED_FIELDS:
                struct[name][0, 0] = trials[i][name]
            cells[0, i] = struct
        target = to / "ground_truth" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(str(target), {"CAttached": cells})
    shutil.copytree(out / "ens2_reference", to / "ens2_reference", dirs_exist_ok=True)


def check(data: Path, to: Path) -> None:
    """Every rebuilt file loads to the same neuron as its original, array for array."""
    import logging

    from ens2zoo.data import load_neuron

    logging.getLogger("ens2zoo.data").setLevel(logging.ERROR)
    for source in sorted(data.glob("DS*/*.mat")):
        x, y = load_neuron(source), load_neuron(to / "ground_truth" / source.parent.name / source.name)
        same = len(x.recordings) == len(y.recordings) and all(
            np.array_equal(getattr(r, f), getattr(s, f))
            for r, s in zip(x.recordings, y.recordings, strict=True)
            for f in ("trace", "rate", "spikes", "event_times"))
        if not same:
            raise SystemExit(f"{source}: the rebuilt file does not load to the same neuron")


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
    pack(Path(args.data), out)
    with tempfile.TemporaryDirectory() as tmp:
        unpack(out, Path(tmp))
        check(Path(args.data), Path(tmp))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out}: {size / 2**20:.1f} MiB; every neuron rebuilds identically")


if __name__ == "__main__":
    main()
