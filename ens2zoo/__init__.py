"""ens2zoo: spike inference from calcium imaging with the ENS² model zoo.

>>> import ens2zoo
>>> model = ens2zoo.load("ens2-exc")
>>> result = model.predict(dff, frame_rate=30.0)   # dff: neurons × frames ΔF/F
>>> result.rate, result.spikes, result.events      # 60 Hz rate, counts, spike times (s)

The public names are exported lazily (PEP 562): ``import ens2zoo`` or
``import ens2zoo.metrics`` loads neither torch nor the registry until a name that
needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ens2zoo._version import __version__
from ens2zoo.errors import Ens2ZooError, InputError, RegistryError, UnknownNameError, WeightsError

#: public name → module that defines it
_LAZY = {
    "SpikeModel": "ens2zoo.model",
    "SpikeResult": "ens2zoo.inference.result",
    "Architecture": "ens2zoo.zoo.entries",
    "FamilyMember": "ens2zoo.zoo.entries",
    "ModelEntry": "ens2zoo.zoo.entries",
    "Preprocessing": "ens2zoo.zoo.entries",
    "get_architecture": "ens2zoo.zoo.registry",
    "get_model_entry": "ens2zoo.zoo.registry",
    "list_architectures": "ens2zoo.zoo.registry",
    "list_models": "ens2zoo.zoo.registry",
    "register_architecture": "ens2zoo.zoo.registry",
    "register_model": "ens2zoo.zoo.registry",
    "create": "ens2zoo.workflows.factory",
    "load": "ens2zoo.workflows.factory",
    "load_folder": "ens2zoo.workflows.factory",
    "noise_level": "ens2zoo.inference.noise",
    "TrainingConfig": "ens2zoo.training.config",
    "dff": "ens2zoo.io.dff",
}

__all__ = [
    "Architecture", "Ens2ZooError", "FamilyMember", "InputError", "ModelEntry", "Preprocessing", "RegistryError",
    "SpikeModel", "SpikeResult", "TrainingConfig", "UnknownNameError", "WeightsError", "__version__", "create", "dff",
    "get_architecture", "get_model_entry", "list_architectures", "list_models", "load", "load_folder",
    "noise_level",
    "register_architecture", "register_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ens2zoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # static type checkers see the eager imports
    from ens2zoo.inference.noise import noise_level
    from ens2zoo.inference.result import SpikeResult
    from ens2zoo.io.dff import dff
    from ens2zoo.model import SpikeModel
    from ens2zoo.training.config import TrainingConfig
    from ens2zoo.workflows.factory import create, load, load_folder
    from ens2zoo.zoo.entries import Architecture, FamilyMember, ModelEntry, Preprocessing
    from ens2zoo.zoo.registry import (
        get_architecture,
        get_model_entry,
        list_architectures,
        list_models,
        register_architecture,
        register_model,
    )
