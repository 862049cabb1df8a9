"""Training a recipe on ground-truth datasets and saving the weights with their record (``ens2zoo train``)."""

from __future__ import annotations

import functools
import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch

from ens2zoo._version import __version__
from ens2zoo.architectures.ensemble import Ensemble
from ens2zoo.data import Dataset, TrainingWindows, load_dataset
from ens2zoo.data.reimage import reimage_neurons
from ens2zoo.errors import InputError
from ens2zoo.model import SpikeModel
from ens2zoo.training.fit import initialisation, outputs_constant
from ens2zoo.training.recipes import Recipe, same_recipe
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.workflows.factory import create, load_member, resolve_hparams

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
    from ens2zoo.zoo.registry import get_architecture

    return resolve_hparams(get_architecture(recipe.architecture), recipe.hparams)[1].window


def initial_model(recipe: Recipe, device: str = "cpu") -> SpikeModel:
    """The network a run of ``recipe`` starts from: built afresh, or, with ``config.init_weights``
    (fine-tuning), loaded from that file or zoo network (:func:`~ens2zoo.workflows.factory.load_member`),
    which must be one network of the recipe's architecture and hyper-parameters."""
    from ens2zoo.zoo.registry import get_architecture

    source = recipe.config.init_weights
    if source is None:
        return create(recipe.architecture, device=device, **recipe.hparams)
    model = (create(recipe.architecture, weights=source, device=device, **recipe.hparams)
             if Path(source).is_file() else load_member(source, device))
    hparams = resolve_hparams(get_architecture(recipe.architecture), recipe.hparams)[0]
    if isinstance(model.net, Ensemble) or (model.architecture, model.hparams) != (recipe.architecture, hparams):
        raise InputError(f"init_weights {source}: {model.architecture} {model.hparams}"
                         f"{' (an ensemble)' if isinstance(model.net, Ensemble) else ''} cannot start recipe "
                         f"{recipe.name} ({recipe.architecture} {hparams}): fine-tune from one network of the "
                         "same architecture and hyper-parameters")
    return model


def ensemble_part(output: str | os.PathLike, k: int) -> Path:
    """Where network ``k`` of an ensemble trained into ``output`` is kept until the ensemble is
    written: ``<output stem>.net<k>.safetensors`` beside it."""
    output = Path(output)
    return output.with_name(f"{output.stem}.net{k}{output.suffix}")


#: seeds an ensemble tries for each network before giving up (see :func:`part_recipe`)
SEED_TRIES = 3


def part_recipe(recipe: Recipe, k: int, attempt: int = 0) -> Recipe:
    """Network ``k`` of ``recipe``'s ensemble of n: the recipe as one network with seed ``seed + k``, or,
    for a later ``attempt`` (the earlier seed learned nothing), ``seed + k + attempt · n``."""
    seed = recipe.config.seed + k + attempt * recipe.config.ensemble
    return replace(recipe, config=recipe.config.replace(ensemble=1, seed=seed))


