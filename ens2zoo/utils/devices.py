"""Choosing the torch device."""

from __future__ import annotations

import torch

from ens2zoo.errors import InputError


def resolve_device(device: str | torch.device | None, default: str | torch.device = "cpu") -> torch.device:
    """A usable ``torch.device``; a CUDA request without CUDA is an :class:`InputError`."""
    try:
        dev = torch.device(default if device is None else device)
    except RuntimeError as exc:
        raise InputError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} requested but CUDA is not available on this machine: use device 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(f"device {device!r} does not exist: this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    return dev
