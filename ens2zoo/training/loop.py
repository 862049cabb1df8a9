"""The one training loop: :func:`ens2zoo.training.fit` and distillation's stages both run it.

What differs between them is a parameter: the *sampler* (iteration → batch), the *loss*, the
learning-rate *schedule* and the :class:`StoppingRule`.  What they share is written here once:
the seeded initialisation, resuming from a checkpoint (which must have been written with the
same settings), tracking the best state, checkpoints every ``checkpoint_every`` iterations and
at the end, the step (plain, sharded over CPU threads or compiled: :mod:`ens2zoo.training.step`),
callbacks and the progress bar.  A sampler that depends only on the iteration makes a resumed
run see the same batches as an uninterrupted one.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ens2zoo.errors import InputError
from ens2zoo.training.checkpoint import TrainingState, load_checkpoint, save_checkpoint
from ens2zoo.training.step import LossFn, make_step
from ens2zoo.utils.devices import resolve_device

log = logging.getLogger(__name__)

#: iteration (1-based) → the batch on the training device: (input, target, extra), the loss's arguments
Sampler = Callable[[int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
#: iteration (1-based) → learning rate
Schedule = Callable[[int], float]


def cosine_schedule(lr: float, total: int) -> Schedule:
    """Learning rate ``lr`` annealed over ``total`` iterations: ``lr · (1 + cos(π (i − 1) / total)) / 2``
    at iteration i (1-based): ``lr`` at the first, → 0 at the last."""
    return partial(_cosine, lr, total=total)


def _cosine(lr: float, iteration: int, total: int) -> float:
    return lr * 0.5 * (1.0 + math.cos(math.pi * (iteration - 1) / total))


#: called as ``cb(iteration, loss, state)`` after each iteration; returning True stops the run
Callback = Callable[[int, float, TrainingState], bool | None]


@dataclass(frozen=True)
class StoppingRule:
    """When a run ends and which iterations may set the state it keeps.

    Attributes:
        max_iter: iterations at most.
        loss_window: improvement is judged on the mean loss of the last ``loss_window`` iterations
            (1: each batch's own loss); iterations before the window is full set no state...
        judge_last: ...except the last one, judged on the iterations there are, when True.
        patience: stop early after this many iterations without improvement (None: never).
    """

    max_iter: int
    loss_window: int = 1
    patience: int | None = None
    judge_last: bool = False


@dataclass(frozen=True)
class TrainingReport:
    """Outcome of a run.

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


@dataclass(frozen=True)
class FitResult:
    """What a run returns: the best weights (on the CPU) and the report; the caller applies them."""

    state_dict: dict[str, torch.Tensor]
    report: TrainingReport


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """Published initialisation: conv and linear weights ~ N(0, std); other parameters as built."""
    for m in module.modules():
        name = type(m).__name__
        if ("Conv" in name or "Linear" in name) and getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, 0.0, std)


def seeded_init(net: nn.Module, seed: int, *, published: bool = True) -> None:
    """Initial weights that depend on ``seed`` only, not on the random generator's history.

    Every layer's own ``reset_parameters`` after ``torch.manual_seed(seed)``; with ``published``,
    then the network's ``initialise()`` (e.g. CASCADE's Glorot) or, without one, :func:`init_normal`.
    """
    torch.manual_seed(seed)
    for module in net.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    if published:
        initialise = getattr(net, "initialise", None)
        initialise() if callable(initialise) else init_normal(net)


