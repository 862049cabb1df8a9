"""The published ENS² training protocol, for every architecture.

Each iteration draws ``batch_size`` windows uniformly at random from all
training windows (the draw of iteration i depends only on ``seed`` and i, so a
resumed run sees the same batches); Adam at ``lr`` (or Adagrad, CASCADE's); conv/linear
weights initialised N(0, 0.02) (or by the network's own ``initialise()``, e.g. CASCADE's
Glorot); the loss compares the network's window outputs with the
smoothed true rate; training stops when the training loss has not improved for
``patience`` iterations (or after ``max_iter``) and the best state is kept.
On the CPU the same seed and data give bit-identical weights.

The published criterion looks at each iteration's batch loss (``loss_window=1``).
That loss is noisy — one lucky batch can hold the record for ``patience``
iterations and end training early — so ``loss_window`` > 1 judges improvement on
the mean loss of the last ``loss_window`` iterations instead; the state kept is
the one at the end of the best such stretch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ens2zoo.defaults import WINDOW
from ens2zoo.errors import InputError
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.loop import (
    Callback,
    FitResult,
    Sampler,
    StoppingRule,
    TrainingReport,
    cosine_schedule,
    init_normal,
    seeded_init,
    train_loop,
)
from ens2zoo.training.losses import get_loss
from ens2zoo.training.step import is_stochastic
from ens2zoo.utils.devices import resolve_device

if TYPE_CHECKING:
    from ens2zoo.data import TrainingWindows

__all__ = ["Callback", "FitResult", "TrainingReport", "centre_targets", "fit", "init_normal", "initialisation",
           "make_optimizer", "outputs_constant"]


def _as_windows(data: Any, window: int) -> TrainingWindows:
    from ens2zoo.data import TrainingWindows

    if isinstance(data, TrainingWindows):
        if data.window != window:
            raise InputError(f"training windows have {data.window} samples but the model expects {window}")
        return data
    return TrainingWindows(data, window=window)


def make_optimizer(net: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    """The optimiser ``config.optimizer`` names, at ``config.lr``."""
    if config.optimizer == "adagrad":  # Keras's defaults, as CASCADE trains
        return torch.optim.Adagrad(net.parameters(), lr=config.lr, initial_accumulator_value=0.1, eps=1e-7)
    return torch.optim.Adam(net.parameters(), lr=config.lr)


def outputs_constant(net: nn.Module, window: int) -> bool:
    """Whether ``net`` gives one and the same output for 64 windows of white noise (SD 0.5 ΔF/F, fixed
    seed): a network that learned nothing (e.g. every unit of its ReLU output dead), which no real
    input would make fire."""
    x = torch.from_numpy(np.random.default_rng(0).normal(0.0, 0.5, (64, window)).astype(np.float32))
    device = next(net.parameters()).device
    mode = net.training
    net.eval()
    try:
        with torch.inference_mode():
            y = net(x.to(device))
    finally:
        net.train(mode)
    return bool(torch.all(y == y.reshape(-1)[0]))


def centre_targets(rate: np.ndarray, spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The targets of a ``"centre"`` read-out network: each window's centre sample, shape (B, 1)."""
    centre = rate.shape[1] // 2
    return rate[:, centre:centre + 1], spikes[:, centre:centre + 1]


def _batch_indices(seed: int, iteration: int, n_windows: int, batch_size: int) -> np.ndarray:
    return np.random.default_rng([seed, iteration]).integers(0, n_windows, size=batch_size)


def _window_sampler(windows: TrainingWindows, config: TrainingConfig, readout: str,
                    device: torch.device) -> Sampler:
    """Iteration i's batch: ``batch_size`` windows drawn uniformly by (seed, i); it also seeds dropout by i,
    so a resumed run sees the same batches and the same dropout."""
    seed = config.seed

    def sample(iteration: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = _batch_indices(seed, iteration, len(windows), config.batch_size)
        torch.manual_seed(seed * 1_000_003 + iteration)
        x, r, s = windows.batch(idx)
        if readout == "centre":
            r, s = centre_targets(r, s)
        x, r, s = (torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in (x, r, s))
        return x, r, s

    return sample


def initialisation(config: TrainingConfig, warm_start: bool = False) -> Callable[[nn.Module], None] | None:
    """How :func:`fit` starts a network: None (its current weights) with ``warm_start``, else the seeded
    initialisation of ``config.seed``."""
    return None if warm_start else partial(seeded_init, seed=config.seed)


def fit(net: nn.Module, data: Any, config: TrainingConfig | None = None, *, window: int = WINDOW,
        device: str | torch.device = "cpu", progress: bool | None = None,
        callbacks: Sequence[Callback] | Iterable[Callback] = (), checkpoint: str | os.PathLike | None = None,
        resume: bool = False, warm_start: bool = False, readout: str = "overlap-add") -> FitResult:
    """Train a copy of ``net`` (see module docstring for the protocol); ``net`` itself is not changed.

    Args:
        net: the network (its current weights are the start with ``warm_start``).
        data: :class:`~ens2zoo.data.TrainingWindows`, or Datasets/Neurons to build them from.
        config: the training settings (default: the published protocol).
        window: samples per training window (the model's window).
        callbacks: called as ``cb(iteration, loss, state)`` after each iteration; returning True stops.
        checkpoint: file to write progress to every ``config.checkpoint_every`` iterations (atomic).
        resume: continue from ``checkpoint`` if it exists.
        warm_start: start from ``net``'s current weights instead of the seeded initialisation.
        readout: the network's read-out mode; ``"centre"`` networks learn each window's centre sample.

    Returns:
        :class:`FitResult` with the best state (on the CPU) and the :class:`TrainingReport`.
    """
    config = config or TrainingConfig()
    if config.ensemble != 1:
        raise InputError(f"ensemble={config.ensemble}: fit trains one network; train an ensemble with "
                         "ens2zoo.workflows.runner.train_and_save (ens2zoo train --ensemble N), which trains "
                         "its networks one by one (resumably) and saves their mean")
    windows = _as_windows(data, window)
    dev = resolve_device(device)
    shards = torch.get_num_threads() if dev.type == "cpu" and not is_stochastic(net) else 1
    return train_loop(
        net, _window_sampler(windows, config, readout, dev), get_loss(config.loss),
        StoppingRule(config.max_iter, config.loss_window, config.patience),
        optimizer=partial(make_optimizer, config=config),
        schedule=cosine_schedule(config.lr, config.max_iter) if config.lr_schedule == "cosine" else None,
        init=initialisation(config, warm_start), device=dev,
        checkpoint=checkpoint, checkpoint_every=config.checkpoint_every, resume=resume,
        resume_key={**config.resume_key(), "warm_start": warm_start}, shards=shards, compile=config.compile,
        callbacks=callbacks, progress=progress, desc=f"train {type(net).__name__}")
