"""Training losses, selectable by name and extensible with :func:`register_loss`.

Each loss maps ``(pred, rate, spikes)`` — (B, window) tensors of predicted rate,
target smoothed rate (spikes per frame) and spike counts — to a scalar.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ens2zoo.errors import UnknownNameError

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
_LOSSES: dict[str, LossFn] = {}


def register_loss(name: str) -> Callable[[LossFn], LossFn]:
    """Decorator: make a loss available to ``fit(loss=name)``."""

    def wrap(fn: LossFn) -> LossFn:
        _LOSSES[name] = fn
        return fn

    return wrap


def get_loss(name: str | LossFn) -> LossFn:
    """A loss function by name (``mse``, ``eucd``, ``corr``, or registered), or a callable as is."""
    if callable(name):
        return name
    try:
        return _LOSSES[name]
    except KeyError:
        raise UnknownNameError(f"unknown loss {name!r}: use one of {', '.join(sorted(_LOSSES))} "
                               "or register one with ens2zoo.training.register_loss") from None


def list_losses() -> list[str]:
    return sorted(_LOSSES)


@register_loss("mse")
def mse(pred: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:
    """Mean squared error between predicted and smoothed true rate (the published loss)."""
    return torch.mean((pred - rate) ** 2)


@register_loss("eucd")
def eucd(pred: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor, tau: float = 0.025) -> torch.Tensor:
    """van Rossum-style distance: sqrt(Σ(pred − rate)² / τ / number of true spikes) over the batch.

    Rates in spikes per frame; ``tau`` in seconds (0.025 s, the σ of the target smoothing).
    """
    n_spikes = torch.clamp(spikes.sum(), min=1.0)
    return torch.sqrt(torch.sum((pred - rate) ** 2) / tau / n_spikes + 1e-12)


@register_loss("corr")
def corr(pred: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor) -> torch.Tensor:
    """Negative Pearson correlation per window, averaged over the batch."""
    p = pred - pred.mean(dim=1, keepdim=True)
    r = rate - rate.mean(dim=1, keepdim=True)
    denom = torch.sqrt((p * p).sum(dim=1) * (r * r).sum(dim=1) + 1e-12)
    return -torch.mean((p * r).sum(dim=1) / denom)
