"""ens2zoo: spike inference from calcium imaging with the ENS² model zoo.

>>> import ens2zoo
>>> model = ens2zoo.load("ens2-exc")
>>> result = model.predict(dff, frame_rate=30.0)   # dff: neurons × frames ΔF/F
>>> result.rate, result.spikes, result.events      # 60 Hz rate, counts, spike times (s)
"""

from ens2zoo._version import __version__
from ens2zoo.errors import Ens2ZooError, InputError, RegistryError, UnknownNameError, WeightsError
from ens2zoo.model import SpikeModel
from ens2zoo.registry import (
    Architecture,
    ModelEntry,
    Preprocessing,
    get_architecture,
    get_model_entry,
    list_architectures,
    list_models,
    register_architecture,
    register_model,
)
from ens2zoo.result import SpikeResult
from ens2zoo.zoo import create, load

__all__ = [
    "Architecture", "Ens2ZooError", "InputError", "ModelEntry", "Preprocessing", "RegistryError",
    "SpikeModel", "SpikeResult", "UnknownNameError", "WeightsError", "__version__", "create",
    "get_architecture", "get_model_entry", "list_architectures", "list_models", "load",
    "register_architecture", "register_model",
]