def _copy_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def train_loop(net: nn.Module, sample: Sampler, loss_fn: LossFn, stopping: StoppingRule, *,
               optimizer: Callable[[nn.Module], torch.optim.Optimizer], schedule: Schedule | None = None,
               init: Callable[[nn.Module], None] | None = None, device: str | torch.device = "cpu",
               checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 250, resume: bool = False,
               resume_key: Mapping[str, Any] | None = None, shards: int = 1, compile: bool = False,
               callbacks: Iterable[Callback] = (), progress: bool | None = None,
               desc: str = "train") -> FitResult:
    """Train a copy of ``net``; ``net`` itself is not changed.

    Args:
        net: the network; the copy starts from its weights unless ``init`` sets them.
        sample: the batch of each iteration (on ``device``).
        loss_fn: ``loss_fn(net(x), target, extra)`` → scalar.
        stopping: iteration cap, the window improvement is judged on, early stopping.
        optimizer: builds the optimiser for the copy's parameters (on ``device``).
        schedule: the learning rate of each iteration (None: the optimiser's own).
        init: sets the copy's initial weights (before it moves to ``device``).
        checkpoint: file written (atomically) every ``checkpoint_every`` iterations and at the end.
        resume: continue from ``checkpoint`` if it exists; it must have been written with
            ``resume_key`` (each of its entries equal), else :class:`~ens2zoo.errors.InputError`.
        shards: CPU threads a step's batch is split over (:class:`~ens2zoo.training.step.ShardedStep`).
        compile: run the network compiled by ``torch.compile``.
        callbacks: called after each iteration; one returning True stops the run.
        progress: draw a progress bar (``desc``).

    Returns:
        :class:`FitResult` with the best state (on the CPU) and the :class:`TrainingReport`.
    """
    dev = resolve_device(device)
    net = copy.deepcopy(net)
    if init is not None:
        init(net)
    net.to(dev)
    opt = optimizer(net)
    state = TrainingState()
    best = _copy_state(net)
    key = dict(resume_key or {})
    if resume and checkpoint and Path(checkpoint).is_file():
        best, state, saved = load_checkpoint(checkpoint, net, opt)
        if {k: saved.get(k) for k in key} != key:
            raise InputError(f"checkpoint {checkpoint} was written with {saved}; resume with the same settings "
                             "or start afresh without resuming")
        net.to(dev)
        log.info("%s: resumed at iteration %d from %s", desc, state.iteration, checkpoint)
    start = time.perf_counter() - state.seconds
    stopped_early = False
    net.train()
    bar = tqdm(total=stopping.max_iter, initial=state.iteration, disable=not progress, desc=desc)
    with make_step(net, shards, compile=compile) as step, bar:
        while state.iteration < stopping.max_iter:
            state.iteration += 1
            x, target, extra = sample(state.iteration)
            if schedule is not None:
                for group in opt.param_groups:
                    group["lr"] = schedule(state.iteration)
            opt.zero_grad(set_to_none=True)
            value = step(net, x, target, extra, loss_fn)
            opt.step()
            state.losses.append(float(value.detach()))
            recent = state.losses[-stopping.loss_window:]
            current = sum(recent) / len(recent)
            last = state.iteration == stopping.max_iter
            judged = len(recent) == stopping.loss_window or (stopping.judge_last and last)
            if judged and current < state.best_loss:
                state.best_loss, state.best_iteration, state.since_best = current, state.iteration, 0
                best = _copy_state(net)
            else:
                state.since_best += 1
            state.seconds = time.perf_counter() - start
            bar.update(1)
            bar.set_postfix(loss=f"{state.losses[-1]:.4g}", best=f"{state.best_loss:.4g}")
            stop = any(bool(cb(state.iteration, current, state)) for cb in callbacks)
            stopped_early = stopping.patience is not None and state.since_best >= stopping.patience
            if checkpoint and (state.iteration % checkpoint_every == 0 or stopped_early or stop or last):
                save_checkpoint(checkpoint, net, best, opt, state, key)
            if stopped_early or stop:
                break
    state.seconds = time.perf_counter() - start
    report = TrainingReport(iterations=state.iteration, best_iteration=state.best_iteration,
                            best_loss=state.best_loss, stopped_early=stopped_early, seconds=state.seconds,
                            losses=tuple(state.losses))
    return FitResult({k: v.detach().to("cpu") for k, v in best.items()}, report)
