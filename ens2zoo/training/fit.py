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

import copy
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ens2zoo.defaults import WINDOW
from ens2zoo.errors import InputError
from ens2zoo.training.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.losses import get_loss
from ens2zoo.training.step import is_stochastic, make_step
from ens2zoo.utils.devices import resolve_device

if TYPE_CHECKING:
    from ens2zoo.data import TrainingWindows

Callback = Callable[[int, float, TrainingState], bool | None]


@dataclass(frozen=True)
class TrainingReport:
    """Outcome of :func:`fit`.

    Attributes:
        iterations: iterations run in total (including before a resume).
        best_iteration: iteration (1-based) whose state was kept.
        best_loss: its training loss (mean over ``loss_window`` iterations).
        stopped_early: True if ``patience`` ran out before ``max_iter``.
        seconds: wall time spent training (s), over all sessions of a resumed run.
        losses: training loss of every iteration.
    """

    iterations: int
    best_iteration: int
    best_loss: float
    stopped_early: bool
    seconds: float
    losses: tuple[float, ...]

    @property
    def seconds_per_iteration(self) -> float:
        return self.seconds / max(self.iterations, 1)


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """Published initialisation: conv and linear weights ~ N(0, std); other parameters as built."""
    for m in module.modules():
        name = type(m).__name__
        if ("Conv" in name or "Linear" in name) and getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, 0.0, std)


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


def centre_targets(rate: np.ndarray, spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The targets of a ``"centre"`` read-out network: each window's centre sample, shape (B, 1)."""
    centre = rate.shape[1] // 2
    return rate[:, centre:centre + 1], spikes[:, centre:centre + 1]


def _batch_indices(seed: int, iteration: int, n_windows: int, batch_size: int) -> np.ndarray:
    return np.random.default_rng([seed, iteration]).integers(0, n_windows, size=batch_size)


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns: the best weights and the report; the caller applies them."""

    state_dict: dict[str, torch.Tensor]
    report: TrainingReport


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
    loss_fn = get_loss(config.loss)
    windows = _as_windows(data, window)
    dev = resolve_device(device)
    net = copy.deepcopy(net)
    seed = config.seed
    torch.manual_seed(seed)
    if not warm_start:
        for module in net.modules():  # initial weights depend on the seed only, not on RNG history
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        initialise = getattr(net, "initialise", None)
        initialise() if callable(initialise) else init_normal(net)
    net.to(dev)
    optimizer = make_optimizer(net, config)
    state = TrainingState()
    best = {k: v.detach().clone() for k, v in net.state_dict().items()}
    resume_key = {**config.resume_key(), "warm_start": warm_start}
    if resume and checkpoint and Path(checkpoint).is_file():
        best, state, saved = load_checkpoint(checkpoint, net, optimizer)
        if {k: saved.get(k) for k in resume_key} != resume_key:
            raise InputError(f"checkpoint {checkpoint} was written with {saved}; resume with the same settings "
                             "or start afresh without --resume")
        net.to(dev)
    start = time.perf_counter() - state.seconds
    stopped_early = False
    net.train()
    shards = torch.get_num_threads() if dev.type == "cpu" and not is_stochastic(net) else 1
    bar = tqdm(total=config.max_iter, initial=state.iteration, disable=not progress, desc=f"train {type(net).__name__}")
    with make_step(net, shards, compile=config.compile) as step, bar:
        while state.iteration < config.max_iter:
            state.iteration += 1
            idx = _batch_indices(seed, state.iteration, len(windows), config.batch_size)
            torch.manual_seed(seed * 1_000_003 + state.iteration)  # dropout: same stream after a resume
            x, r, s = windows.batch(idx)
            if readout == "centre":
                r, s = centre_targets(r, s)
            x, r, s = (torch.from_numpy(np.ascontiguousarray(a)).to(dev) for a in (x, r, s))
            optimizer.zero_grad(set_to_none=True)
            value = step(net, x, r, s, loss_fn)
            optimizer.step()
            state.losses.append(float(value.detach()))
            recent = state.losses[-config.loss_window:]
            current = sum(recent) / len(recent)
            if len(recent) == config.loss_window and current < state.best_loss:
                state.best_loss, state.best_iteration, state.since_best = current, state.iteration, 0
                best = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                state.since_best += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state.losses[-1]:.4g}", best=f"{state.best_loss:.4g}")
            stop = any(bool(cb(state.iteration, current, state)) for cb in callbacks)
            if state.since_best >= config.patience:
                stopped_early = True
            if checkpoint and (state.iteration % config.checkpoint_every == 0 or stopped_early or stop):
                state.seconds = time.perf_counter() - start
                save_checkpoint(checkpoint, net, best, optimizer, state, resume_key)
            if stopped_early or stop:
                break
    state.seconds = time.perf_counter() - start
    report = TrainingReport(iterations=state.iteration, best_iteration=state.best_iteration,
                            best_loss=state.best_loss, stopped_early=stopped_early, seconds=state.seconds,
                            losses=tuple(state.losses))
    return FitResult({k: v.detach().to("cpu") for k, v in best.items()}, report)
