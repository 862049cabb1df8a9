"""Distilling a windowed teacher (the ENS² U-Net family) into a whole-trace student.

Two stages, both on (B, window) windows cut from one :class:`~ens2zoo.data.TrainingWindows`
layout (recordings zero-padded by ``window // 2`` and concatenated):

1. **distillation**: the target is the teacher's exact (stride-1) rate of each recording,
   computed once (:func:`teacher_labels`) over *unlabelled* input — ground-truth traces of the
   training datasets plus re-imaged copies (:func:`unlabelled_set`); the true spikes are not used;
2. **fine-tuning**: the target is the Gaussian-smoothed true spike train (``TrainingWindows.rate``),
   a few hundred iterations at a lower learning rate.

The loss is the MSE over the central ``crop`` samples of each window only, and only where they
lie inside a recording (the student is fully convolutional: the window's edges see zero padding
that a whole trace would not, so they are left out; windows are ``crop + 2·receptive_half``
long by default, so the cropped outputs see exactly what they would see in a whole trace).
Adam with a cosine-decaying learning rate; the state kept is the best by the mean training loss
over ``loss_window`` iterations.  Batches depend only on (seed, stage, iteration), the initial
weights only on the seed: on the CPU, the same data, seed and thread count give bit-identical
weights, and a run resumed from its checkpoint sees the same batches.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording
from ens2zoo.data.reimage import ReimageSpec, reimage_neurons
from ens2zoo.data.windows import TrainingWindows
from ens2zoo.errors import InputError
from ens2zoo.training.checkpoint import TrainingState
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.fit import make_optimizer
from ens2zoo.training.loop import Callback, StoppingRule, cosine_schedule, seeded_init, train_loop
from ens2zoo.utils.atomic import atomic_path
from ens2zoo.utils.devices import resolve_device

log = logging.getLogger(__name__)

#: Recordings shorter than this (samples at 60 Hz, 1 s) are left out of the unlabelled set.
MIN_SAMPLES = 60


class Teacher(Protocol):
    """What :func:`teacher_labels` needs: ``SpikeModel.predict``."""

    def predict(self, traces: np.ndarray, frame_rate: float, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class DistillConfig:
    """Settings of both stages.

    Attributes:
        lr: Adam learning rate of the distillation stage (cosine-decayed to 0 over ``max_iter``).
        max_iter: distillation iterations.
        finetune_lr: Adam learning rate of the fine-tuning stage (cosine-decayed).
        finetune_iter: fine-tuning iterations on the true rate (0: none).
        batch_size: windows per iteration.
        crop: central samples of each window that enter the loss.
        window: samples per window (None: ``crop + 2·receptive_half`` of the network, rounded up to even).
        loss_window: iterations averaged for picking the best state.
        seed: initial weights and batch draws.
        checkpoint_every: iterations between checkpoints.
    """

    lr: float = 2e-3
    max_iter: int = 3000
    finetune_lr: float = 2e-4
    finetune_iter: int = 300
    batch_size: int = 64
    crop: int = 256
    window: int | None = None
    loss_window: int = 100
    seed: int = 0
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        if self.crop < 1 or self.finetune_iter < 0:
            raise InputError("distillation settings: crop must be ≥ 1 and finetune_iter ≥ 0")
        self.stage_config(self.lr, self.max_iter)  # TrainingConfig checks the settings the stages share
        self.stage_config(self.finetune_lr, max(self.finetune_iter, 1))

    def stage_config(self, lr: float, iterations: int) -> TrainingConfig:
        """One stage's settings as a :class:`TrainingConfig` (Adam at ``lr`` for ``iterations``; validated there)."""
        return TrainingConfig(lr=lr, max_iter=iterations, batch_size=self.batch_size, loss_window=self.loss_window,
                              seed=self.seed, checkpoint_every=self.checkpoint_every)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StageReport:
    """Outcome of one stage (``"distill"`` or ``"finetune"``); ``seconds`` over all sessions of a resumed run."""

    stage: str
    iterations: int
    best_iteration: int
    best_loss: float
    seconds: float
    losses: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"iterations": self.iterations, "best_iteration": self.best_iteration,
                "best_loss": self.best_loss, "seconds": round(self.seconds, 1),
                "seconds_per_iteration": round(self.seconds / max(self.iterations, 1), 4)}


@dataclass(frozen=True)
class UnlabelledItem:
    """One recording of the unlabelled set and the ν its teacher label is routed by (%·Hz^-1/2)."""

    neuron: Neuron
    recording: Recording
    route_noise: float
    reimaged: bool


def _pick(items: list[tuple[Neuron, Recording]], hours: float, rng: np.random.Generator,
          sampling_rate: float) -> list[tuple[Neuron, Recording]]:
    """Recordings in random order until ``hours`` are reached (kept in their original order)."""
    order = rng.permutation(len(items))
    chosen, total = [], 0.0
    limit = hours * 3600.0 * sampling_rate
    for i in order:
        if total >= limit:
            break
        chosen.append(int(i))
        total += len(items[i][1])
    return [items[i] for i in sorted(chosen)]


