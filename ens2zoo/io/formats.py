"""Reading ΔF/F traces from common files and writing results without pickles.

Inputs: ``.npy``, ``.npz`` (key), ``.mat`` (key; MATLAB v5 via SciPy, v7.3 via
h5py), ``.h5``/``.hdf5`` (dataset path), ``.csv``/``.tsv`` (neurons in rows).
Outputs: ``.npz`` (default), ``.mat`` or ``.h5`` with arrays ``rate``,
``spikes`` (60 Hz), ``rate_input``/``spikes_input`` (per input frame:
:meth:`SpikeResult.to_frame_rate`, spike totals preserved), ``event_times``,
``event_offsets``, ``times`` (seconds, on the clock named by ``time_convention``:
:mod:`ens2zoo.inference.clock`, first frame at ``start_time``), ``noise_level`` (ν per
neuron), ``member``, ``noise_gain`` (the count calibration's ν factor per neuron; the rate was
scaled by ``count_gain × noise_gain``), and where given ``dff`` (the input, neurons × input frames),
``roi_index`` and ``true_event_times``/``true_event_offsets``, plus metadata;
every file is written atomically.  NWB output is :mod:`ens2zoo.io.nwb`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io

from ens2zoo._version import __version__
from ens2zoo.errors import InputError
from ens2zoo.inference.clock import TIME_CONVENTION
from ens2zoo.inference.result import SpikeResult
from ens2zoo.utils.atomic import atomic_path

INPUT_SUFFIXES = (".npy", ".npz", ".mat", ".h5", ".hdf5", ".csv", ".tsv", ".txt")
OUTPUT_SUFFIXES = (".npz", ".mat", ".h5", ".hdf5")


def _pick(path: Path, keys: list[str], key: str | None) -> str:
    if key is not None:
        if key not in keys:
            raise InputError(f"{path}: no variable {key!r}; available: {', '.join(keys) or 'none'} (use --key NAME)")
        return key
    if len(keys) == 1:
        return keys[0]
    raise InputError(f"{path} holds {len(keys)} arrays ({', '.join(keys) or 'none'}): choose one with --key NAME")


def _h5_datasets(group: h5py.Group) -> list[str]:
    names: list[str] = []
    group.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return [n for n in names if not n.startswith("#")]  # MATLAB v7.3 internals (#refs#)


def _read_h5(path: Path, key: str | None, *, matlab: bool) -> np.ndarray:
    with h5py.File(path, "r") as fh:
        name = _pick(path, _h5_datasets(fh), key)
        data = fh[name][()]
    # MATLAB stores column-major: transpose back to the orientation MATLAB shows
    return np.asarray(data).T if matlab else np.asarray(data)


def _read_mat(path: Path, key: str | None) -> np.ndarray:
    try:
        contents = scipy.io.loadmat(path)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        return _read_h5(path, key, matlab=True)
    keys = [k for k in contents if not k.startswith("__")]
    return np.asarray(contents[_pick(path, keys, key)])


def read_traces(path: str | os.PathLike, *, key: str | None = None, transpose: bool = False) -> np.ndarray:
    """ΔF/F traces (neurons × frames, or one trace) from a file.

    Args:
        path: input file; format from its extension.
        key: variable / array / dataset to read where the file holds several.
        transpose: the file stores frames × neurons; transpose it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise InputError(f"{path}: unsupported input format {suffix!r}; use one of {', '.join(INPUT_SUFFIXES)}")
    if not path.is_file():
        raise InputError(f"{path} does not exist: check the path")
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                data = archive[_pick(path, list(archive.files), key)]
        elif suffix == ".mat":
            data = _read_mat(path, key)
        elif suffix in (".h5", ".hdf5"):
            data = _read_h5(path, key, matlab=False)
        else:
            delimiter = "," if suffix == ".csv" else None
            data = np.loadtxt(path, delimiter=delimiter, ndmin=2)
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if suffix in (".npy", ".npz") and "pickle" in first.lower():  # numpy's hint to unpickle is wrong here
            first = "not a NumPy array file, or it holds pickled objects, which are never loaded"
        raise InputError(f"cannot read {path} as {suffix} ({first}): is the file complete and of that format?") from exc
    if data.dtype == object or not np.issubdtype(data.dtype, np.number):
        raise InputError(f"{path}: {key or 'the array'} holds {data.dtype} values, not numbers "
                         "(ragged cell arrays are not supported: save a numeric neurons × frames matrix)")
    data = np.squeeze(data) if data.ndim > 2 else data
    return data.T if transpose else data


