"""Training a distillation recipe: teacher labels on an unlabelled set, the student distilled and saved.

``ens2zoo train --recipe ens2-exc-fast -o FILE`` runs :func:`train_distilled` with the recipe's
teacher (a zoo name), or ``--teacher FOLDER`` (e.g. a LODO fold's ``ens2-exc`` family, with the
held-out dataset excluded from the data too).  The teacher's labels are cached and each stage
checkpoints in the run folder beside the output (``<output>.distill/``), so ``--resume`` continues.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ens2zoo._version import __version__
from ens2zoo.data import Dataset
from ens2zoo.errors import InputError
from ens2zoo.model import SpikeModel
from ens2zoo.training.distill import distill, teacher_labels, training_window, unlabelled_set, unlabelled_windows
from ens2zoo.training.recipes import DistillRecipe
from ens2zoo.workflows.factory import create

log = logging.getLogger(__name__)


def run_folder(output: str | os.PathLike) -> Path:
    """Where a distillation into ``output`` keeps its teacher labels and checkpoints."""
    output = Path(output)
    return output.with_name(output.stem + ".distill")


def train_distilled(recipe: DistillRecipe, datasets: Sequence[Dataset], output: str | os.PathLike, *,
                    teacher: SpikeModel, teacher_name: str, device: str = "cpu", resume: bool = False,
                    selection: str | None = None, log_interval: int = 250) -> str:
    """Distil ``recipe``'s student from ``teacher`` on ``datasets`` and save it to ``output``; returns its sha256.

    Args:
        recipe: the distillation recipe (student, stages, unlabelled data).
        datasets: where the unlabelled input is drawn from.
        output: the student's ``.safetensors`` file (written atomically, with the run in its
            ``training`` metadata and the recipe in ``recipe``).
        teacher: the model whose stride-1 rate the student learns; ``teacher_name`` names it in the record.
        device: teacher labels and training on this device.
        resume: continue from the run folder's checkpoints (:func:`run_folder`).
        selection: the data selection, recorded.
    """
    output = Path(output)
    if output.suffix != ".safetensors":
        raise InputError(f"-o {output}: a distillation recipe writes one weights file (.safetensors)")
    neurons = [n for d in datasets for n in d.neurons]
    if not neurons:
        raise InputError("no neuron to draw the unlabelled set from: the data selection is empty")
    run_dir = run_folder(output)
    config = recipe.config
    items = unlabelled_set(neurons, hours_original=recipe.hours_original, hours_reimaged=recipe.hours_reimaged,
                           reimage=recipe.reimage, seed=config.seed)
    student = create(recipe.architecture, **recipe.hparams)
    window = training_window(student.net, config.crop, config.window)
    windows = unlabelled_windows(items, window)
    teacher_hash = ",".join(sorted(m.record.sha256 or "" for m in teacher.members)) or (teacher.sha256 or "")
    log.info("%s: teacher %s; unlabelled %s (%d recordings, %d re-imaged)", recipe.name, teacher_name, windows,
             len(items), sum(it.reimaged for it in items))
    start = time.perf_counter()
    key = f"{teacher_hash}|{recipe.hours_original}|{recipe.hours_reimaged}|{config.seed}|{len(items)}|{window}"
    labels = teacher_labels(teacher, items, windows, cache=run_dir / "labels.npz", key=key,
                            progress=lambda k, n: k % 200 == 0 and log.info("labels %d/%d", k, n))
    label_seconds = time.perf_counter() - start
    state, reports = distill(student.net, windows, labels, config, checkpoint_dir=run_dir, resume=resume,
                             log_every=log_interval, device=device)
    student.net.load_state_dict(state)
    training: dict[str, Any] = {
        "datasets": [d.name for d in datasets], "selection": selection, "teacher": teacher_name,
        "teacher_sha256": teacher_hash, "hours": round(windows.hours, 3),
        "hours_reimaged": round(sum(len(it.recording) for it in items if it.reimaged) / 60 / 3600, 3),
        "recordings": len(items), "label_seconds": round(label_seconds, 1),
        "iterations": sum(r.iterations for r in reports), "seconds": round(sum(r.seconds for r in reports), 1),
        **{r.stage: r.to_dict() for r in reports},
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {device}",
        "torch": torch.__version__, "ens2zoo": __version__,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    sha = student.save(output, {"training": training, "recipe": recipe.to_dict()})
    log.info("wrote %s (sha256 %s)", output, sha)
    return sha
