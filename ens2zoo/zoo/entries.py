"""What the zoo describes: preprocessing, architectures (with their read-out mode) and pretrained entries.

These are plain frozen records; :mod:`ens2zoo.zoo.registry` keeps them by name and
:mod:`ens2zoo.zoo.manifest` reads and writes them as JSON.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S, SPIKE_ESTIMATORS, WINDOW
from ens2zoo.errors import RegistryError

if TYPE_CHECKING:
    from torch import nn

#: Environment variable overriding the folder of the zoo's weights and manifest.
ZOO_DIR_ENV = "ENS2ZOO_WEIGHTS_DIR"

#: Read-out modes an architecture can declare (how ``SpikeModel.predict`` turns its outputs into a rate):
#:
#: * ``"overlap-add"``: (B, window) → (B, window) rates; every window's outputs are added back
#:   where they came from and divided by the window (the published ENS² read-out);
#: * ``"centre"``: (B, window) → (B,) or (B, 1); one output per window, at its centre sample
#:   (the CASCADE read-out);
#: * ``"whole-trace"``: (B, T) → (B, T) for any T; no windows at all (fully convolutional models).
READOUTS = ("overlap-add", "centre", "whole-trace")


def zoo_dir() -> Path:
    """Folder of the zoo's weights and manifest.

    ``$ENS2ZOO_WEIGHTS_DIR`` if set; else ``ens2zoo/zoo_weights`` inside an installed
    package (the wheel maps the repository's top-level ``zoo_weights/`` there); else the
    source tree's ``zoo_weights/`` (editable installs and checkouts).
    """
    env = os.environ.get(ZOO_DIR_ENV)
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    installed = package / "zoo_weights"
    return installed if installed.is_dir() else package.parent / "zoo_weights"


#: key of :attr:`ModelEntry.count_calibration` used when ``predict`` is given no indicator
DEFAULT_GAIN = "default"


def indicator_key(name: str) -> str:
    """An indicator's key for calibrations and manifests: ``"jGCaMP8f"``, ``"GCaMP8f"`` → ``"gcamp8f"``."""
    key = str(name).strip().lower().replace("_", "").replace(" ", "")
    return key[1:] if key.startswith("j") and key[1:].startswith(("gcamp", "rcamp", "rgeco", "geco")) else key


@dataclass(frozen=True)
class Preprocessing:
    """How traces are prepared for a model (torchvision-style transforms metadata).

    Attributes:
        sampling_rate: Hz at which the model sees traces and reports rates.
        window: samples per network window (at ``sampling_rate``); ignored by whole-trace models.
        smoothing_sigma_s: seconds; σ of the Gaussian the model was trained to output.
        flat_guard: zero the rate inside flat stretches of the input (see
            :mod:`ens2zoo.inference.silence`); on for the zoo's models, off for ``create``.
        spike_estimator: how ``predict`` turns the rate into discrete spikes by default, one of
            :data:`~ens2zoo.defaults.SPIKE_ESTIMATORS`: ``"greedy"`` (ENS²'s published
            estimator) or ``"count"`` (as many spikes as the rate sums to).
    """

    sampling_rate: float = SAMPLING_RATE
    window: int = WINDOW
    smoothing_sigma_s: float = SMOOTHING_SIGMA_S
    flat_guard: bool = False
    spike_estimator: str = "greedy"

    def __post_init__(self) -> None:
        if self.spike_estimator not in SPIKE_ESTIMATORS:
            raise RegistryError(f"preprocessing: spike_estimator {self.spike_estimator!r} is not one of "
                                f"{', '.join(SPIKE_ESTIMATORS)}")


@dataclass(frozen=True)
class Architecture:
    """A buildable network: ``builder(**hparams)`` returns an ``nn.Module``.

    Attributes:
        readout: one of :data:`READOUTS`.
    """

    name: str
    builder: Callable[..., nn.Module]
    source: str
    description: str = ""
    readout: str = "overlap-add"

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise RegistryError(f"architecture {self.name!r}: read-out {self.readout!r} is not one of {READOUTS}")

    def defaults(self) -> dict[str, Any]:
        """The builder's keyword arguments with their default values."""
        params = inspect.signature(self.builder).parameters
        return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}

    @property
    def uses_windows(self) -> bool:
        return self.readout != "whole-trace"


@dataclass(frozen=True)
class FamilyMember:
    """One network of a model family, serving the neurons whose noise level lies in ``noise_range``
    (and, where it has one, whose recording's frame rate lies in ``frame_rate_range``).  A neuron goes to
    the first member of the family that serves it.

    Attributes:
        name: member name, e.g. ``"nu2-4"``.
        weights: its ``.safetensors`` file (relative to the entry's folder).
        sha256: expected hash of ``weights``.
        noise_range: [low, high) ν it serves, %·Hz^-1/2 (``None`` bound = open).
        frame_rate_range: [low, high) frame rate it serves, Hz (``None`` bound = open; (None, None):
            every frame rate), e.g. a member trained at 30 Hz only.
        trained_frame_rates: (lowest, highest) frame rate, Hz, of its training data.
        trained_noise_levels: (lowest, highest) ν, %·Hz^-1/2, of its training data.
        recipe: name of the training recipe.
        metrics: its measured figures.
    """

    name: str
    weights: str
    sha256: str
    noise_range: tuple[float | None, float | None] = (None, None)
    frame_rate_range: tuple[float | None, float | None] = (None, None)
    trained_frame_rates: tuple[float, float] | None = None
    trained_noise_levels: tuple[float, float] | None = None
    recipe: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise_range", tuple(self.noise_range))
        object.__setattr__(self, "frame_rate_range", tuple(self.frame_rate_range))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))
        for attr in ("trained_frame_rates", "trained_noise_levels"):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, tuple(float(v) for v in value))

    def serves(self, noise_level: float) -> bool:
        """True if ``noise_level`` (%·Hz^-1/2) lies in ``noise_range``."""
        return _within(noise_level, self.noise_range)

    def serves_frame_rate(self, frame_rate: float) -> bool:
        """True if ``frame_rate`` (Hz) lies in ``frame_rate_range``."""
        return _within(frame_rate, self.frame_rate_range)


