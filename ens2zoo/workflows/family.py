"""Training a family recipe: every member on the same data, then the routed family folder.

``ens2zoo train --recipe ens2-gcamp8 -o FOLDER`` (and ``ens2-exc``, ``ens2-inh``) runs
:func:`train_family`.  A member whose weights are already in FOLDER and were trained with
its recipe is kept, and an interrupted member resumes from its checkpoint, so the command
can be re-run until the family is complete.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ens2zoo.data import Dataset
from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.errors import InputError
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.recipes import FamilyRecipe, Recipe, same_recipe
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.workflows.runner import train_and_save
from ens2zoo.zoo.entries import indicator_key
from ens2zoo.zoo.manifest import read_records, write_family

log = logging.getLogger(__name__)


def trained_ranges(datasets: Sequence[Dataset], reimage: ReimageSpec | None
                   ) -> tuple[tuple[float, float], tuple[float, float]]:
    """((lowest, highest) frame rate in Hz, (lowest, highest) ν in %·Hz^-1/2) of the training data:
    the neurons' own (mean per neuron, rounded to 0.1 Hz and 0.01) widened by the re-imaging spec
    (copies are re-imaged at its frame rates, with noise up to its highest ν)."""
    neurons = [n for d in datasets for n in d.neurons]
    if not neurons:
        raise InputError("no training neuron: the data selection is empty")
    rates = [n.frame_rate for n in neurons] + list(reimage.frame_rates if reimage else ())
    nus = [n.noise_level for n in neurons]
    highest_nu = max(max(nus), reimage.noise_levels[1] if reimage else 0.0)
    return (round(min(rates), 1), round(max(rates), 1)), (round(min(nus), 2), round(highest_nu, 2))


def _trained_with(weights: Path, recipe: Recipe, vouched: str | None) -> bool:
    """Whether ``weights`` were trained with ``recipe``: as their header records it, or — for weights
    written before headers recorded recipes — as the folder's family manifest names it."""
    recorded = safetensors_metadata(weights).get("recipe")
    if recorded is None:
        return vouched == recipe.name
    return same_recipe(recorded, recipe)


def train_family(family: FamilyRecipe, datasets: Sequence[Dataset], output: str | os.PathLike, *,
                 selection: str | None = None,
                 device: str = "cpu", resume: bool = False, log_interval: int = 100,
                 progress: bool | None = None) -> dict[str, Any]:
    """Train ``family``'s members on ``datasets`` and write the family folder ``output``.

    Args:
        family: the family recipe (members, their recipes and ν ranges; its ``overrides`` — speed
            settings, or ``max_iter`` for a smoke test — apply to every member and are recorded).
        datasets: the training data (every member trains on the same neurons).
        output: the family folder (created): ``<member>.safetensors`` and ``manifest.json``.
        selection: the data selection, recorded in each member's weights.
        device, resume, log_interval, progress: as for :func:`~ens2zoo.workflows.runner.train_and_save`.

    Returns:
        The family's manifest record.
    """
    folder = Path(output)
    if folder.suffix:
        raise InputError(f"-o {folder}: a family recipe writes a folder (its members and manifest.json); "
                         "give a folder name without a suffix")
    folder.mkdir(parents=True, exist_ok=True)
    vouched = {m.get("name"): m.get("recipe") for r in read_records(folder) if r.get("name") == family.name
               for m in r.get("members", [])}
    members = []
    for member, recipe in zip(family.members, family.member_recipes()):
        weights = folder / f"{member.name}.safetensors"
        if weights.is_file() and _trained_with(weights, recipe, vouched.get(member.name)):
            log.info("%s: kept %s (trained with recipe %s)", family.name, weights, recipe.name)
        else:
            if weights.is_file():
                raise InputError(f"{weights} was trained with another recipe than {recipe.name!r}: move it away "
                                 "to retrain it")
            log.info("%s: training member %s (recipe %s)", family.name, member.name, recipe.name)
            train_and_save(datasets, weights, recipe, device=device, resume=resume, log_interval=log_interval,
                           progress=progress, selection=selection)
        rates, nus = trained_ranges(datasets, recipe.config.reimage)
        members.append({"name": member.name, "weights": weights, "noise_range": list(member.noise_range),
                        "frame_rate_range": list(member.frame_rate_range),
                        "recipe": recipe.name,
                        "trained_frame_rates": list(rates), "trained_noise_levels": list(nus)})
    where = f"; trained on {selection}" if selection else ""
    capped = {k: v for k, v in family.overrides.items() if k not in TrainingConfig.SPEED_KEYS}
    indicators = tuple(sorted({indicator_key(d.indicator) for d in datasets}))
    return write_family(folder, family.name, members, description=family.description + where,
                       provenance={"family_recipe": family.to_dict(),
                                   **({"overrides": capped} if capped else {})},
                       indicators=indicators, spike_estimator=family.spike_estimator)
