"""CASCADE's own model folders (Rupprecht et al. 2021; CascadeTorch) as ens2zoo models.

A CASCADE model is a folder holding ``config.yaml`` (frame rate, noise levels, smoothing,
training datasets, network sizes) and ``Model_NoiseLevel_<k>_Ensemble_<j>.pth`` state dicts,
an ensemble per integer noise level k.  :func:`load_cascade_folder` turns it into a routed
family on the ``cascade`` architecture (:class:`~ens2zoo.architectures.cascade.CascadeNet`
with the folder's sizes), one member per noise level, each member a
:class:`~ens2zoo.architectures.cascade.CascadeEnsemble`.  It computes what CASCADE's
``cascade.predict`` computes (written from its documented behaviour; no CASCADE code):

* each neuron goes to the level nearest its ν (CASCADE's noise level, measured at the input's
  frame rate; ``noise_level=`` overrides it); ties go to the lower level, ν above the highest
  level to the highest (with a warning naming the rows), below the lowest to the lowest;
* frame t is predicted from frames t−31 … t+32 (``start = int(before_frac · window − 1)``);
* the ensemble's outputs are averaged and negative values set to 0 (``threshold=0``);
* the rate is in spikes per frame at the model's frame rate; input at any other rate is refused.

Differences, by design: where CASCADE returns NaN (the first ``int(before_frac · window)`` and
the last ``window − int(before_frac · window)`` frames, whose window leaves the trace) ens2zoo
evaluates the window zero-padded, so every frame has a rate; discrete spikes come from the
project's estimator (:mod:`ens2zoo.inference.spikes`) with the model's smoothing; neurons run
in chunks and the network over whole traces (:meth:`CascadeNet.forward_trace`), so memory stays
bounded (CASCADE materialises every frame's window: neurons × frames × 64 floats).

Weights are read with ``torch.load(weights_only=True)`` (``.pth``) or from ``.npz`` files of
the same tensors (``allow_pickle=False``); nothing is unpickled.  Keras ``.h5`` folders (the
TensorFlow CASCADE) are refused with the way out.  ``config.yaml`` is read with a safe YAML loader.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ens2zoo.architectures.cascade import CascadeEnsemble, CascadeNet
from ens2zoo.errors import InputError, WeightsError
from ens2zoo.inference.result import SpikeResult
from ens2zoo.model import Member, SpikeModel
from ens2zoo.utils.checks import check_rate
from ens2zoo.utils.files import sha256_file
from ens2zoo.zoo.entries import FamilyMember, ModelEntry, Preprocessing
from ens2zoo.zoo.weights import load_into, read_state_dict

CONFIG_FILE = "config.yaml"
#: ``Model_NoiseLevel_<k>_Ensemble_<j>.<suffix>``, as CASCADE names its networks.
WEIGHTS_PATTERN = re.compile(r"^Model_NoiseLevel_(\d+)_Ensemble_(\d+)\.(pth|npz|h5)$")
#: Weight formats read, in order of preference where a folder holds several.
WEIGHT_SUFFIXES = ("pth", "npz")
#: CascadeTorch's module names → :class:`CascadeNet`'s.
KEY_MAP = {"conv1": "features.0", "conv2": "features.2", "conv3": "features.5", "dense1": "dense.0",
           "dense2": "out"}
#: ``config.yaml`` keys a folder must have.
REQUIRED_KEYS = ("sampling_rate", "noise_levels", "smoothing", "windowsize", "before_frac", "filter_sizes",
                 "filter_numbers", "dense_expansion")
#: Neurons predicted at once: bounds the per-call copies (float64 traces, FFTs, spike estimation).
CHUNK_NEURONS = 64
#: Relative difference between the input's frame rate and the model's accepted as equal.
RATE_TOLERANCE = 1e-6


def is_cascade_folder(folder: str | os.PathLike) -> bool:
    """True if ``folder`` holds a ``config.yaml`` or CASCADE's ``Model_NoiseLevel_*`` files (either one:
    :func:`read_cascade_folder` then says what is missing)."""
    path = Path(folder)
    return path.is_dir() and ((path / CONFIG_FILE).is_file() or any(WEIGHTS_PATTERN.match(p.name)
                                                                    for p in path.iterdir()))


def read_config(path: Path) -> dict[str, Any]:
    """``config.yaml`` as a dict (safe YAML loader: plain data only)."""
    from ruamel.yaml import YAML, YAMLError

    if not path.is_file():
        raise InputError(f"{path.parent}: no {CONFIG_FILE}: a CASCADE model folder holds config.yaml and its "
                         "Model_NoiseLevel_*.pth files; pass the model's own folder")
    try:
        config = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not readable YAML ({' '.join(str(exc).split())[:200]}); restore the "
                         "model's config.yaml") from exc
    if not isinstance(config, dict):
        raise InputError(f"{path}: expected a mapping of settings, got {type(config).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in config]
    if missing:
        raise InputError(f"{path}: missing {', '.join(missing)}; a CASCADE config.yaml names them all "
                         "(restore the model's own config.yaml)")
    return config


@dataclass(frozen=True)
class CascadeFolder:
    """What a CASCADE model folder holds.

    Attributes:
        path: the folder.
        name: ``model_name`` from the config (else the folder's name).
        sampling_rate: Hz of the model's input and output.
        smoothing_s: σ (seconds) of the Gaussian its targets were smoothed with.
        causal_kernel: its targets were smoothed with a causal kernel.
        before: samples of a window before the predicted one (``int(before_frac · window − 1)``).
        hparams: :class:`CascadeNet` sizes (window, filter_sizes, filter_numbers, dense_expansion).
        noise_levels: the ensembles' integer noise levels, ascending (%·Hz^-1/2).
        files: per noise level, its ensemble's weight files (one format).
        training_datasets: ground-truth datasets it was trained on.
        sha256: hash of ``config.yaml`` and of every weight file read, by file name.
    """

    path: Path
    name: str
    sampling_rate: float
    smoothing_s: float
    causal_kernel: bool
    before: int
    hparams: Mapping[str, Any]
    noise_levels: tuple[int, ...]
    files: Mapping[int, tuple[Path, ...]]
    training_datasets: tuple[str, ...]
    sha256: Mapping[str, str]

    def description(self) -> dict[str, Any]:
        """JSON-ready record (travels into ``SpikeModel.entry.provenance`` and output metadata)."""
        return {"format": "cascade", "folder": str(self.path), "name": self.name,
                "sampling_rate": self.sampling_rate, "smoothing_s": self.smoothing_s,
                "causal_kernel": self.causal_kernel, "before": self.before, "hparams": dict(self.hparams),
                "noise_levels": list(self.noise_levels), "training_datasets": list(self.training_datasets),
                "sha256": dict(self.sha256)}

    @property
    def digest(self) -> str:
        """One sha256 for the folder: of the sorted ``name  hash`` lines of the files read."""
        lines = "".join(f"{name}  {sha}\n" for name, sha in sorted(self.sha256.items()))
        return hashlib.sha256(lines.encode()).hexdigest()


def _weight_files(folder: Path) -> dict[str, dict[int, list[Path]]]:
    """Weight files by suffix and noise level."""
    found: dict[str, dict[int, list[Path]]] = {}
    for p in sorted(folder.iterdir()):
        m = WEIGHTS_PATTERN.match(p.name)
        if m:
            found.setdefault(m.group(3), {}).setdefault(int(m.group(1)), []).append(p)
    return found


def read_cascade_folder(folder: str | os.PathLike) -> CascadeFolder:
    """Read and check a CASCADE model folder's ``config.yaml`` and list its weight files (hashing them)."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: pass a CASCADE model folder (config.yaml + Model_NoiseLevel_*)")
    config = read_config(path / CONFIG_FILE)
    by_suffix = _weight_files(path)
    suffix = next((s for s in WEIGHT_SUFFIXES if s in by_suffix), None)
    if suffix is None:
        if "h5" in by_suffix:
            raise InputError(f"{path}: holds Keras .h5 networks (TensorFlow CASCADE), which ens2zoo does not read; "
                             "use the PyTorch edition of this model (CascadeTorch distributes the same models as "
                             ".pth state dicts), or convert each network's weights to a .pth state dict")
        raise InputError(f"{path}: no Model_NoiseLevel_<k>_Ensemble_<j>.pth (or .npz) files: pass the model's "
                         "own folder")
    try:
        levels = tuple(sorted(int(k) for k in config["noise_levels"]))
        window = int(config["windowsize"])
        before = int(float(config["before_frac"]) * window - 1)
        hparams = {"window": window, "filter_sizes": tuple(int(k) for k in config["filter_sizes"]),
                   "filter_numbers": tuple(int(k) for k in config["filter_numbers"]),
                   "dense_expansion": int(config["dense_expansion"])}
        sampling_rate = check_rate(config["sampling_rate"], "the config's sampling_rate", flag="config.yaml")
        smoothing = float(config["smoothing"])
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path / CONFIG_FILE}: a setting has the wrong type ({exc}); restore the model's own "
                         "config.yaml") from exc
    if not levels or not 0 <= before < window:
        raise InputError(f"{path / CONFIG_FILE}: noise_levels {config['noise_levels']} and before_frac "
                         f"{config['before_frac']} must name at least one level and a position inside the window")
    files = by_suffix[suffix]
    lacking = [k for k in levels if k not in files]
    if lacking:
        raise InputError(f"{path}: config.yaml lists noise levels {list(levels)} but there are no .{suffix} "
                         f"networks for {lacking}; restore the missing Model_NoiseLevel_<k>_Ensemble_<j>.{suffix} "
                         "files")
    used = {k: tuple(files[k]) for k in levels}
    sha = {CONFIG_FILE: sha256_file(path / CONFIG_FILE)}
    sha.update({p.name: sha256_file(p) for k in levels for p in used[k]})
    return CascadeFolder(path=path, name=str(config.get("model_name") or path.name), sampling_rate=sampling_rate,
                         smoothing_s=smoothing, causal_kernel=bool(config.get("causal_kernel", 0)), before=before,
                         hparams=hparams, noise_levels=levels, files=used,
                         training_datasets=tuple(str(d) for d in config.get("training_datasets") or ()), sha256=sha)


