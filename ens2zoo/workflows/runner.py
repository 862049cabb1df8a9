"""Training a recipe on ground-truth datasets and saving the weights with their record (``ens2zoo train``)."""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ens2zoo._version import __version__
from ens2zoo.data import Dataset, TrainingWindows, load_dataset
from ens2zoo.data.reimage import reimage_neurons
from ens2zoo.errors import InputError
from ens2zoo.model import SpikeModel
from ens2zoo.training.recipes import Recipe
from ens2zoo.workflows.factory import create

log = logging.getLogger(__name__)


def log_every(n: int) -> Callable:
    """A training callback logging the loss every ``n`` iterations (INFO on ``ens2zoo.training``)."""
    start = time.perf_counter()

    def report(iteration: int, loss: float, state) -> None:
        if iteration % n == 0:
            log.info("iter %5d  loss %.5g  best %.5g @ %d  %7.1f s", iteration, loss, state.best_loss,
                     state.best_iteration, time.perf_counter() - start)

    return report


class torch_threads:
    """Set torch's CPU threads inside a block and restore the previous count after it."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self.previous = torch.get_num_threads()

    def __enter__(self) -> None:
        if self.threads:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc) -> None:
        torch.set_num_threads(self.previous)


def model_window(recipe: Recipe) -> int:
    """The training window of ``recipe``'s architecture (its ``window`` hyper-parameter or default)."""
    from ens2zoo.workflows.factory import resolve_hparams
    from ens2zoo.zoo.registry import get_architecture

    return resolve_hparams(get_architecture(recipe.architecture), recipe.hparams)[1].window


def train_and_save(folders: Sequence[Path | Dataset], output: str | os.PathLike, recipe: Recipe, *,
                   device: str = "cpu", checkpoint: str | os.PathLike | None = None, resume: bool = False,
                   keep_checkpoint: bool = False, log_interval: int = 100,
                   progress: bool | None = None, selection: str | None = None) -> tuple[SpikeModel, str]:
    """Train ``recipe`` on the dataset ``folders`` and save the weights to ``output``.

    The weights file records the recipe, the whole ``TrainingConfig`` and the run
    (datasets, hours, iterations, time, machine, versions) in its metadata.

    Args:
        folders: dataset folders (see :func:`ens2zoo.data.find_datasets`), or loaded datasets
            (e.g. holding only the neurons a selection keeps).
        output: ``.safetensors`` file to write (atomically).
        recipe: architecture, hyper-parameters and training settings.
        device: ``"cpu"`` or ``"cuda"``.
        checkpoint: checkpoint file (default ``OUTPUT.ckpt.safetensors``).
        resume: continue from the checkpoint if it exists.
        keep_checkpoint: keep the checkpoint once the weights are written.
        log_interval: log the loss every this many iterations (0: never).
        selection: the dataset/neuron selection the data came from (recorded), e.g. a mouse fold's.

    Returns:
        ``(model, sha256)``: the trained model (best state) and the weights file's hash.
    """
    if not folders:
        raise InputError("no training dataset selected: check --data and the dataset globs")
    config = recipe.config
    with torch_threads(config.threads):
        datasets = [f if isinstance(f, Dataset) else load_dataset(f, progress=None) for f in folders]
        if config.reimage is not None:
            neurons = [n for d in datasets for n in d.neurons]
            windows = TrainingWindows(reimage_neurons(neurons, config.reimage), window=model_window(recipe))
        else:
            windows = TrainingWindows(datasets, window=model_window(recipe))
        if config.hours:
            windows = windows.subset_hours(config.hours, seed=config.seed)
        model = create(recipe.architecture, device=device, **recipe.hparams)
        ckpt = Path(checkpoint or f"{output}.ckpt.safetensors")
        log.info("training %s (recipe %s) on %d datasets (%s); loss %s", recipe.architecture, recipe.name,
                 len(folders), windows, config.loss)
        model.fit(windows, config=config, progress=progress, checkpoint=ckpt, resume=resume,
                  callbacks=[log_every(log_interval)] if log_interval else ())
        report = model.training_report_
        training = {
            "datasets": [d.name for d in datasets], "neurons": sum(len(d.neurons) for d in datasets),
            **({"selection": selection} if selection else {}),
            "windows": len(windows), **config.to_dict(), "data_hours": round(windows.hours, 3),
            "iterations": report.iterations, "best_iteration": report.best_iteration,
            "best_loss": report.best_loss, "stopped_early": report.stopped_early,
            "seconds": round(report.seconds, 1), "seconds_per_iteration": round(report.seconds_per_iteration, 4),
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {device}",
            "torch": torch.__version__, "ens2zoo": __version__,
        }
        sha = model.save(output, {"training": training, "recipe": recipe.to_dict()})
    if not keep_checkpoint:
        ckpt.unlink(missing_ok=True)
    log.info("%d iterations (%s), best loss %.5g at %d, %.0f s (%.0f ms/iteration); wrote %s (sha256 %s)",
             report.iterations, "early stop" if report.stopped_early else "max_iter", report.best_loss,
             report.best_iteration, report.seconds, report.seconds_per_iteration * 1000, output, sha)
    return model, sha
