"""Named training recipes: an architecture, its hyper-parameters and a :class:`TrainingConfig`.

``ens2zoo train --recipe NAME`` and ``ens2zoo benchmark --recipe NAME`` select one; its
name is recorded in the weights' metadata and the zoo manifest and names the benchmark's
output files (``<recipe>_lodo_DSxx.*``).  A fold's weights are reused only when they were
trained with the same recipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.errors import UnknownNameError
from ens2zoo.training.config import TrainingConfig


@dataclass(frozen=True)
class Recipe:
    """A named, recorded way to train.

    Attributes:
        name: recipe name (names output files).
        architecture: registered architecture.
        hparams: its hyper-parameters (missing ones take the architecture's defaults).
        config: the training settings.
        description: one line.
        datasets: the training data it is meant for: a dataset group of
            :data:`ens2zoo.data.groups.GROUPS` or a selection (``--datasets`` overrides it).
    """

    name: str
    architecture: str = "unet"
    hparams: Mapping[str, Any] = field(default_factory=dict)
    config: TrainingConfig = field(default_factory=TrainingConfig)
    description: str = ""
    datasets: str = "excitatory"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (stored in weights metadata and the manifest)."""
        return {"name": self.name, "architecture": self.architecture, "hparams": dict(self.hparams),
                "config": self.config.to_dict(), "description": self.description, "datasets": self.datasets}


_LODO = TrainingConfig(max_iter=1500, loss_window=100)
_ZOO = TrainingConfig(max_iter=3000, loss_window=100)
#: the noise-matched training data: the recordings plus 3 re-imaged copies (7.5/15/30 Hz, ν 1–9)
_NOISE_MATCHED = ReimageSpec(frame_rates=(7.5, 15.0, 30.0), noise_levels=(1.0, 9.0), copies=3)
#: the CASCADE peer: its optimiser and batch on the noise-matched data
#: GCaMP8 members: the recordings (~122 Hz) plus copies re-imaged at the frame rates labs use
_GCAMP8_RATES = (7.5, 15.0, 30.0, 60.0)
#: ... at their own noise (ν 0 = add none): the recordings as they are, at any frame rate
_GCAMP8_OWN_NOISE = ReimageSpec(frame_rates=_GCAMP8_RATES, noise_levels=(0.0, 0.0), copies=2)
#: ... and with white noise up to ν 20 (noisy ROIs straight from suite2p)
_GCAMP8_NOISE_MATCHED = ReimageSpec(frame_rates=_GCAMP8_RATES, noise_levels=(1.0, 20.0), copies=4)
_GCAMP8 = TrainingConfig(max_iter=1500, loss_window=100)
_CASCADE = TrainingConfig(optimizer="adagrad", batch_size=8192, max_iter=6000, loss_window=100, reimage=_NOISE_MATCHED)

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("published", "unet", config=TrainingConfig(),
           description="the published ENS² protocol: U-Net, MSE, patience 500 on each batch's loss, ≤ 5000 iterations"),
    Recipe("unet", "unet", config=_LODO,
           description="U-Net for the LODO table: 1500 iterations, early stopping on the 100-iteration mean loss"),
    Recipe("mlp", "mlp", config=_LODO, description="FCNet MLP, LODO setting"),
    Recipe("cnn", "cnn", config=_LODO, description="LeNet-style CNN, LODO setting"),
    Recipe("lstm", "lstm", config=_LODO.replace(batch_size=256), description="bidirectional LSTM, LODO setting"),
    Recipe("ens2-nm", "unet", config=_ZOO.replace(reimage=_NOISE_MATCHED),
           description="noise- and frame-rate-matched U-Net: the data plus 3 re-imaged copies "
                       "(7.5/15/30 Hz, ν 1–9), 3000 iterations, 100-iteration loss mean"),
    Recipe("cascade", "cascade", config=_CASCADE,
           description="peer: CASCADE's network, loss (MSE), optimiser (Adagrad, Keras defaults) and batch "
                       "(8192) on the noise-matched data of ens2-nm; one model across ν 1–9 (CASCADE trains "
                       "one ensemble per integer ν); at most 6000 iterations, early stopping on the "
                       "100-iteration loss mean (patience 500)"),
    Recipe("cascade-fixed", "cascade", config=_CASCADE.replace(patience=_CASCADE.max_iter),
           description="peer: recipe cascade without early stopping, all 6000 iterations: CASCADE's own "
                       "budget (10 epochs of at most 5,000,000 windows at batch 8192, ~6,100 iterations "
                       "per model, no early stopping)"),
    Recipe("ens2-v1", "unet", config=_ZOO,
           description="the zoo's first U-Nets (ens2-exc-v1, ens2-inh-v1): 3000 iterations, 100-iteration loss mean"),
    Recipe("ens2-gcamp8-v1", "unet", config=_GCAMP8.replace(reimage=_GCAMP8_OWN_NOISE), datasets="gcamp8",
           description="jGCaMP8 U-Net for the recordings as they are: DS30-DS32 plus 2 copies re-imaged at "
                       "7.5/15/30/60 Hz at their own noise, 1500 iterations, 100-iteration loss mean"),
    Recipe("ens2-gcamp8-nm", "unet", config=_GCAMP8.replace(reimage=_GCAMP8_NOISE_MATCHED), datasets="gcamp8",
           description="noise-matched jGCaMP8 U-Net: DS30-DS32 plus 4 copies re-imaged at 7.5/15/30/60 Hz "
                       "and ν 1-20, 1500 iterations, 100-iteration loss mean"),
)}


def get_recipe(name: str) -> Recipe:
    """The recipe ``name`` (error lists the known ones)."""
    try:
        return RECIPES[name]
    except KeyError:
        raise UnknownNameError(f"unknown recipe {name!r}: known: {', '.join(sorted(RECIPES))}") from None


def list_recipes() -> list[str]:
    return sorted(RECIPES)
