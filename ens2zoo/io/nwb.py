"""NWB input and output (needs the optional ``pynwb``: ``pip install 'ens2zoo[nwb]'``).

Input: a ``RoiResponseSeries`` of ``processing/ophys`` (any processing module is
searched): one in a ``DfOverF`` container is used as ΔF/F; one in a
``Fluorescence`` container is raw fluorescence and goes through
:func:`ens2zoo.io.dff.dff`, with the series named ``Neuropil`` of the same
container as neuropil where there is one.  ``series`` picks one by name where
there are several.  The frame rate is the series' ``rate``, else 1/median
interval of its ``timestamps``.

Output (:func:`write_nwb`): a *new* file (the source is only read) holding the
session metadata (description, start time, experimenter, lab, institution,
subject), the imaging plane and the ROI table (``PlaneSegmentation`` with the
masks of the ROIs used), and a processing module ``spike_inference`` with

* ``InferredRate`` — ``Fluorescence`` container with the ``RoiResponseSeries``
  ``inferred_rate`` (spikes per input frame, unit ``spikes/frame``, on the source series'
  clock: its ``rate`` and ``starting_time``, or its ``timestamps``);
* ``InferredSpikes`` — ``Fluorescence`` container with the ``RoiResponseSeries``
  ``inferred_spike_counts`` (spike counts per input frame, totals preserved);
  both sum the model samples per frame as :meth:`SpikeResult.to_frame_rate` does;
* ``spike_times`` — a ``DynamicTable`` with one row per ROI (in the order of the
  new ROI table): ``roi_index`` (row in the source's ROI table) and ``spike_times``
  (ragged, seconds in session time: model sample j at ``t0 + j/sampling_rate``, ``t0``
  the series' starting time or first time stamp, :mod:`ens2zoo.inference.clock`);
* model metadata in the module's description and in ``scratch/ens2zoo``
  (JSON: model, sha256, stride, frame rate, ΔF/F recipe, ens2zoo version).

The new ``PlaneSegmentation`` has the ROIs used, in order, with their masks and a
``source_roi_index`` column.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo._version import __version__
from ens2zoo.errors import InputError
from ens2zoo.inference.result import SpikeResult
from ens2zoo.utils.atomic import atomic_path

log = logging.getLogger(__name__)


def _pynwb() -> Any:
    try:
        import pynwb
    except ImportError:
        raise InputError("reading or writing NWB needs pynwb: pip install 'ens2zoo[nwb]' (or pip install pynwb)") \
            from None
    return pynwb


@dataclass
class NwbSeries:
    """A series read from an NWB file.

    Attributes:
        data: (rois, frames) float64 (ΔF/F for ``kind == "dff"``, raw fluorescence for ``"fluorescence"``).
        neuropil: (rois, frames) for fluorescence with a ``Neuropil`` series, else None.
        kind: ``"dff"`` or ``"fluorescence"``.
        name: the series' name; container: its container's name.
        frame_rate: Hz (the series' ``rate``, else 1/median interval of its time stamps).
        start_time: seconds of the first frame (``starting_time``, else the first time stamp).
        roi_index: (rois,) rows of the ROI table the series' columns belong to.
        timestamps: (frames,) the series' time stamps, seconds, where it has them (else None).
    """

    path: Path
    data: np.ndarray
    neuropil: np.ndarray | None
    kind: str
    name: str
    container: str
    frame_rate: float
    start_time: float
    roi_index: np.ndarray
    timestamps: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _candidates(nwbfile: Any) -> list[tuple[str, Any, Any]]:
    """(kind, container, series) of every RoiResponseSeries in DfOverF/Fluorescence containers."""
    pynwb = _pynwb()
    found = []
    for module in nwbfile.processing.values():
        for container in module.data_interfaces.values():
            if isinstance(container, pynwb.ophys.DfOverF):
                kind = "dff"
            elif isinstance(container, pynwb.ophys.Fluorescence):
                kind = "fluorescence"
            else:
                continue
            for series in container.roi_response_series.values():
                found.append((kind, container, series))
    return found


def _label(kind: str, container: Any, series: Any) -> str:
    return f"{series.name} ({container.name})"


def _frame_rate(series: Any, path: Path) -> tuple[float, float, np.ndarray | None]:
    """(frame rate Hz, start time s, time stamps or None) of ``series``."""
    if series.rate is not None:
        return float(series.rate), float(series.starting_time or 0.0), None
    if series.timestamps is not None:
        ts = np.asarray(series.timestamps[:], dtype=np.float64)
        if ts.size > 1:
            step = float(np.median(np.diff(ts)))
            if step > 0:
                return 1.0 / step, float(ts[0]), ts
    raise InputError(f"{path}: series {series.name!r} has neither a rate nor increasing timestamps: "
                     "give the imaging rate with --frame-rate HZ")


def _is_neuropil(series: Any) -> bool:
    return series.name.lower() == "neuropil"


def read_nwb(path: str | os.PathLike, *, series: str | None = None) -> NwbSeries:
    """The ΔF/F or fluorescence ``RoiResponseSeries`` of an NWB file (see the module docstring)."""
    pynwb = _pynwb()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist: check the path")
    try:
        io = pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True)
        nwbfile = io.read()
    except InputError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot read {path} as NWB ({first}): is it a complete NWB 2 file?") from exc
    try:
        found = _candidates(nwbfile)
        if series is not None:
            chosen = [c for c in found if series in (c[2].name, f"{c[1].name}/{c[2].name}")]
            if not chosen:
                listing = ", ".join(_label(*c) for c in found) or "none"
                raise InputError(f"{path}: no RoiResponseSeries {series!r}; available: {listing} (use --series NAME)")
            if len(chosen) > 1:
                listing = ", ".join(f"{c[1].name}/{c[2].name}" for c in chosen)
                raise InputError(f"{path}: {series!r} names several series ({listing}): use --series CONTAINER/NAME")
        else:
            chosen = [c for c in found if c[0] == "dff"] or [c for c in found if not _is_neuropil(c[2])]
        if not chosen:
            raise InputError(f"{path} has no RoiResponseSeries under a DfOverF or Fluorescence container "
                             "(processing/ophys): export ΔF/F or fluorescence there, or save the traces as .npy")
        if len(chosen) > 1:
            listing = ", ".join(_label(*c) for c in chosen)
            raise InputError(f"{path} holds {len(chosen)} series ({listing}): choose one with --series NAME")
        kind, container, s = chosen[0]
        data = np.asarray(s.data[:], dtype=np.float64)
        data = data[:, None] if data.ndim == 1 else data
        data = data.T  # NWB stores frames × ROIs
        frame_rate, start, timestamps = _frame_rate(s, path)
        try:
            roi_index = np.asarray(s.rois.data[:], dtype=np.int64)
        except (AttributeError, TypeError):
            roi_index = np.arange(data.shape[0])
        neuropil = None
        if kind == "fluorescence":
            others = [x for x in container.roi_response_series.values() if _is_neuropil(x) and x is not s]
            if others:
                neuropil = np.asarray(others[0].data[:], dtype=np.float64)
                neuropil = (neuropil[:, None] if neuropil.ndim == 1 else neuropil).T
                if neuropil.shape != data.shape:
                    log.warning("%s: Neuropil series has shape %s, not %s: ignored", path, neuropil.shape, data.shape)
                    neuropil = None
        return NwbSeries(path=path, data=data, neuropil=neuropil, kind=kind, name=s.name, container=container.name,
                         frame_rate=frame_rate, start_time=start, roi_index=roi_index, timestamps=timestamps)
    finally:
        io.close()


def _strings(value: Any) -> Any:
    """A tuple of str from a (possibly file-backed) list of strings, or None."""
    if value is None:
        return None
    return tuple(v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value[:]).ravel())


def _copy_rois(src_table: Any, dst_table: Any, rows: np.ndarray) -> None:
    columns = set(src_table.colnames)
    for i in rows:
        kwargs = {}
        if "image_mask" in columns:
            kwargs["image_mask"] = np.asarray(src_table["image_mask"][int(i)])
        elif "pixel_mask" in columns:
            kwargs["pixel_mask"] = [tuple(p) for p in src_table["pixel_mask"][int(i)]]
        elif "voxel_mask" in columns:
            kwargs["voxel_mask"] = [tuple(p) for p in src_table["voxel_mask"][int(i)]]
        dst_table.add_roi(**kwargs)


def write_nwb(path: str | os.PathLike, result: SpikeResult, source: NwbSeries, *, rows: np.ndarray | None = None,
              metadata: dict[str, Any] | None = None) -> Path:
    """Write ``result`` as a new NWB file beside the session metadata and ROIs of ``source`` (atomically).

    Args:
        path: the ``.nwb`` file to write (never the source).
        result: the prediction for ``source``'s ROIs (or the subset ``rows`` of them); its times are
            put on the series' clock (:meth:`SpikeResult.with_start_time`).
        source: the series the prediction was made from (its file is re-read, not changed).
        rows: indices into ``source.roi_index`` of the ROIs in ``result`` (default: all).
        metadata: more recorded in the ``ens2zoo`` scratch JSON.
    """
    pynwb = _pynwb()
    from hdmf.common import DynamicTable

    path = Path(path)
    if path.resolve() == source.path.resolve():
        raise InputError(f"-o {path} is the input file: write the results to a new .nwb file")
    rows = np.arange(len(source.roi_index)) if rows is None else np.asarray(rows)
    roi_rows = source.roi_index[rows]
    result = result.with_start_time(source.start_time)
    rate, counts = result.to_frame_rate()
    with pynwb.NWBHDF5IO(str(source.path), "r", load_namespaces=True) as src_io:
        src = src_io.read()
        src_series = None
        for _, container, s in _candidates(src):
            if container.name == source.container and s.name == source.name:
                src_series = s
        src_table = src_series.rois.table if src_series is not None and src_series.rois is not None else None
        out = pynwb.NWBFile(
            session_description=src.session_description or "spike inference",
            identifier=str(uuid.uuid4()), session_start_time=src.session_start_time,
            experimenter=_strings(src.experimenter), lab=src.lab, institution=src.institution,
            session_id=src.session_id, experiment_description=src.experiment_description,
        )
        if src.subject is not None:
            sub = src.subject
            out.subject = pynwb.file.Subject(subject_id=sub.subject_id, species=sub.species, sex=sub.sex,
                                             age=sub.age, description=sub.description, genotype=sub.genotype)
        if src_table is not None:
            plane = src_table.imaging_plane
            device = out.create_device(name=plane.device.name, description=plane.device.description)
            channels = [pynwb.ophys.OpticalChannel(name=c.name, description=c.description,
                                                   emission_lambda=c.emission_lambda) for c in plane.optical_channel]
            new_plane = out.create_imaging_plane(
                name=plane.name, optical_channel=channels, description=plane.description, device=device,
                excitation_lambda=plane.excitation_lambda, indicator=plane.indicator, location=plane.location,
                imaging_rate=plane.imaging_rate)
        else:
            device = out.create_device(name="unknown", description="not recorded in the source")
            channel = pynwb.ophys.OpticalChannel(name="channel", description="unknown", emission_lambda=float("nan"))
            new_plane = out.create_imaging_plane(name="ImagingPlane", optical_channel=channel, description="unknown",
                                                 device=device, excitation_lambda=float("nan"), indicator="unknown",
                                                 location="unknown")
        ophys = out.create_processing_module(name="ophys", description="ROIs of the source file")
        seg = pynwb.ophys.ImageSegmentation()
        ophys.add(seg)
        table = seg.create_plane_segmentation(
            name=src_table.name if src_table is not None else "PlaneSegmentation",
            description=f"ROIs of {source.path.name} used for spike inference", imaging_plane=new_plane)
        if src_table is not None:
            _copy_rois(src_table, table, roi_rows)
        else:
            for _ in roi_rows:
                table.add_roi(image_mask=np.zeros((1, 1)))
        table.add_column("source_roi_index", "row of the ROI in the source file's ROI table",
                         data=[int(i) for i in roi_rows])
        n = len(roi_rows)
        region = table.create_roi_table_region(region=list(range(n)), description="ROIs inferred")
        info = {"model": result.model, "sha256": result.sha256 or "", "stride": int(result.stride),
                "indicator": result.indicator, "count_gain": float(result.count_gain),
                "noise_gain": [float(g) for g in result.noise_gain], "spike_estimator": result.spike_estimator,
                "frame_rate": float(result.frame_rate), "ens2zoo_version": __version__,
                "source": str(source.path), "series": f"{source.container}/{source.name}", **(metadata or {})}
        module = out.create_processing_module(
            name="spike_inference", description=f"spikes inferred by ens2zoo {__version__} with {result.model} "
                                                f"(stride {result.stride}) from {source.container}/{source.name}")
        kw = (dict(timestamps=source.timestamps) if source.timestamps is not None
              else dict(rate=float(result.frame_rate), starting_time=float(source.start_time)))
        rate_container = pynwb.ophys.Fluorescence(name="InferredRate")
        module.add(rate_container)  # in the file before its series link the ROI table (a common ancestor)
        rate_container.create_roi_response_series(
            name="inferred_rate", data=rate.T, rois=region, unit="spikes/frame",
            description="inferred spike rate, expected spikes per input frame", **kw)
        if counts is not None:
            count_container = pynwb.ophys.Fluorescence(name="InferredSpikes")
            module.add(count_container)
            count_container.create_roi_response_series(
                name="inferred_spike_counts", data=counts.T,
                rois=table.create_roi_table_region(region=list(range(n)), description="ROIs inferred"),
                unit="spikes", description="inferred spike counts per input frame", **kw)
        spikes = DynamicTable(name="spike_times", description="inferred spike times per ROI (s, session time)")
        spikes.add_column("roi_index", "row of the ROI in the source file's ROI table")
        spikes.add_column("spike_times", "inferred spike times, s (session time)", index=True)
        for r, events in zip(roi_rows, result.events or [np.zeros(0)] * n):
            spikes.add_row(roi_index=int(r), spike_times=np.asarray(events, dtype=np.float64).tolist())
        module.add(spikes)
        out.add_scratch(json.dumps(info, default=str), name="ens2zoo", description="ens2zoo model and settings (JSON)")
        with atomic_path(path) as tmp, pynwb.NWBHDF5IO(str(tmp), "w") as dst:
            dst.write(out)
    return path