def read_cascade_weights(path: Path) -> dict[str, torch.Tensor]:
    """One CASCADE network's tensors under :class:`CascadeNet`'s names (``.pth`` weights only, or ``.npz``)."""
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                state = {k: torch.from_numpy(np.array(data[k])) for k in data.files}
        except Exception as exc:  # zip, header or pickle errors: all mean a corrupt or foreign file
            raise WeightsError(f"{path}: cannot read weights ({type(exc).__name__}: {exc}); the file is corrupt — "
                               "re-download the model") from exc
    else:
        state = read_state_dict(path)
    renamed, unknown = {}, []
    for key, tensor in state.items():
        module, dot, param = key.partition(".")
        if module in KEY_MAP and dot and param in ("weight", "bias"):
            renamed[f"{KEY_MAP[module]}.{param}"] = tensor
        else:
            unknown.append(key)
    if unknown:
        raise WeightsError(f"{path}: unknown tensors {unknown[:5]}; a CASCADE network holds "
                           f"{', '.join(f'{m}.weight/bias' for m in KEY_MAP)} only — is this a CASCADE model?")
    return renamed


def noise_ranges(levels: tuple[int, ...]) -> list[tuple[float | None, float | None]]:
    """[low, high) ν ranges that send each ν to the nearest level, ties to the lower one (CASCADE's argmin)."""
    cuts = [float(np.nextafter((a + b) / 2, np.inf)) for a, b in itertools.pairwise(levels)]
    return list(zip([None, *cuts], [*cuts, None]))


