"""Building models: ``create`` (architecture + optional weights) and ``load`` (zoo name)."""

from __future__ import annotations

import os
from typing import Any

import torch

from ens2zoo.errors import WeightsError
from ens2zoo.model import SpikeModel
from ens2zoo.registry import Preprocessing, get_architecture, get_model_entry
from ens2zoo.weights import load_into, read_state_dict, sha256_file, verify_sha256


def create(arch: str, weights: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
           preprocessing: Preprocessing | None = None, **hparams: Any) -> SpikeModel:
    """Build architecture ``arch`` with ``hparams``; load ``weights`` if given.

    Args:
        arch: a name from :func:`ens2zoo.list_architectures`.
        weights: a ``.safetensors`` file or a torch state dict ``.pt`` (read with
            ``weights_only=True``; never unpickles code).  Published ENS² state dicts load as they are.
        device: ``"cpu"`` or ``"cuda"``.
        preprocessing: sampling rate / window / smoothing (default: the ENS² ones).
        **hparams: architecture keyword arguments (window, features, width, …).
    """
    spec = get_architecture(arch)
    preprocessing = preprocessing or Preprocessing()
    defaults = spec.defaults()
    if "window" in defaults:
        hparams.setdefault("window", preprocessing.window)
    hparams = {**defaults, **hparams}
    net = spec.builder(**hparams)
    sha = None
    if weights is not None:
        load_into(net, read_state_dict(weights), source=str(weights), architecture=arch)
        sha = sha256_file(weights)
    return SpikeModel(net, architecture=arch, hparams=hparams, preprocessing=preprocessing,
                      name=arch, sha256=sha, device=device)


def load(name: str, device: str | torch.device = "cpu") -> SpikeModel:
    """Load pretrained zoo model ``name`` (see :func:`ens2zoo.list_models`), checking its sha256."""
    entry = get_model_entry(name)
    path = entry.weights_path
    if entry.status != "available":
        raise WeightsError(f"zoo model {name!r} is registered but its weights are not available "
                           f"({entry.status}{': ' + str(path) if path else ''}); train them with "
                           f"`ens2zoo train` or use create(arch, weights=FILE)")
    if not entry.sha256:
        raise WeightsError(f"zoo model {name!r} has no sha256 in its manifest; refusing unverified weights")
    verify_sha256(path, entry.sha256)
    net = get_architecture(entry.architecture).builder(**entry.hparams)
    load_into(net, read_state_dict(path), source=str(path), architecture=entry.architecture)
    return SpikeModel(net, architecture=entry.architecture, hparams=entry.hparams,
                      preprocessing=entry.preprocessing, name=entry.name, sha256=entry.sha256, device=device)
