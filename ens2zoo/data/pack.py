"""A lossless, compact copy of a ground-truth folder, for a machine that cannot see it (a lent GPU).

:func:`pack` keeps only the three fields the loader reads (``fluo_mean``, ``fluo_time``,
``events_AP``: values, shapes and dtypes exactly as stored) and stores each array's bytes
regrouped by byte position ("shuffle", as Blosc and HDF5 do) before zlib; time stamps, nearly
evenly spaced, are first replaced by the differences of their 64-bit integer views (exactly
invertible).  :func:`unpack` rebuilds ``TO/ground_truth/DSxx-*/<name>.mat``; :func:`check` proves
that every rebuilt file loads to the same neuron as its original.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.io

from ens2zoo.data.loader import load_neuron
from ens2zoo.data.matfile import REQUIRED_FIELDS
from ens2zoo.errors import InputError

__all__ = ["PACK", "check", "decode", "encode", "pack", "unpack"]

#: the packed arrays' file inside the pack folder
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
    """The array :func:`encode` made ``b`` from, bit for bit."""
    size = np.dtype(dtype).itemsize
    raw = np.ascontiguousarray(b.reshape(size, -1).T).reshape(-1)
    if delta and np.dtype(dtype) == np.float64:
        return np.cumsum(raw.view(np.int64)).view(np.float64).reshape(shape)
    return raw.view(dtype).reshape(shape)


def pack(data: Path, out: Path, extra: Sequence[Path] = (), extra_folder: str = "extra") -> None:
    """Pack every ``data/DS*/*.mat`` into ``out/ground_truth.npz``; ``extra`` files are copied to
    ``out/<extra_folder>/`` (e.g. reference weights the other machine needs)."""
    arrays: dict[str, np.ndarray] = {}
    for source in sorted(Path(data).glob("DS*/*.mat")):
        cells = scipy.io.loadmat(str(source), variable_names=["CAttached"])["CAttached"].reshape(-1)
        key = f"{source.parent.name}/{source.name}"
        arrays[f"{key};trials"] = np.int64(cells.size)
        for i, cell in enumerate(cells):
            rec = cell.reshape(-1)[0] if isinstance(cell, np.ndarray) else cell
            for name in REQUIRED_FIELDS:
                a = np.asarray(rec[name]) if name in (rec.dtype.names or ()) else np.zeros((0, 0))
                arrays[f"{key};{i};{name};{a.dtype.str};{'x'.join(map(str, a.shape))}"] = \
                    encode(a, name == "fluo_time")
    if not arrays:
        raise InputError(f"{data}: no DSxx-*/*.mat ground truth to pack")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / PACK, **arrays)
    if extra:
        (out / extra_folder).mkdir(exist_ok=True)
        for f in extra:
            shutil.copy2(f, out / extra_folder / Path(f).name)


def unpack(out: Path, to: Path) -> None:
    """Rebuild ``to/ground_truth/DSxx-*/<name>.mat`` from a pack folder (its extra folders are copied to ``to/``)."""
    files: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    counts: dict[str, int] = {}
    with np.load(Path(out) / PACK) as z:
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
        target = Path(to) / "ground_truth" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(str(target), {"CAttached": cells})
    for folder in (p for p in Path(out).iterdir() if p.is_dir()):
        shutil.copytree(folder, Path(to) / folder.name, dirs_exist_ok=True)


def check(data: Path, to: Path) -> None:
    """Every rebuilt file loads to the same neuron as its original, array for array.

    Raises:
        InputError: naming the first file that does not.
    """
    logging.getLogger("ens2zoo.data").setLevel(logging.ERROR)
    for source in sorted(Path(data).glob("DS*/*.mat")):
        x, y = load_neuron(source), load_neuron(Path(to) / "ground_truth" / source.parent.name / source.name)
        same = len(x.recordings) == len(y.recordings) and all(
            np.array_equal(getattr(r, f), getattr(s, f))
            for r, s in zip(x.recordings, y.recordings, strict=True)
            for f in ("trace", "rate", "spikes", "event_times"))
        if not same:
            raise InputError(f"{source}: the rebuilt file does not load to the same neuron")