class CascadeFolderModel(SpikeModel):
    """A :class:`SpikeModel` family from a CASCADE folder: refuses other frame rates, names neurons above
    the highest noise level, and predicts neurons in chunks of :data:`CHUNK_NEURONS` (bounded memory)."""

    folder: CascadeFolder

    def predict(self, traces: np.ndarray, frame_rate: float, **kwargs: Any) -> SpikeResult:
        """:meth:`SpikeModel.predict` at the model's own frame rate (spikes per frame at that rate).

        Raises :class:`InputError` for another frame rate.  Warns (naming the rows) about neurons
        whose ν is above the highest level; they are served by the highest level, as in CASCADE.
        """
        rate = check_rate(frame_rate)
        if abs(rate - self.folder.sampling_rate) > RATE_TOLERANCE * self.folder.sampling_rate:
            raise InputError(f"model {self.name!r} was trained at {self.folder.sampling_rate:g} Hz and takes only "
                             f"traces at {self.folder.sampling_rate:g} Hz, got {rate:g} Hz: resample the traces to "
                             f"{self.folder.sampling_rate:g} Hz, use the CASCADE model for your frame rate, or a zoo "
                             "model (ens2-exc takes any frame rate)")
        result = self._predict_chunks(traces, rate, kwargs)
        top = self.folder.noise_levels[-1]
        if kwargs.get("noise_level") is None:
            above = np.flatnonzero(result.noise_level > top + 0.5)
            if above.size:
                listed = ", ".join(f"{i} (ν {result.noise_level[i]:.1f})" for i in above[:20])
                more = f" and {above.size - 20} more" if above.size > 20 else ""
                warnings.warn(f"{above.size} neurons have a noise level above the highest of {self.name!r} "
                              f"({top}): rows {listed}{more}; they were served by level {top} (as CASCADE does) — "
                              "check the ΔF/F (a fraction, not %), or use a model trained at higher noise",
                              UserWarning, stacklevel=2)
        return result

    def _predict_chunks(self, traces: Any, frame_rate: float, kwargs: dict[str, Any]) -> SpikeResult:
        """``SpikeModel.predict`` on chunks of neurons, joined; bad shapes and NaNs are reported for the whole input."""
        try:
            data = np.asarray(traces)
        except ValueError:  # ragged: predict reports it
            data = None
        if data is None or data.ndim != 2 or data.shape[0] <= CHUNK_NEURONS or data.shape[1] == 0:
            return SpikeModel.predict(self, traces, frame_rate, **kwargs)
        chunks = range(0, data.shape[0], CHUNK_NEURONS)
        if kwargs.get("nan", "raise") == "raise" and not all(np.isfinite(data[i:i + CHUNK_NEURONS]).all()
                                                             for i in chunks):
            SpikeModel.predict(self, data, frame_rate, **kwargs)  # raises, naming the rows
        first = rate = spikes = None
        events, nan_filled, nus, members = [], 0, [], []
        for i in chunks:   # each chunk's arrays go straight into the joined ones (no second copy of the output)
            part = SpikeModel.predict(self, data[i:i + CHUNK_NEURONS], frame_rate, **kwargs)
            if first is None:
                first = part
                rate = np.empty((data.shape[0], part.rate.shape[1]), dtype=part.rate.dtype)
                spikes = None if part.spikes is None else np.empty(rate.shape, dtype=part.spikes.dtype)
            rate[i:i + part.n_neurons] = part.rate
            if spikes is not None:
                spikes[i:i + part.n_neurons] = part.spikes
            events += part.events
            nan_filled += part.nan_filled
            nus.append(part.noise_level)
            members.append(part.member)
        return replace(first, rate=rate, spikes=spikes, events=events, nan_filled=nan_filled,
                       noise_level=np.concatenate(nus), member=np.concatenate(members))


