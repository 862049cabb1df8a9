"""The published ENS² training protocol, for every architecture.

Each iteration draws ``batch_size`` windows uniformly at random from all
training windows (the draw of iteration i depends only on ``seed`` and i, so a
resumed run sees the same batches); Adam at ``lr``; conv/linear weights
initialised N(0, 0.02); the loss compares the network's window outputs with the
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
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ens2zoo.devices import resolve_device
from ens2zoo.errors import InputError
from ens2zoo.training.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from ens2zoo.training.losses import LossFn, get_loss

if TYPE_CHECKING:
    from ens2zoo.data import TrainingWindows
    from ens2zoo.model import SpikeModel

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


def _batch_indices(seed: int, iteration: int, n_windows: int, batch_size: int) -> np.ndarray:
    return np.random.default_rng([seed, iteration]).integers(0, n_windows, size=batch_size)


def fit(model: SpikeModel, data: Any, *, loss: str | LossFn = "mse", lr: float = 1e-3, batch_size: int = 1024,
        max_iter: int = 5000, patience: int = 500, seed: int = 0, device: str | torch.device | None = None,
        progress: bool | None = None, callbacks: Sequence[Callback] | Iterable[Callback] = (),
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 250,
        resume: bool = False, loss_window: int = 1) -> TrainingReport:
    """Train ``model.net`` in place (see module docstring for the protocol).

    Args:
        data: :class:`~ens2zoo.data.TrainingWindows`, or Datasets/Neurons to build them from.
        loss: ``"mse"`` (published), ``"eucd"``, ``"corr"``, a registered name or a callable.
        callbacks: called as ``cb(iteration, loss, state)`` after each iteration; returning True stops.
        checkpoint: file to write progress to every ``checkpoint_every`` iterations (atomic).
        resume: continue from ``checkpoint`` if it exists.
        loss_window: iterations averaged for the early-stopping criterion (1 = published).
    """
    if batch_size < 1 or max_iter < 1 or patience < 1 or loss_window < 1 or lr <= 0:
        raise InputError("batch_size, max_iter, patience and loss_window must be ≥ 1 and lr > 0")
    loss_fn = get_loss(loss)
    windows = _as_windows(data, model.preprocessing.window)
    dev = resolve_device(device, model.device)
    net = model.net
    torch.manual_seed(seed)
    for module in net.modules():  # initial weights depend on the seed only, not on RNG history
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    init_normal(net)
    net.to(dev)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    state = TrainingState()
    best = {k: v.detach().clone() for k, v in net.state_dict().items()}
    config = {"loss": loss if isinstance(loss, str) else getattr(loss, "__name__", "custom"), "lr": lr,
              "batch_size": batch_size, "seed": seed, "loss_window": loss_window}
    if resume and checkpoint and Path(checkpoint).is_file():
        best, state, saved = load_checkpoint(checkpoint, net, optimizer)
        if {k: saved.get(k) for k in config} != config:
            raise InputError(f"checkpoint {checkpoint} was written with {saved}; resume with the same settings "
                             "or start afresh without --resume")
        net.to(dev)
    show = progress if progress is not None else False
    start = time.perf_counter() - state.seconds
    stopped_early = False
    net.train()
    with tqdm(total=max_iter, initial=state.iteration, disable=not show, desc=f"train {model.architecture}") as bar:
        while state.iteration < max_iter:
            state.iteration += 1
            idx = _batch_indices(seed, state.iteration, len(windows), batch_size)
            torch.manual_seed(seed * 1_000_003 + state.iteration)  # dropout: same stream after a resume
            x, r, s = (torch.from_numpy(a).to(dev) for a in windows.batch(idx))
            optimizer.zero_grad(set_to_none=True)
            value = loss_fn(net(x), r, s)
            value.backward()
            optimizer.step()
            state.losses.append(float(value.detach()))
            recent = state.losses[-loss_window:]
            current = sum(recent) / len(recent)
            if len(recent) == loss_window and current < state.best_loss:
                state.best_loss, state.best_iteration, state.since_best = current, state.iteration, 0
                best = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                state.since_best += 1
            bar.update(1)
            bar.set_postfix(loss=f"{state.losses[-1]:.4g}", best=f"{state.best_loss:.4g}")
            stop = any(bool(cb(state.iteration, current, state)) for cb in callbacks)
            if state.since_best >= patience:
                stopped_early = True
            if checkpoint and (state.iteration % checkpoint_every == 0 or stopped_early or stop):
                state.seconds = time.perf_counter() - start
                save_checkpoint(checkpoint, net, best, optimizer, state, config)
            if stopped_early or stop:
                break
    state.seconds = time.perf_counter() - start
    net.load_state_dict(best)
    net.eval()
    model.net = net.to(model.device)
    model.sha256 = None
    return TrainingReport(iterations=state.iteration, best_iteration=state.best_iteration,
                          best_loss=state.best_loss, stopped_early=stopped_early, seconds=state.seconds,
                          losses=tuple(state.losses))