def unlabelled_set(neurons: Sequence[Neuron], *, hours_original: float, hours_reimaged: float,
                   reimage: ReimageSpec | None = None, seed: int = 0) -> list[UnlabelledItem]:
    """The distillation input: ~``hours_original`` h of the recordings as they are and
    ~``hours_reimaged`` h of re-imaged copies (``reimage``, default 7.5/15/30 Hz, ν 1–9).

    Recordings are drawn at random (seeded) independently for both parts; a re-imaged
    recording is one copy of a drawn recording (:func:`~ens2zoo.data.reimage.reimage_neurons`,
    seeded per recording).  Originals are routed by the neuron's ν at its original frame rate
    (as the benchmark routes them), copies by the ν of the re-imaged trace.
    """
    if not neurons:
        raise InputError("no neuron for the unlabelled set: select at least one training dataset")
    rate = float(neurons[0].sampling_rate)
    pool = [(n, r) for n in neurons for r in n.recordings if len(r) >= MIN_SAMPLES]
    if not pool:
        raise InputError("the training neurons have no recording of 1 s or more")
    rng = np.random.default_rng([seed, 1])
    originals = _pick(pool, hours_original, rng, rate) if hours_original > 0 else []
    items = [UnlabelledItem(n, r, float(n.noise_level), False) for n, r in originals]
    if hours_reimaged > 0:
        spec = replace(reimage or ReimageSpec(), copies=1, keep_original=False)
        drawn = _pick(pool, hours_reimaged, np.random.default_rng([seed, 2]), rate)
        by_neuron: dict[int, tuple[Neuron, list[Recording]]] = {}
        for n, r in drawn:
            by_neuron.setdefault(id(n), (n, []))[1].append(r)
        for n, recs in by_neuron.values():
            (copied,) = reimage_neurons([replace(n, recordings=recs)], spec)
            items.extend(UnlabelledItem(copied, r, float(r.noise_level), True) for r in copied.recordings)
    return items


def unlabelled_windows(items: Sequence[UnlabelledItem], window: int) -> TrainingWindows:
    """The windows layout of ``items``, one recording per item, in order."""
    neurons = [replace(it.neuron, recordings=[it.recording]) for it in items]
    return TrainingWindows(neurons, window=window)