def _flat_events(events: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(events) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(e) for e in events])
    flat = np.concatenate([np.asarray(e, dtype=np.float64) for e in events]) if len(events) else np.zeros(0)
    return flat.astype(np.float64), offsets


def _meta_value(value: Any) -> Any:
    """Metadata as a number or string (dicts and lists as JSON; None as '')."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, sort_keys=True)
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    return str(value)


def result_arrays(result: SpikeResult, metadata: Mapping[str, Any] | None = None, *, traces: Any = None,
                  roi_index: Any = None, true_events: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """The output file's arrays and metadata (no objects, nothing pickled).

    Args:
        result: the prediction.
        metadata: more scalar fields (dicts/lists are stored as JSON strings).
        traces: the ΔF/F given to ``predict`` (neurons × input frames), stored as ``dff``.
        roi_index: each row's index in the source's ROI list (suite2p, NWB), stored as ``roi_index``.
        true_events: known spike times (s) per neuron (simulations), stored as
            ``true_event_times``/``true_event_offsets``.
    """
    event_times, event_offsets = result.event_arrays()
    rate_input, spikes_input = result.to_frame_rate()
    arrays: dict[str, Any] = {
        "rate": result.rate,
        "spikes": result.spikes if result.spikes is not None else np.zeros((0, 0), dtype=np.int32),
        "event_times": event_times,
        "event_offsets": event_offsets,
        "times": result.times,
        "noise_level": np.asarray(result.noise_level, dtype=np.float64),
        "member": np.asarray(result.member, dtype=str),
        "noise_gain": np.asarray(result.noise_gain, dtype=np.float64),
        "rate_input": rate_input,
        "spikes_input": spikes_input if spikes_input is not None else np.zeros((0, 0), dtype=np.int32),
    }
    if traces is not None:
        dff = np.atleast_2d(np.asarray(traces, dtype=np.float64))
        if dff.shape != (result.n_neurons, result.n_input_frames):
            raise InputError(f"traces have shape {dff.shape}, the result {result.n_neurons} neurons × "
                             f"{result.n_input_frames} frames: pass the ΔF/F the result was predicted from")
        arrays["dff"] = dff
    if roi_index is not None:
        roi = np.asarray(roi_index, dtype=np.int64).ravel()
        if roi.shape != (result.n_neurons,):
            raise InputError(f"roi_index has {roi.size} entries for {result.n_neurons} neurons: give one per neuron")
        arrays["roi_index"] = roi
    if true_events is not None:
        arrays["true_event_times"], arrays["true_event_offsets"] = _flat_events(list(true_events))
    meta = {
        "model": result.model, "sha256": result.sha256 or "", "ens2zoo_version": __version__,
        "frame_rate": float(result.frame_rate), "sampling_rate": float(result.sampling_rate),
        "stride": int(result.stride), "nan_filled": int(result.nan_filled),
        "n_input_frames": int(result.n_input_frames), "start_time": float(result.start_time),
        "time_convention": TIME_CONVENTION, "indicator": result.indicator, "count_gain": float(result.count_gain),
        "spike_estimator": result.spike_estimator,
    }
    meta.update({k: _meta_value(v) for k, v in (metadata or {}).items()})
    return {**arrays, **meta}


def write_results(path: str | os.PathLike, result: SpikeResult, metadata: Mapping[str, Any] | None = None, *,
                  traces: Any = None, roi_index: Any = None,
                  true_events: Sequence[np.ndarray] | None = None) -> Path:
    """Write ``result`` atomically to ``.npz``, ``.mat`` or ``.h5`` (by extension); see :func:`result_arrays`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nwb":
        raise InputError(f"{path}: NWB output needs an NWB input (its session and ROI table); "
                         "write .npz, .mat or .h5 for this input")
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"{path}: unsupported output format {suffix!r}; use one of {', '.join(OUTPUT_SUFFIXES)}")
    fields = result_arrays(result, metadata, traces=traces, roi_index=roi_index, true_events=true_events)
    with atomic_path(path) as tmp:
        if suffix == ".npz":
            np.savez_compressed(tmp, **{k: np.asarray(v) for k, v in fields.items()})
        elif suffix == ".mat":
            scipy.io.savemat(tmp, fields, do_compression=True)
        else:
            with h5py.File(tmp, "w") as fh:
                for k, v in fields.items():
                    if isinstance(v, np.ndarray) and v.dtype.kind == "U":  # HDF5 has no fixed-width unicode
                        fh.create_dataset(k, data=v.astype(object), dtype=h5py.string_dtype())
                    elif isinstance(v, np.ndarray):
                        fh.create_dataset(k, data=v, compression="gzip")
                    else:
                        fh.attrs[k] = v
    return path