def _within(value: float, bounds: tuple[float | None, float | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value < high)


@dataclass(frozen=True)
class ModelEntry:
    """One pretrained zoo model: a single network, or a family of members routed by noise level.

    Attributes:
        name: zoo name, e.g. ``"ens2-exc"``.
        architecture: registered architecture name.
        hparams: keyword arguments for the architecture.
        weights: weights file (``.safetensors``); relative paths are resolved in the zoo folder.
            A family has no weights of its own: its ``members`` have.
        sha256: expected hash of ``weights``; ``load`` refuses a mismatch.
        preprocessing: sampling rate, window and smoothing the model expects.
        training_data: datasets the weights were trained on.
        metrics: measured figures (held-out medians etc.).
        provenance: who trained it, how, with which command (the whole ``TrainingConfig``).
        recipe: name of the training recipe (see :mod:`ens2zoo.training.recipes`).
        members: for a family, its :class:`FamilyMember` networks.
        trained_frame_rates: (lowest, highest) frame rate of the training data, Hz.
        trained_noise_levels: (lowest, highest) ν of the training data, %·Hz^-1/2.
        indicators: the calcium indicators of its training data (keys of :func:`indicator_key`).
        count_calibration: gain applied to the predicted rate, per indicator key, so that Σ rate
            matches the true spike count (``"default"``: when no indicator is given; missing = 1);
            fitted on held-out predictions of a selection fold, see its ``provenance``.
        count_noise_curve: knots ``(ν, factor)`` (ν in %·Hz^-1/2, increasing) of a further gain that
            depends on each neuron's ν (:meth:`count_noise_factor`), fitted with ``count_calibration``;
            empty = none.
        source: where the entry was registered (``"ens2zoo"`` or a plugin).
    """

    name: str
    architecture: str
    weights: str | None = None
    sha256: str | None = None
    hparams: Mapping[str, Any] = field(default_factory=dict)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    training_data: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    recipe: str | None = None
    members: tuple[FamilyMember, ...] = ()
    trained_frame_rates: tuple[float, float] | None = None
    trained_noise_levels: tuple[float, float] | None = None
    indicators: tuple[str, ...] = ()
    count_calibration: Mapping[str, float] = field(default_factory=dict)
    count_noise_curve: tuple[tuple[float, float], ...] = ()
    source: str = "ens2zoo"
    base_dir: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "indicators", tuple(self.indicators))
        gains = {indicator_key(k) if k != DEFAULT_GAIN else k: float(v) for k, v in self.count_calibration.items()}
        if not all(math.isfinite(v) and v > 0 for v in gains.values()):
            raise RegistryError(f"model {self.name!r}: count_calibration gains must be positive numbers ({gains})")
        object.__setattr__(self, "count_calibration", MappingProxyType(gains))
        curve = tuple((float(nu), float(f)) for nu, f in self.count_noise_curve)
        nus = [nu for nu, _ in curve]
        if not all(math.isfinite(v) and v > 0 for knot in curve for v in knot) or nus != sorted(set(nus)):
            raise RegistryError(f"model {self.name!r}: count_noise_curve must be (ν, factor) knots with positive "
                                f"factors and increasing positive ν ({curve})")
        object.__setattr__(self, "count_noise_curve", curve)
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))
        object.__setattr__(self, "training_data", tuple(self.training_data))
        object.__setattr__(self, "members", tuple(self.members))

    def count_noise_factor(self, noise_level: float) -> float:
        """The factor :attr:`count_noise_curve` gives a neuron of ν ``noise_level`` (%·Hz^-1/2): linear in
        log ν between the knots, the end knots' factors beyond them; 1 without a curve or a finite ν."""
        if not self.count_noise_curve or not math.isfinite(noise_level) or noise_level <= 0:
            return 1.0
        nus, factors = zip(*self.count_noise_curve)
        return float(np.interp(math.log(noise_level), np.log(nus), factors))

    @property
    def is_family(self) -> bool:
        return bool(self.members)

    def resolve(self, file: str | None) -> Path | None:
        """Absolute path of a weights file named in this entry (None for None)."""
        if not file:
            return None
        path = Path(file)
        return path if path.is_absolute() else Path(self.base_dir or zoo_dir()) / path

    @property
    def weights_path(self) -> Path | None:
        """Absolute path of the weights file, or None if the entry has none (yet, or is a family)."""
        return self.resolve(self.weights)

    @property
    def status(self) -> str:
        """``"available"`` or why ``load`` would fail."""
        files = [self.resolve(m.weights) for m in self.members] if self.members else [self.weights_path]
        if any(f is None for f in files):
            return "not trained yet"
        if not all(f.is_file() for f in files):
            return "weights missing"
        return "available"
