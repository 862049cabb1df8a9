"""Building models: ``create`` (architecture + optional weights) and ``load`` (zoo name).

Both merge hyper-parameters the same way (:func:`resolve_hparams`): the
architecture's defaults, then the given ones; the window has one source — an
architecture built with ``window=W`` predicts with windows of ``W``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ens2zoo.architectures.ensemble import Ensemble, ensemble_size
from ens2zoo.errors import InputError, WeightsError
from ens2zoo.model import Member, SpikeModel
from ens2zoo.utils.files import sha256_file
from ens2zoo.workflows.cascade_folder import is_cascade_folder, load_cascade_folder
from ens2zoo.zoo.entries import Architecture, ModelEntry, Preprocessing
from ens2zoo.zoo.manifest import read_manifest
from ens2zoo.zoo.registry import get_architecture, get_model_entry
from ens2zoo.zoo.weights import load_into, read_state_dict, verify_sha256


def resolve_hparams(spec: Architecture, hparams: Mapping[str, Any],
                    preprocessing: Preprocessing | None = None) -> tuple[dict[str, Any], Preprocessing]:
    """Complete hyper-parameters and the matching preprocessing for ``spec``.

    Defaults come from the builder's signature, overridden by ``hparams``.  Where the
    architecture takes a ``window``, ``hparams["window"]`` and ``preprocessing.window``
    must agree; whichever is given sets the other (neither: the architecture's default).
    """
    defaults = spec.defaults()
    merged = {**defaults, **hparams}
    pre = preprocessing or Preprocessing()
    if "window" in defaults:
        if "window" in hparams and preprocessing is not None and int(hparams["window"]) != preprocessing.window:
            raise InputError(f"window={hparams['window']} disagrees with preprocessing.window="
                             f"{preprocessing.window}: give one of them")
        window = int(hparams["window"]) if "window" in hparams else (
            preprocessing.window if preprocessing is not None else int(defaults["window"]))
        merged["window"] = window
        pre = replace(pre, window=window)
    return merged, pre


def _build(spec: Architecture, hparams: Mapping[str, Any]) -> torch.nn.Module:
    try:
        return spec.builder(**hparams)
    except (TypeError, ValueError) as exc:
        raise InputError(f"architecture {spec.name!r} cannot be built with {dict(hparams)}: {exc}") from exc


def _loaded(spec: Architecture, hparams: Mapping[str, Any], path: str | os.PathLike) -> torch.nn.Module:
    """The network ``path``'s weights describe, loaded: one network of ``spec``, or an
    :class:`~ens2zoo.architectures.ensemble.Ensemble` of them when the file holds several (``nets.<k>.``)."""
    state = read_state_dict(path)
    size = ensemble_size(state)
    net = _build(spec, hparams) if size == 1 else Ensemble([_build(spec, hparams) for _ in range(size)])
    load_into(net, state, source=str(path), architecture=spec.name)
    return net


def create(arch: str, weights: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
           preprocessing: Preprocessing | None = None, **hparams: Any) -> SpikeModel:
    """Build architecture ``arch`` with ``hparams``; load ``weights`` if given.

    Args:
        arch: a name from :func:`ens2zoo.list_architectures`.
        weights: a ``.safetensors`` file or a torch state dict ``.pt`` (read with
            ``weights_only=True``; never unpickles code).  Published ENS² state dicts load as they are,
            and keep their exact published function.  A file holding an ensemble (``nets.<k>.`` keys,
            written by ``ens2zoo train`` with ``--ensemble N``) loads as the mean of its networks.
        device: ``"cpu"`` or ``"cuda"``.
        preprocessing: sampling rate / window / smoothing (default: the ENS² ones).
        **hparams: architecture keyword arguments (window, features, width, …).
    """
    spec = get_architecture(arch)
    hparams, preprocessing = resolve_hparams(spec, hparams, preprocessing)
    net = _build(spec, hparams) if weights is None else _loaded(spec, hparams, weights)
    sha = None if weights is None else sha256_file(weights)
    return SpikeModel(net, architecture=arch, hparams=hparams, preprocessing=preprocessing,
                      name=arch, sha256=sha, device=device, readout=spec.readout)


def _verified_net(entry: ModelEntry, spec: Architecture, hparams: Mapping[str, Any], file: str | None,
                  sha256: str | None) -> torch.nn.Module:
    path = entry.resolve(file)
    if path is None or not path.is_file():
        raise WeightsError(f"zoo model {entry.name!r} is registered but its weights are not available "
                           f"({entry.status}{': ' + str(path) if path else ''}); train them with "
                           f"`ens2zoo train` or use create(arch, weights=FILE)")
    if not sha256:
        raise WeightsError(f"zoo model {entry.name!r} has no sha256 in its manifest; refusing unverified weights")
    verify_sha256(path, sha256)
    return _loaded(spec, hparams, path)


def load(name: str, device: str | torch.device = "cpu") -> SpikeModel:
    """Load pretrained zoo model ``name`` (see :func:`ens2zoo.list_models`), checking every sha256.

    A family entry loads all its members; ``predict`` routes each neuron to the member
    serving its noise level.
    """
    return load_entry(get_model_entry(name), device)


def load_member(name: str, device: str | torch.device = "cpu") -> SpikeModel:
    """One network of the zoo by name, checking its sha256: a zoo model of one network, or a member
    of a zoo family (e.g. ``"ens2-exc-nm"`` of ``ens2-exc``) on its own, unrouted.  What fine-tuning
    starts from (:attr:`ens2zoo.training.TrainingConfig.init_weights`)."""
    from ens2zoo.zoo.registry import list_models

    for entry in map(get_model_entry, list_models()):
        member = next((m for m in entry.members if m.name == name), None)
        if member is not None:
            spec = get_architecture(entry.architecture)
            hparams, pre = resolve_hparams(spec, entry.hparams, entry.preprocessing)
            net = _verified_net(entry, spec, hparams, member.weights, member.sha256)
            return SpikeModel(net, architecture=entry.architecture, hparams=hparams, preprocessing=pre,
                              name=name, sha256=member.sha256, device=device, readout=spec.readout)
    model = load(name, device)
    if model.members:
        raise InputError(f"{name} is a family of {len(model.members)} networks: name one of its members "
                         f"({', '.join(m.name for m in model.entry.members)})")
    return model


def load_folder(folder: str | os.PathLike, device: str | torch.device = "cpu") -> SpikeModel:
    """Load the model a folder holds, checking every sha256.

    Either an ens2zoo folder, whose ``manifest.json`` describes one model (e.g. a family written by
    ``write_family``), or a CASCADE model folder (``config.yaml`` and ``Model_NoiseLevel_*`` networks,
    see :mod:`ens2zoo.workflows.cascade_folder`), which becomes a family routed by noise level.
    """
    if not (Path(folder) / "manifest.json").is_file() and is_cascade_folder(folder):
        return load_cascade_folder(folder, device)
    entries = read_manifest(Path(folder), source=str(folder))
    if len(entries) != 1:
        raise WeightsError(f"{folder}: expected a manifest.json describing one model, found {len(entries)}; "
                           "pass a weights file or a family folder")
    return load_entry(entries[0], device)


def load_entry(entry: ModelEntry, device: str | torch.device = "cpu") -> SpikeModel:
    """Build the model an entry describes, checking every sha256."""
    spec = get_architecture(entry.architecture)
    hparams, pre = resolve_hparams(spec, entry.hparams, entry.preprocessing)
    if entry.is_family:
        members = [Member(m, _verified_net(entry, spec, hparams, m.weights, m.sha256)) for m in entry.members]
        return SpikeModel(members[0].net, architecture=entry.architecture, hparams=hparams, preprocessing=pre,
                          name=entry.name, sha256=None, device=device, readout=spec.readout, members=members,
                          entry=entry)
    net = _verified_net(entry, spec, hparams, entry.weights, entry.sha256)
    return SpikeModel(net, architecture=entry.architecture, hparams=hparams, preprocessing=pre,
                      name=entry.name, sha256=entry.sha256, device=device, readout=spec.readout, entry=entry)


@dataclass(frozen=True)
class ModelSpec:
    """A model by zoo name, or by architecture + weights file (what a worker loads).

    Attributes:
        name: a zoo model name (``ens2-exc``); or None with ``weights``.
        arch: architecture of ``weights``.
        weights: weights file (absolute path, visible to the workers).
        hparams: the architecture's hyper-parameters, as ``(key, value)`` pairs.
        device: ``"cpu"`` or ``"cuda"``.
    """

    name: str | None = None
    arch: str | None = None
    weights: str | None = None
    hparams: tuple[tuple[str, Any], ...] = ()
    device: str = "cpu"

    @classmethod
    def of(cls, name: str | None = None, *, arch: str | None = None, weights: str | os.PathLike | None = None,
           hparams: Mapping[str, Any] | None = None, device: str = "cpu") -> ModelSpec:
        if (name is None) == (weights is None):
            raise InputError("name a model: a zoo name, or an architecture with a weights file (not both)")
        return cls(name=name, arch=arch or ("unet" if weights is not None else None),
                   weights=None if weights is None else os.path.abspath(weights),
                   hparams=tuple(sorted((hparams or {}).items())), device=device)

    def key(self) -> tuple:
        return (self.name, self.arch, self.weights, json.dumps(self.hparams, default=str), self.device)

    def load(self) -> SpikeModel:
        """The model: a folder (family or CASCADE) by :func:`load_folder`, a weights file by :func:`create`,
        a zoo name by :func:`load`."""
        if self.weights is not None and os.path.isdir(self.weights):
            return load_folder(self.weights, device=self.device)
        if self.weights is not None:
            return create(self.arch or "unet", weights=self.weights, device=self.device, **dict(self.hparams))
        return load(self.name, device=self.device)