def load_cascade_folder(folder: str | os.PathLike, device: str | torch.device = "cpu") -> CascadeFolderModel:
    """A CASCADE model folder as a routed family on the ``cascade`` architecture (see the module's notes)."""
    info = read_cascade_folder(folder)
    members = []
    for level, (low, high) in zip(info.noise_levels, noise_ranges(info.noise_levels)):
        nets = []
        for path in info.files[level]:
            net = CascadeNet(**info.hparams)
            load_into(net, read_cascade_weights(path), source=str(path), architecture="cascade")
            nets.append(net.eval())
        record = FamilyMember(name=f"level-{level}", weights=info.files[level][0].name,
                              sha256=info.sha256[info.files[level][0].name], noise_range=(low, high),
                              trained_frame_rates=(info.sampling_rate, info.sampling_rate),
                              trained_noise_levels=(level, level))
        members.append(Member(record, CascadeEnsemble(nets, info.before)))
    pre = Preprocessing(sampling_rate=info.sampling_rate, window=info.hparams["window"],
                        smoothing_sigma_s=info.smoothing_s, flat_guard=False)
    entry = ModelEntry(name=info.name, architecture="cascade", hparams=info.hparams, preprocessing=pre,
                       training_data=info.training_datasets, provenance=info.description(),
                       description=f"CASCADE model folder {info.path}", members=tuple(m.record for m in members),
                       trained_frame_rates=(info.sampling_rate, info.sampling_rate),
                       trained_noise_levels=(float(info.noise_levels[0]), float(info.noise_levels[-1])),
                       source="cascade-folder", base_dir=str(info.path))
    model = CascadeFolderModel(members[0].net, architecture="cascade", hparams=info.hparams, preprocessing=pre,
                               name=info.name, sha256=info.digest, device=device, readout="whole-trace",
                               members=members, entry=entry)
    model.folder = info
    return model


def folder_metadata(model: SpikeModel) -> dict[str, str]:
    """``{"model_folder": JSON}`` describing a CASCADE folder model (name, rate, smoothing, training datasets,
    sha256 of every file), for output metadata; ``{}`` for other models."""
    entry = model.entry
    if entry is None or entry.provenance.get("format") != "cascade":
        return {}
    return {"model_folder": json.dumps(dict(entry.provenance), sort_keys=True)}
