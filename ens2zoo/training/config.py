"""One frozen :class:`TrainingConfig`: every training default in one place, with units.

``ens2zoo train``/``benchmark``, :meth:`ens2zoo.SpikeModel.fit`, the LODO runner and the
zoo recipes all start from it; the weights' metadata and the zoo manifest record it whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.errors import InputError

#: Optimisers :func:`ens2zoo.training.fit` can use.
OPTIMIZERS = ("adam", "adagrad")
#: Learning-rate schedules over a run: ``constant`` (published) or ``cosine`` (from ``lr`` to 0 at ``max_iter``).
LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainingConfig:
    """How to train (defaults: the published ENS² protocol).

    Attributes:
        loss: ``"mse"`` (published), ``"eucd"``, ``"corr"`` or a registered loss name.
        optimizer: ``"adam"`` (published ENS²) or ``"adagrad"`` (CASCADE's, with Keras's
            defaults: initial accumulator 0.1, ε 1e-7).
        lr: learning rate of the optimiser (per iteration, dimensionless).
        lr_schedule: ``"constant"`` (published: ``lr`` throughout) or ``"cosine"`` (``lr`` annealed
            to 0 over ``max_iter`` iterations, half a cosine period; early stopping still applies).
        batch_size: windows per iteration.
        max_iter: iteration cap.
        patience: early stopping: iterations without improvement of the (windowed) training loss.
        loss_window: iterations averaged for the early-stopping criterion (1 = published: each batch's loss).
        seed: seeds the initial weights, the batch draws and dropout.
        hours: train on this many hours of randomly drawn windows (None: all).
        threads: torch CPU threads while training (None: leave as is).
        compile: run the network compiled by ``torch.compile`` (~1.2× per CPU iteration for the
            U-Net; weights differ from an eager run's in the last bits, as with another thread count).
        checkpoint_every: iterations between checkpoints.
        reimage: train on re-imaged copies of the data too (frame rates, ν range, copies);
            None = the published protocol, bit for bit.
        ensemble: networks trained alike on the same data with seeds ``seed``, ``seed + 1``, …, whose
            outputs are averaged (:class:`~ens2zoo.architectures.ensemble.Ensemble`, as CASCADE averages
            five); 1 = one network.  ``ens2zoo train`` (:func:`ens2zoo.workflows.runner.train_and_save`)
            trains them; :func:`ens2zoo.training.fit.fit` trains one network.
        init_weights: start every network from these weights instead of the seeded initialisation
            (fine-tuning): a zoo model of one network (e.g. ``"ens2-exc-nm"``) or a ``.safetensors``
            file, of the same architecture and hyper-parameters; None = train from scratch.  The
            seed still draws the batches and dropout.
    """

    loss: str = "mse"
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_schedule: str = "constant"
    batch_size: int = 1024
    max_iter: int = 5000
    patience: int = 500
    loss_window: int = 1
    seed: int = 0
    hours: float | None = None
    threads: int | None = None
    compile: bool = False
    checkpoint_every: int = 250
    reimage: ReimageSpec | None = None
    ensemble: int = 1
    init_weights: str | None = None

    def __post_init__(self) -> None:
        if (self.batch_size < 1 or self.max_iter < 1 or self.patience < 1 or self.loss_window < 1
                or self.checkpoint_every < 1 or not self.lr > 0):
            raise InputError("batch_size, max_iter, patience, loss_window and checkpoint_every must be ≥ 1 "
                             "and lr > 0")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer={self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise InputError(f"lr_schedule={self.lr_schedule!r}: use one of {', '.join(LR_SCHEDULES)}")
        if not isinstance(self.ensemble, int) or self.ensemble < 1:
            raise InputError(f"ensemble={self.ensemble!r} must be a whole number of networks ≥ 1")
        if self.hours is not None and not self.hours > 0:
            raise InputError(f"hours={self.hours!r} must be a positive number of hours")
        if self.threads is not None and self.threads < 1:
            raise InputError(f"threads={self.threads!r} must be ≥ 1")

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with ``changes`` (unknown names are an :class:`InputError`)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise InputError(f"unknown training settings {sorted(unknown)}; known: {[f.name for f in fields(self)]}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    #: settings that change the speed of a run (and its weights only in the last bits): a recipe's run may set them
    SPEED_KEYS = ("threads", "compile")
    #: settings that change the weights a run produces (a checkpoint must match them to be resumed)
    RESUME_KEYS = ("loss", "optimizer", "lr", "lr_schedule", "batch_size", "seed", "loss_window", "hours", "reimage",
                   "init_weights")

    def resume_key(self) -> dict[str, Any]:
        full = self.to_dict()
        return {k: full[k] for k in self.RESUME_KEYS}
