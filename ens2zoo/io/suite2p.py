"""suite2p output: plane folders (``F.npy``, ``Fneu.npy``, ``iscell.npy``, ``ops.npy``) and roots of planes.

The frame rate is ``fs`` from ``settings.npy`` (suite2p ≥ 1.0), ``ops.npy`` or
``db.npy`` — read with :mod:`ens2zoo.io.safe_pickle`, never with
``allow_pickle=True`` — or given by the caller; there is no default rate.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError
from ens2zoo.io.safe_pickle import load_npy, load_npy_dict

log = logging.getLogger(__name__)

#: files holding suite2p's options, in the order their ``fs`` is looked up
OPTION_FILES = ("settings.npy", "ops.npy", "db.npy")


@dataclass
class Suite2pPlane:
    """The fluorescence of one suite2p plane, with the ROIs selected.

    Attributes:
        folder: the plane folder.
        F, Fneu: (n_selected, frames) raw and neuropil fluorescence (Fneu None if absent).
        roi_index: (n_selected,) each row's index in suite2p's ROI list (``stat.npy`` order).
        frame_rate: Hz.
        session: name of the recording (the folder above ``suite2p/``, else above the plane).
        plane: the plane folder's name (``plane0``…).
        n_rois: ROIs in the plane before selection.
        frame_rate_source: where the frame rate came from.
    """

    folder: Path
    F: np.ndarray
    Fneu: np.ndarray | None
    roi_index: np.ndarray
    frame_rate: float
    session: str
    plane: str
    n_rois: int
    frame_rate_source: str
    extra: dict[str, Any] = field(default_factory=dict)


def is_plane_folder(path: str | os.PathLike) -> bool:
    """A folder holding suite2p's ``F.npy``."""
    return (Path(path) / "F.npy").is_file()


def _plane_number(path: Path) -> tuple[int, str]:
    m = re.fullmatch(r"plane(\d+)", path.name)
    return (int(m.group(1)) if m else 1 << 30, path.name)


def find_planes(path: str | os.PathLike) -> list[Path]:
    """The plane folders of ``path``: itself if it is one, else its ``plane*`` (or ``suite2p/plane*``) folders."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: give a suite2p plane folder or the suite2p folder above it")
    if is_plane_folder(path):
        return [path]
    for root in (path, path / "suite2p"):
        planes = sorted((p for p in root.glob("plane*") if p.is_dir() and is_plane_folder(p)), key=_plane_number)
        if planes:
            return planes
    raise InputError(f"{path} holds no suite2p output (no F.npy, and no plane*/F.npy): give a plane folder such as "
                     "suite2p/plane0 or the suite2p folder")


def session_name(plane: Path) -> str:
    """The recording's name: the folder holding ``suite2p/``, else the folder holding the plane."""
    parent = plane.resolve().parent
    if parent.name == "suite2p" and parent.parent.name:
        return parent.parent.name
    return parent.name or "session"


def frame_rate_of(plane: str | os.PathLike) -> tuple[float | None, str]:
    """``fs`` from the plane's option files (and those of the folder above it): (Hz or None, file it came from)."""
    plane = Path(plane)
    for folder in (plane, plane.parent):
        for name in OPTION_FILES:
            path = folder / name
            if not path.is_file():
                continue
            options = load_npy_dict(path)
            fs = options.get("fs")
            try:
                fs = float(fs)
            except (TypeError, ValueError):
                continue
            if math.isfinite(fs) and fs > 0:
                return fs, str(path)
    return None, ""


def _selection(iscell: np.ndarray | None, n: int, *, all_rois: bool, min_cell_prob: float | None,
               folder: Path) -> np.ndarray:
    if all_rois:
        return np.arange(n)
    if iscell is None:
        raise InputError(f"{folder} has no iscell.npy, so cells cannot be told from other ROIs: "
                         "pass --all-rois to use every ROI")
    iscell = np.asarray(iscell, dtype=np.float64)
    if iscell.ndim == 1:
        iscell = iscell[:, None]
    if iscell.shape[0] != n:
        raise InputError(f"{folder}: iscell.npy has {iscell.shape[0]} rows but F.npy {n} ROIs: "
                         "the folder mixes runs; re-run suite2p or pass --all-rois")
    if min_cell_prob is not None:
        if not 0 <= min_cell_prob <= 1:
            raise InputError(f"--min-cell-prob {min_cell_prob!r} must be a probability within 0–1, e.g. 0.5")
        if iscell.shape[1] < 2:
            raise InputError(f"{folder}: iscell.npy has no probability column: leave out --min-cell-prob")
        return np.flatnonzero(iscell[:, 1] >= min_cell_prob)
    return np.flatnonzero(iscell[:, 0] == 1)


def read_plane(folder: str | os.PathLike, *, frame_rate: float | None = None, all_rois: bool = False,
               min_cell_prob: float | None = None) -> Suite2pPlane:
    """Read one suite2p plane folder and select its ROIs (cells by default).

    Args:
        folder: the plane folder (``…/suite2p/plane0``).
        frame_rate: Hz; overrides ``fs`` from the option files (a mismatch is warned about).
            Needed when no option file gives ``fs``.
        all_rois: keep every ROI, not only ``iscell[:, 0] == 1``.
        min_cell_prob: keep ROIs whose classifier probability ``iscell[:, 1]`` is at least this.
    """
    folder = Path(folder)
    F = load_npy(folder / "F.npy")
    if F.ndim != 2 or F.size == 0 or not np.issubdtype(F.dtype, np.number):
        raise InputError(f"{folder / 'F.npy'} holds {F.dtype} of shape {F.shape}, not ROIs × frames: "
                         "point to a suite2p plane folder")
    Fneu = load_npy(folder / "Fneu.npy") if (folder / "Fneu.npy").is_file() else None
    if Fneu is not None and Fneu.shape != F.shape:
        raise InputError(f"{folder}: Fneu.npy has shape {Fneu.shape} but F.npy {F.shape}: the folder mixes runs; "
                         "re-run suite2p")
    iscell = load_npy(folder / "iscell.npy") if (folder / "iscell.npy").is_file() else None
    fs, source = frame_rate_of(folder)
    if frame_rate is not None:
        if fs is not None and abs(fs - float(frame_rate)) > 1e-3 * fs:
            warnings.warn(f"--frame-rate {float(frame_rate):g} Hz overrides fs = {fs:g} Hz of {source}: "
                          "leave out --frame-rate to use suite2p's", UserWarning, stacklevel=2)
        fs, source = float(frame_rate), "given"
    if fs is None:
        raise InputError(f"{folder}: no frame rate found (no 'fs' in {', '.join(OPTION_FILES)}): "
                         "give the imaging rate with --frame-rate HZ")
    selected = _selection(iscell, F.shape[0], all_rois=all_rois, min_cell_prob=min_cell_prob, folder=folder)
    if not selected.size:
        raise InputError(f"{folder}: none of its {F.shape[0]} ROIs is classified as a cell: pass --all-rois, or "
                         "a lower --min-cell-prob")
    log.info("%s: %d of %d ROIs selected, %d frames at %g Hz (%s)", folder, selected.size, F.shape[0],
             F.shape[1], fs, source)
    return Suite2pPlane(folder=folder, F=np.asarray(F[selected], dtype=np.float64),
                        Fneu=None if Fneu is None else np.asarray(Fneu[selected], dtype=np.float64),
                        roi_index=selected.astype(np.int64), frame_rate=float(fs), session=session_name(folder),
                        plane=folder.resolve().name, n_rois=int(F.shape[0]), frame_rate_source=source)
