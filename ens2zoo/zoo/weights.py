"""Reading and writing network weights safely.

Weights are stored as safetensors (no pickle, no code execution on load).  Torch
``.pt`` state dicts are accepted too, but only through ``torch.load(...,
weights_only=True)``, which refuses anything but tensors and plain containers.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ens2zoo.errors import WeightsError
from ens2zoo.utils.atomic import atomic_path
from ens2zoo.utils.files import sha256_file

SAFETENSORS_SUFFIXES = (".safetensors",)
TORCH_SUFFIXES = (".pt", ".pth")


def verify_sha256(path: str | os.PathLike, expected: str) -> None:
    """Raise :class:`WeightsError` unless ``path`` hashes to ``expected``."""
    actual = sha256_file(path)
    if actual != expected:
        raise WeightsError(
            f"{path}: sha256 {actual} does not match the registered {expected}; the file is "
            "corrupt or was replaced. Restore it (git checkout zoo_weights/) or re-download it.")


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a torch state dict (``.pt``/``.pth``, weights only)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist: check the path")
    suffix = path.suffix.lower()
    try:
        if suffix in SAFETENSORS_SUFFIXES:
            return load_file(str(path))
        if suffix in TORCH_SUFFIXES:
            state = torch.load(path, map_location="cpu", weights_only=True)
        else:
            raise WeightsError(f"{path}: unknown weights format {suffix!r}; use .safetensors or a .pt state dict")
    except pickle.UnpicklingError as exc:  # torch weights_only refuses anything but tensors/containers
        raise WeightsError(f"{path}: refused: not a plain state dict of tensors (torch.load weights_only "
                           "found pickled objects, or the file is corrupt); save weights with "
                           "torch.save(model.state_dict(), ...) or as .safetensors") from exc
    except WeightsError:
        raise
    except Exception as exc:  # corrupt files make torch's unpickler raise Index/Key/... errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: cannot read weights ({first}); the file is corrupt or not a "
                           "weights file — re-create or re-download it") from exc
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors (torch.save(model.state_dict(), ...)), "
                           f"got {type(state).__name__}")
    return dict(state)


def write_safetensors(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike,
                      metadata: Mapping[str, object] | None = None) -> str:
    """Write tensors atomically as safetensors; return the file's sha256.

    ``metadata`` values are stored JSON-encoded under the safetensors header.
    """
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return sha256_file(path)


def load_into(net: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *, source: str, architecture: str) -> None:
    """``net.load_state_dict(strict=True)`` with an error that names the mismatch and the fix."""
    try:
        net.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        if len(detail) > 400:
            detail = detail[:400] + "…"
        raise WeightsError(
            f"{source}: weights do not fit architecture {architecture!r} ({detail}); pass the "
            "architecture and hyper-parameters the weights were trained with") from exc
