"""Choosing the torch device, and full float32 arithmetic on it."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

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


@contextlib.contextmanager
def full_float32(device: torch.device) -> Iterator[None]:
    """Full float32 convolutions and matrix products on CUDA inside the block (restored after).

    cuDNN and cuBLAS may use TF32 (10-bit mantissa) for float32 work on Ampere and later GPUs;
    measured on an H200 with the published sample, that moves the rate by 1.2–1.5e-4 (relative)
    and shifts two spike frames.  Inference turns it off so GPU results match the CPU's.
    """
    if device.type != "cuda":
        yield
        return
    with warnings.catch_warnings():  # newer torch prefers fp32_precision; the flags still work
        warnings.simplefilter("ignore")
        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