def teacher_labels(teacher: Teacher, items: Sequence[UnlabelledItem], windows: TrainingWindows, *,
                   cache: str | os.PathLike | None = None, key: str = "",
                   progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The teacher's exact rate (stride 1, spikes per 60 Hz frame) laid out like ``windows.rate``.

    Each recording's 60 Hz trace is predicted on its own (``frame_rate`` = the windows' sampling
    rate, routed by the item's ν); padding holds 0.  With ``cache`` the labels are kept in that
    ``.npz`` file and reused when its ``key`` and length match.
    """
    if cache is not None and Path(cache).is_file():
        with np.load(cache) as saved:
            if str(saved["key"]) == key and saved["labels"].shape == windows.trace.shape:
                log.info("teacher labels from %s", cache)
                return saved["labels"]
    if len(items) != len(windows.segments):
        raise InputError(f"{len(items)} unlabelled recordings but {len(windows.segments)} segments in the windows")
    labels = np.zeros_like(windows.trace)
    pad = windows.window // 2
    for k, (it, seg) in enumerate(zip(items, windows.segments)):
        result = teacher.predict(it.recording.trace, windows.sampling_rate, stride=1, spikes=False,
                                 noise_level=it.route_noise, progress=False)
        labels[seg.offset + pad:seg.offset + pad + seg.length] = result.rate[0]
        if progress is not None:
            progress(k + 1, len(items))
    if cache is not None:
        with atomic_path(cache) as tmp:
            np.savez(tmp, labels=labels, key=np.array(key))
    return labels


def training_window(net: nn.Module, crop: int, window: int | None = None) -> int:
    """``window`` or ``crop + 2·receptive_half`` (rounded up to even) for ``net``."""
    if window is not None:
        return int(window)
    half = int(getattr(net, "receptive_half", 0))
    w = crop + 2 * half
    return w + (w % 2)


def _mask(windows: TrainingWindows) -> np.ndarray:
    """1 inside recordings, 0 in the padding."""
    mask = np.zeros_like(windows.trace)
    pad = windows.window // 2
    for seg in windows.segments:
        mask[seg.offset + pad:seg.offset + pad + seg.length] = 1.0
    return mask


def cropped_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, crop: int) -> torch.Tensor:
    """MSE over the central ``crop`` samples of each window, where ``mask`` is 1."""
    w = pred.shape[-1]
    a = (w - crop) // 2
    sl = slice(a, a + crop)
    m = mask[:, sl]
    diff = (pred[:, sl] - target[:, sl]) * m
    return (diff * diff).sum() / m.sum().clamp_min(1.0)


def _log_every(stage: str, n: int) -> Callback:
    """A callback logging the stage's loss every ``n`` iterations."""

    def report(iteration: int, loss: float, state: TrainingState) -> None:
        if iteration % n == 0:
            log.info("%s iter %5d  loss %.5g  best %.5g @ %d  %6.0f s", stage, iteration, loss, state.best_loss,
                     state.best_iteration, state.seconds)

    return report


def train_stage(net: nn.Module, windows: TrainingWindows, target: np.ndarray, *, stage: str, lr: float,
                iterations: int, config: DistillConfig, mask: np.ndarray | None = None,
                checkpoint: str | os.PathLike | None = None, resume: bool = False,
                log_every: int = 0,
                device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], StageReport]:
    """Train a copy of ``net`` (its current weights are the start) on ``target``; returns (best state, report).

    ``target`` is laid out like ``windows.trace`` (teacher labels, or ``windows.rate``).  Batches are
    drawn on the CPU (the same ones on every device) and trained on ``device``; the returned state
    is on the CPU.  Adam at ``lr`` decays along a cosine over ``iterations``; no early stopping,
    and the last iteration is judged even before ``loss_window`` iterations are in.
    """
    if target.shape != windows.trace.shape:
        raise InputError(f"target has {target.shape[0]} samples but the windows {windows.trace.shape[0]}")
    crop = min(config.crop, windows.window)
    mask = _mask(windows) if mask is None else mask
    settings = config.stage_config(lr, iterations)
    dev = resolve_device(device)
    columns = np.arange(windows.window, dtype=np.int64)[None, :]
    stream = sum(map(ord, stage))

    def sample(iteration: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([config.seed, stream, iteration])
        index = windows.starts[rng.integers(0, len(windows), size=config.batch_size)][:, None] + columns
        x, y, m = (torch.from_numpy(a[index]).to(dev) for a in (windows.trace, target, mask))
        return x, y, m

    key = {"stage": stage, "lr": lr, "iterations": iterations, "seed": config.seed,
           "batch_size": config.batch_size, "crop": crop, "window": windows.window, "windows": len(windows)}
    result = train_loop(net, sample, partial(cropped_mse, crop=crop),
                        StoppingRule(iterations, settings.loss_window, judge_last=True),
                        optimizer=partial(make_optimizer, config=settings),
                        schedule=cosine_schedule(lr, iterations), device=dev, checkpoint=checkpoint,
                        checkpoint_every=settings.checkpoint_every, resume=resume,
                        resume_key=key, callbacks=[_log_every(stage, log_every)] if log_every else (), desc=stage)
    report = result.report
    return result.state_dict, StageReport(stage=stage, iterations=report.iterations,
                                          best_iteration=report.best_iteration, best_loss=report.best_loss,
                                          seconds=report.seconds, losses=report.losses)


def distill(net: nn.Module, windows: TrainingWindows, labels: np.ndarray, config: DistillConfig | None = None, *,
            checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
            log_every: int = 0,
            device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], list[StageReport]]:
    """Both stages on ``net`` (re-initialised from ``config.seed``); returns the final state and the reports.

    Args:
        net: the student (a whole-trace network, e.g. :class:`~ens2zoo.architectures.tcn.DilatedCNN`).
        windows: the unlabelled set's windows (:func:`unlabelled_windows`); their ``rate`` is the
            fine-tuning target.
        labels: the teacher's rate laid out like ``windows.trace`` (:func:`teacher_labels`).
        checkpoint_dir: folder for the two stages' checkpoints (``distill.ckpt.safetensors``,
            ``finetune.ckpt.safetensors``); ``resume`` continues from them.
        device: where the student trains (``"cpu"``, ``"cuda"``); the returned state is on the CPU.
    """
    config = config or DistillConfig()
    net = copy.deepcopy(net)
    seeded_init(net, config.seed, published=False)
    mask = _mask(windows)
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    reports = []
    state, report = train_stage(net, windows, labels, stage="distill", lr=config.lr, iterations=config.max_iter,
                                config=config, mask=mask, resume=resume, log_every=log_every, device=device,
                                checkpoint=folder / "distill.ckpt.safetensors" if folder else None)
    net.load_state_dict(state)
    reports.append(report)
    if config.finetune_iter:
        state, report = train_stage(net, windows, windows.rate, stage="finetune", lr=config.finetune_lr,
                                    iterations=config.finetune_iter, config=config, mask=mask, resume=resume,
                                    log_every=log_every, device=device,
                                    checkpoint=folder / "finetune.ckpt.safetensors" if folder else None)
        reports.append(report)
    return state, reports
