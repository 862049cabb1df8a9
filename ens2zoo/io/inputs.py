"""From what users have (array files, suite2p folders, NWB files) to ΔF/F ready for ``predict``.

Output names (``--output-dir`` or beside the input):

==========================  =============================  ======================================
input                       default (beside the input)     with ``--output-dir OUT``
==========================  =============================  ======================================
array file ``rec.npy``      ``rec.ens2zoo.npz``            ``OUT/rec.ens2zoo.npz``
suite2p plane folder ``P``  ``P/ens2zoo.npz``              ``OUT/<session>_<plane>.ens2zoo.npz``
suite2p root (planes)       ``<plane>/ens2zoo.npz`` each   ``OUT/<session>_<plane>.ens2zoo.npz`` each
NWB ``s.nwb``, series ``S`` ``s_S.ens2zoo.npz``            ``OUT/s_S.ens2zoo.npz``
==========================  =============================  ======================================

``<session>`` is the folder holding ``suite2p/`` (else the folder holding the
plane), ``<plane>`` the plane folder's name.  ``-o FILE`` names the output of a
single input; two inputs of one call never share an output (checked).  With
``--format mat|h5`` the names end in ``.mat``/``.h5`` instead of ``.npz``.

The names are decided in one place, :func:`plan_input`, for one input and for many
(:func:`expand_inputs`): each argument is a path or a glob; each is planned into one
unit per output (an array file, one suite2p plane, an NWB file) without reading its
traces (an NWB file without ``--series`` is opened to learn its series' name), so that
the outputs are known before any work starts; :func:`prepare_inputs` then reads a unit.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError
from ens2zoo.io.dff import DFF_DEFAULTS
from ens2zoo.io.dff import dff as compute_dff
from ens2zoo.io.formats import read_traces
from ens2zoo.utils.checks import check_rate

INPUT_KINDS = ("dff", "raw")
RESULT_SUFFIX = ".ens2zoo.npz"
#: ``--format`` choices → result file suffix
RESULT_FORMATS = {"npz": ".npz", "mat": ".mat", "h5": ".h5"}


@dataclass
class PreparedInput:
    """ΔF/F ready for ``predict``, with where it came from.

    Attributes:
        dff: (neurons, frames) ΔF/F.
        frame_rate: Hz.
        label: what to call it in messages (``session/plane0``, a file name…).
        roi_index: each row's index in the source's ROI list (None for plain ΔF/F arrays).
        metadata: recorded in the result (input, input kind, ΔF/F recipe, session, plane…).
        nwb: the NWB series read (for NWB output), else None.
        rows: for NWB input, the indices into ``nwb.roi_index`` of the rows kept.
        start_time: seconds of the first frame (an NWB series' start; 0 otherwise).
    """

    dff: np.ndarray
    frame_rate: float
    label: str
    roi_index: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    nwb: Any = None
    rows: np.ndarray | None = None
    start_time: float = 0.0


def _dff_options(kw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(kw) - set(DFF_DEFAULTS))
    if unknown:
        raise InputError(f"unknown ΔF/F options {unknown}: give {', '.join(DFF_DEFAULTS)}")
    return {name: default if kw.get(name) is None else kw[name] for name, default in DFF_DEFAULTS.items()}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "input"


def input_type(path: str | os.PathLike) -> str:
    """``"suite2p"`` (a folder), ``"nwb"`` or ``"array"``."""
    path = Path(path)
    if path.is_dir():
        return "suite2p"
    if path.suffix.lower() == ".nwb":
        return "nwb"
    return "array"


def prepare_inputs(path: str | os.PathLike, *, frame_rate: float | None = None, key: str | None = None,
                   transpose: bool = False, input_kind: str = "dff", neuropil_key: str | None = None,
                   all_rois: bool = False, min_cell_prob: float | None = None, series: str | None = None,
                   **dff_kw: Any) -> list[PreparedInput]:
    """Read ``path`` (array file, suite2p plane folder or root, NWB file) into ΔF/F inputs (one per plane).

    Args:
        frame_rate: Hz; required for array files, overrides the files' own for suite2p and NWB.
        key, transpose: for array files (see :func:`ens2zoo.io.formats.read_traces`).
        input_kind: ``"dff"`` (array files hold ΔF/F) or ``"raw"`` (raw fluorescence: ΔF/F computed
            with :func:`ens2zoo.io.dff.dff`).  suite2p input is always raw.
        neuropil_key: for raw array files, the array holding the neuropil (same file).
        all_rois, min_cell_prob: suite2p ROI selection (default: cells, ``iscell[:, 0] == 1``).
        series: NWB series name where the file holds several.
        dff_kw: ``neuropil``, ``baseline_window_s``, ``baseline_percentile``, ``baseline_smoothing_s`` for
            :func:`~ens2zoo.io.dff.dff` (None or absent: :data:`~ens2zoo.io.dff.DFF_DEFAULTS`).
    """
    if input_kind not in INPUT_KINDS:
        raise InputError(f"input kind {input_kind!r} is not one of {', '.join(INPUT_KINDS)}: use --input-kind dff "
                         "for ΔF/F or raw for raw fluorescence")
    path = Path(path)
    kind = input_type(path)
    if frame_rate is not None:
        frame_rate = check_rate(frame_rate)
    if kind == "suite2p":
        return _suite2p_inputs(path, frame_rate, all_rois, min_cell_prob, _dff_options(dff_kw))
    if kind == "nwb":
        return [_nwb_input(path, frame_rate, series, _dff_options(dff_kw))]
    if all_rois or min_cell_prob is not None:
        raise InputError("--all-rois and --min-cell-prob select suite2p ROIs: give a suite2p folder, or leave them out")
    if series is not None:
        raise InputError("--series picks an NWB series: give a .nwb file, or leave it out")
    if frame_rate is None:
        raise InputError("--frame-rate HZ is required: give the imaging rate of the traces in Hz")
    traces = read_traces(path, key=key, transpose=transpose)
    meta: dict[str, Any] = {"input": str(path), "input_kind": input_kind}
    roi_index = None
    if input_kind == "raw":
        neu = read_traces(path, key=neuropil_key, transpose=transpose) if neuropil_key else None
        result = compute_dff(traces, neu, frame_rate=frame_rate, **_dff_options(dff_kw))
        traces, roi_index = result.dff, result.kept
        meta["dff_recipe"] = result.recipe
    elif neuropil_key:
        raise InputError("--neuropil-key needs --input-kind raw (ΔF/F input has no neuropil to subtract)")
    return [PreparedInput(dff=np.asarray(traces), frame_rate=frame_rate, label=path.name, roi_index=roi_index,
                          metadata=meta)]


def _suite2p_inputs(path: Path, frame_rate: float | None, all_rois: bool, min_cell_prob: float | None,
                    options: dict[str, Any]) -> list[PreparedInput]:
    from ens2zoo.io.suite2p import find_planes, read_plane

    out = []
    for folder in find_planes(path):
        plane = read_plane(folder, frame_rate=frame_rate, all_rois=all_rois, min_cell_prob=min_cell_prob)
        result = compute_dff(plane.F, plane.Fneu, frame_rate=plane.frame_rate, **options)
        meta = {"input": str(folder), "input_kind": "suite2p", "session": plane.session, "plane": plane.plane,
                "frame_rate_source": plane.frame_rate_source, "dff_recipe": result.recipe,
                "roi_selection": "all" if all_rois else
                (f"iscell[:, 1] >= {min_cell_prob:g}" if min_cell_prob is not None else "iscell[:, 0] == 1"),
                "n_rois": plane.n_rois}
        out.append(PreparedInput(dff=result.dff, frame_rate=plane.frame_rate, label=f"{plane.session}/{plane.plane}",
                                 roi_index=plane.roi_index[result.kept], metadata=meta))
    return out


def _nwb_input(path: Path, frame_rate: float | None, series: str | None,
               options: dict[str, Any]) -> PreparedInput:
    import warnings

    from ens2zoo.io.nwb import read_nwb

    s = read_nwb(path, series=series)
    fs = s.frame_rate
    if frame_rate is not None:
        if abs(frame_rate - fs) > 1e-3 * fs:
            warnings.warn(f"--frame-rate {frame_rate:g} Hz overrides the series' {fs:g} Hz: leave out --frame-rate "
                          "to use the file's", UserWarning, stacklevel=3)
        fs = frame_rate
    meta: dict[str, Any] = {"input": str(path), "input_kind": f"nwb:{s.kind}", "series": f"{s.container}/{s.name}"}
    rows = np.arange(s.data.shape[0])
    data = s.data
    if s.kind == "fluorescence":
        result = compute_dff(s.data, s.neuropil, frame_rate=fs, **options)
        data, rows = result.dff, result.kept
        meta["dff_recipe"] = result.recipe
        meta["neuropil_series"] = "Neuropil" if s.neuropil is not None else ""
    return PreparedInput(dff=data, frame_rate=fs, label=f"{path.name}:{s.name}", roi_index=s.roi_index[rows],
                         metadata=meta, nwb=s, rows=rows, start_time=s.start_time)


def with_format(path: str | os.PathLike, fmt: str | None) -> Path:
    """``path`` with its suffix replaced by ``fmt``'s (``npz``, ``mat``, ``h5``; None keeps it)."""
    path = Path(path)
    if fmt is None:
        return path
    if fmt not in RESULT_FORMATS:
        raise InputError(f"--format {fmt!r} is not one of {', '.join(RESULT_FORMATS)}: choose one of them")
    return path.with_suffix(RESULT_FORMATS[fmt])


@dataclass(frozen=True)
class PlannedInput:
    """One unit of a many-input run: what to read and where its result goes.

    Attributes:
        source: what :func:`prepare_inputs` reads: an array file, one suite2p plane folder, or an NWB file.
        label: its name in messages (the path as given; a plane of a suite2p root: the plane folder).
        output: the result file.
    """

    source: Path
    label: str
    output: Path


_GLOB_CHARS = frozenset("*?[")


def expand_inputs(patterns: Sequence[str | os.PathLike]) -> list[tuple[str, list[Path]]]:
    """Each argument with the paths it names: itself if it exists, else its glob matches (sorted).

    A pattern matching nothing, or a missing path, comes back with an empty list (the caller
    reports it as a failed input).  Glob matches that are results (``*.ens2zoo.npz|mat|h5``)
    are left out, so that ``'data/*.npz'`` does not pick up the results written beside them.
    A path named twice is kept once (at its first place).
    """
    out: list[tuple[str, list[Path]]] = []
    seen: set[Path] = set()
    for pattern in patterns:
        text = os.fspath(pattern)
        if Path(text).exists() or not (_GLOB_CHARS & set(text)):
            matches = [Path(text)] if Path(text).exists() else []
        else:
            matches = [Path(m) for m in sorted(glob.glob(os.path.expanduser(text), recursive=True))
                       if not is_result_file(m)]
        fresh = []
        for m in matches:
            key = m.resolve()
            if key not in seen:
                seen.add(key)
                fresh.append(m)
        if matches and not fresh:
            continue  # every match was already named by an earlier argument
        out.append((text, fresh))
    return out


def is_result_file(path: str | os.PathLike) -> bool:
    """A result file by its name (``*.ens2zoo.npz``, ``.mat``, ``.h5``)."""
    name = Path(path).name.lower()
    return any(name.endswith(".ens2zoo" + suffix) for suffix in RESULT_FORMATS.values())


def is_pattern(text: str) -> bool:
    """Whether a command-line input is a glob pattern rather than an existing path."""
    return bool(_GLOB_CHARS & set(text)) and not Path(text).exists()


def plan_input(path: str | os.PathLike, *, output_dir: str | os.PathLike | None = None, fmt: str | None = None,
               series: str | None = None) -> list[PlannedInput]:
    """The units of one input path and their outputs, reading no traces (the one place names are decided).

    Raises :class:`~ens2zoo.errors.InputError` for an input that cannot be planned (missing, a
    folder without suite2p planes, an NWB file whose series cannot be chosen).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist: check the path")
    kind = input_type(path)
    if kind == "suite2p":
        from ens2zoo.io.suite2p import find_planes, session_name

        units = []
        for folder in find_planes(path):
            stem = _safe(f"{session_name(folder)}_{folder.resolve().name}")
            default = folder / "ens2zoo.npz"
            out = Path(output_dir) / (stem + RESULT_SUFFIX) if output_dir is not None else default
            units.append(PlannedInput(source=folder, label=str(folder), output=with_format(out, fmt)))
        return units
    if kind == "nwb":
        if series is not None:
            name = series.rsplit("/", 1)[-1]
        else:  # the series' name is in the output's name: open the file to learn it
            from ens2zoo.io.nwb import read_nwb

            name = read_nwb(path).name
        stem = _safe(f"{path.stem}_{name}")
        default = path.with_name(stem + RESULT_SUFFIX)
    else:
        stem, default = _safe(path.stem), path.with_name(path.stem + RESULT_SUFFIX)
    out = Path(output_dir) / (stem + RESULT_SUFFIX) if output_dir is not None else default
    return [PlannedInput(source=path, label=str(path), output=with_format(out, fmt))]


def check_distinct_outputs(units: Sequence[PlannedInput]) -> None:
    """Refuse two units that would write the same file (naming both)."""
    first: dict[Path, PlannedInput] = {}
    for unit in units:
        key = unit.output.resolve()
        if key in first:
            raise InputError(f"{first[key].label} and {unit.label} would both write {unit.output}: rename one of "
                             "them, or run them with different --output-dir folders")
        first[key] = unit
