"""Reading pickled ``.npy`` files (suite2p's ``ops.npy``, ``settings.npy``, ``db.npy``) without running code.

suite2p saves its options as a dict with ``np.save``, which pickles it.  An
ordinary unpickler would call whatever the file names, so a tampered ``ops.npy``
could run any command.  Here the ``.npy`` header is parsed by hand and the
remaining bytes go to :class:`RestrictedUnpickler`, which admits only the
globals suite2p writes:

* numpy arrays, scalars and dtypes (``_reconstruct``, ``ndarray``, ``dtype``, ``scalar``,
  under both ``numpy.core`` (NumPy 1) and ``numpy._core`` (NumPy 2));
* ``datetime.datetime`` / ``date`` / ``time`` / ``timedelta`` / ``timezone`` (``date_proc``);
* plain containers (``collections.OrderedDict``, ``set``, ``frozenset``, ``slice``, ``complex``)
  and ``_codecs.encode`` (how bytes are pickled by protocol 2);
* ``pathlib`` paths (user-supplied ``db`` values), returned as *pure* paths.

Anything else is refused with :class:`~ens2zoo.errors.InputError` naming the file,
before it is called.  The list was checked against what ``np.save`` writes for
suite2p 1.1's ``default_settings()``, ``default_db()``, ``default_ops()`` and an
``ops`` dict of a run (``date_proc`` with a time zone, numpy scalars, arrays).
"""

from __future__ import annotations

import _codecs
import collections
import datetime
import io
import os
import pathlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError


def _numpy_core() -> Any:
    core = getattr(np, "_core", None)  # NumPy 2
    if core is None:  # pragma: no cover - NumPy 1
        import numpy.core as core
    return core


def _allowed() -> dict[tuple[str, str], Any]:
    multiarray = _numpy_core().multiarray
    table: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _codecs.encode,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "slice"): slice,
        ("builtins", "complex"): complex,
        ("builtins", "bytearray"): bytearray,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = multiarray._reconstruct
        table[(module, "scalar")] = multiarray.scalar
    for name in ("datetime", "date", "time", "timedelta", "timezone"):
        table[("datetime", name)] = getattr(datetime, name)
    for module in ("pathlib", "pathlib._local"):
        for name, cls in (("PosixPath", pathlib.PurePosixPath), ("PurePosixPath", pathlib.PurePosixPath),
                          ("WindowsPath", pathlib.PureWindowsPath), ("PureWindowsPath", pathlib.PureWindowsPath),
                          ("Path", pathlib.PurePath), ("PurePath", pathlib.PurePath)):
            table[(module, name)] = cls
    return table


ALLOWED_GLOBALS = _allowed()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`; any other global is an :class:`InputError`."""

    def __init__(self, file: Any, *, source: str | os.PathLike = "<pickle>") -> None:
        super().__init__(file, encoding="latin1")
        self.source = str(source)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise InputError(f"{self.source} refers to {module}.{name}, which a suite2p file never holds; "
                             "nothing in it was run: regenerate the file with suite2p, or give "
                             "--frame-rate and remove the file if you do not trust it") from None

    def persistent_load(self, pid: Any) -> Any:
        raise InputError(f"{self.source} uses pickle persistent ids, which a suite2p file never holds: "
                         "regenerate the file with suite2p")


def restricted_loads(data: bytes, *, source: str | os.PathLike = "<pickle>") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`."""
    return _unpickle(io.BytesIO(data), source)


def _unpickle(fh: Any, source: str | os.PathLike) -> Any:
    try:
        return RestrictedUnpickler(fh, source=source).load()
    except InputError:
        raise
    except Exception as exc:  # truncated or malformed streams
        raise InputError(f"cannot read {source} ({type(exc).__name__}: {exc}): is the file complete? "
                         "regenerate it with suite2p") from exc


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """The array in a ``.npy`` file; object arrays go through :class:`RestrictedUnpickler`.

    ``np.load`` is never called with ``allow_pickle=True``: the header is read with
    :func:`numpy.lib.format.read_magic` / ``read_array_header_*`` and, for an
    object array, the bytes after it are unpickled with the restricted unpickler.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist: check the path")
    fmt = np.lib.format
    with open(path, "rb") as fh:
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(fh)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(fh)  # 2.0 and 3.0 differ only in text encoding
        except (ValueError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"cannot read {path} as .npy ({first}): is the file complete and a NumPy file?") \
                from exc
        if not dtype.hasobject:
            fh.seek(0)
            try:
                return np.load(fh, allow_pickle=False)
            except (ValueError, OSError) as exc:
                raise InputError(f"cannot read {path} as .npy ({exc}): is the file complete?") from exc
        array = _unpickle(fh, path)
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path} holds a pickled {type(array).__name__}, not an array: regenerate it with suite2p")
    if array.shape != tuple(shape):
        raise InputError(f"{path}: header says shape {tuple(shape)} but it holds {array.shape}: "
                         "the file is corrupt, regenerate it")
    return array


def load_npy_dict(path: str | os.PathLike) -> dict:
    """The dict that ``np.save(path, some_dict)`` wrote (suite2p's ``ops.npy``/``settings.npy``/``db.npy``)."""
    array = load_npy(path)
    value = array.item() if array.dtype.hasobject and array.size == 1 else array
    if not isinstance(value, dict):
        raise InputError(f"{path} holds {type(value).__name__}, not suite2p's options dict: "
                         "point to a suite2p plane folder")
    return value