def train_and_save(folders: Sequence[Path | Dataset], output: str | os.PathLike, recipe: Recipe, *,
                   device: str = "cpu", checkpoint: str | os.PathLike | None = None, resume: bool = False,
                   keep_checkpoint: bool = False, log_interval: int = 100,
                   progress: bool | None = None, selection: str | None = None) -> tuple[SpikeModel, str]:
    """Train ``recipe`` on the dataset ``folders`` and save the weights to ``output``.

    The weights file records the recipe, the whole ``TrainingConfig`` and the run
    (datasets, hours, iterations, time, machine, versions) in its metadata.

    A recipe with ``config.ensemble`` = n > 1 trains n networks on the same windows with seeds
    ``seed`` … ``seed + n − 1``, each saved as it finishes (:func:`ensemble_part`; a part already there
    and trained with :func:`part_recipe` is kept, an interrupted one resumes from its checkpoint),
    then writes their :class:`~ens2zoo.architectures.ensemble.Ensemble` to ``output`` (its
    ``training`` record lists each network's run) and removes the parts.  A network whose output
    is constant learned nothing (its ReLU output died early in training): it is discarded and
    trained again from the next seed of :func:`part_recipe` (at most :data:`SEED_TRIES` seeds, the last
    kept with a warning; the record lists the discarded ones); a single network like it is kept with a
    warning.

    Args:
        folders: dataset folders (see :func:`ens2zoo.data.find_datasets`), or loaded datasets
            (e.g. holding only the neurons a selection keeps).
        output: ``.safetensors`` file to write (atomically).
        recipe: architecture, hyper-parameters and training settings.
        device: ``"cpu"`` or ``"cuda"``.
        checkpoint: checkpoint file (default ``OUTPUT.ckpt.safetensors``; an ensemble's networks
            checkpoint beside their parts).
        resume: continue from the checkpoint if it exists.
        keep_checkpoint: keep the checkpoint (an ensemble: its parts) once the weights are written.
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

        @functools.cache
        def windows() -> TrainingWindows:  # built once, and only if a network is trained
            if config.reimage is None:
                return TrainingWindows(datasets, window=model_window(recipe))
            neurons = [n for d in datasets for n in d.neurons]
            return TrainingWindows(reimage_neurons(neurons, config.reimage), window=model_window(recipe))

        run = dict(datasets=datasets, device=device, resume=resume, keep_checkpoint=keep_checkpoint,
                   log_interval=log_interval, progress=progress, selection=selection)
        if config.ensemble == 1:
            model, sha = _train_network(windows(), output, recipe, checkpoint=checkpoint, **run)
            if outputs_constant(model.net, model.preprocessing.window):
                log.warning("%s gives a constant output: the network learned nothing; train it again with "
                            "another seed (--seed)", output)
            return model, sha
        parts = [ensemble_part(output, k) for k in range(config.ensemble)]
        discarded: list[dict] = []
        nets = [_ensemble_network(recipe, k, part, windows, run, discarded) for k, part in enumerate(parts)]
        runs = [safetensors_metadata(p)["training"] for p in parts]
        per_network = ("seed", "iterations", "best_iteration", "best_loss", "stopped_early", "seconds",
                       "seconds_per_iteration")
        training = {**{k: v for k, v in runs[0].items() if k not in per_network}, **config.to_dict(),
                    "networks": [{k: r.get(k) for k in per_network} for r in runs],
                    **({"discarded": discarded} if discarded else {})}
        model = SpikeModel(Ensemble([m.net for m in nets]), architecture=nets[0].architecture,
                           hparams=nets[0].hparams, preprocessing=nets[0].preprocessing, device=device,
                           readout=nets[0].readout)
        sha = model.save(output, {"training": training, "recipe": recipe.to_dict()})
    if not keep_checkpoint:
        for part in parts:
            part.unlink(missing_ok=True)
    log.info("ensemble of %d networks written to %s (sha256 %s)", len(parts), output, sha)
    return model, sha


def _ensemble_network(recipe: Recipe, k: int, part: Path, windows: Callable[[], TrainingWindows], run: dict,
                      discarded: list[dict]) -> SpikeModel:
    """Network ``k`` of ``recipe``'s ensemble: kept from ``part`` if it was trained with one of its
    seeds, else trained into it; a network whose output is constant (it learned nothing) is
    discarded (noted in ``discarded``) and the next seed of :func:`part_recipe` trained instead.  A seed
    whose initial network already gives a constant output (every unit of its ReLU output dead for any
    input: seeds 1, 4 and 5 of the default U-Net, which then learn nothing in ~700-1500 iterations) is
    discarded before training; the last seed is always trained."""
    attempts = range(SEED_TRIES)
    start = 0
    if part.is_file():
        recorded = safetensors_metadata(part).get("recipe")
        start = next((j for j in attempts if same_recipe(recorded, part_recipe(recipe, k, j))), None)
        if start is None:
            log.warning("%s was trained with other settings than network %d of recipe %s: retraining it",
                        part, k + 1, recipe.name)
            part.unlink()
            start = 0
    n = recipe.config.ensemble
    for attempt in attempts[start:]:
        one = part_recipe(recipe, k, attempt)
        if part.is_file():
            log.info("ensemble network %d/%d: kept %s", k + 1, n, part)
            model = create(recipe.architecture, weights=part, device=run["device"], **recipe.hparams)
        elif attempt != attempts[-1] and _constant_at_start(one, run["device"]):
            log.warning("ensemble network %d/%d (seed %d) gives a constant output before training: discarded",
                        k + 1, n, one.config.seed)
            discarded.append({"network": k, "seed": one.config.seed, "reason": "constant output at initialisation"})
            continue
        else:
            log.info("ensemble network %d/%d (seed %d)", k + 1, n, one.config.seed)
            model = _train_network(windows(), part, one, checkpoint=None, **run)[0]
        constant = outputs_constant(model.net, model.preprocessing.window)
        if not constant or attempt == attempts[-1]:
            break
        log.warning("ensemble network %d/%d (seed %d) gives a constant output: it learned nothing; discarded",
                    k + 1, n, one.config.seed)
        discarded.append({"network": k, "seed": one.config.seed, "reason": "constant output"})
        part.unlink()
    if constant:
        log.warning("ensemble network %d/%d learned nothing with any of the seeds %s (constant output): kept the "
                    "last; check the training data and settings (learning rate, iterations)", k + 1, n,
                    [part_recipe(recipe, k, j).config.seed for j in attempts])
    return model


def _constant_at_start(recipe: Recipe, device: str) -> bool:
    """Whether the network a run of ``recipe`` starts from (its seeded initialisation, or its
    ``init_weights``) gives a constant output, as :func:`~ens2zoo.training.fit.fit` would initialise it."""
    model = initial_model(recipe, device)
    if (init := initialisation(recipe.config, warm_start=recipe.config.init_weights is not None)) is not None:
        init(model.net)
    return outputs_constant(model.net, model.preprocessing.window)


def _train_network(windows: TrainingWindows, output: str | os.PathLike, recipe: Recipe, *,
                   datasets: Sequence[Dataset], device: str, checkpoint: str | os.PathLike | None, resume: bool,
                   keep_checkpoint: bool, log_interval: int, progress: bool | None,
                   selection: str | None) -> tuple[SpikeModel, str]:
    """Train one network of ``recipe`` on ``windows`` and save it with its record (see :func:`train_and_save`)."""
    config = recipe.config
    if config.hours:
        windows = windows.subset_hours(config.hours, seed=config.seed)
    model = initial_model(recipe, device)
    init_sha256 = model.sha256
    ckpt = Path(checkpoint or f"{output}.ckpt.safetensors")
    log.info("training %s (recipe %s) on %d datasets (%s); loss %s", recipe.architecture, recipe.name,
             len(datasets), windows, config.loss)
    model.fit(windows, config=config, progress=progress, checkpoint=ckpt, resume=resume,
              warm_start=config.init_weights is not None,
              callbacks=[log_every(log_interval)] if log_interval else ())
    report = model.training_report_
    training = {
        "datasets": [d.name for d in datasets], "neurons": sum(len(d.neurons) for d in datasets),
        **({"selection": selection} if selection else {}),
        "windows": len(windows), **config.to_dict(), "data_hours": round(windows.hours, 3),
        **({"init_sha256": init_sha256} if config.init_weights else {}),
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
