"""The model zoo's registry: architectures that can be built, and pretrained entries.

Two kinds of names, in the spirit of timm and torchvision:

* **architectures** (``list_architectures()``): ``nn.Module`` classes mapping
  (B, window) ΔF/F windows to (B, window) non-negative rates, built with
  ``create(arch, **hparams)``;
* **zoo models** (``list_models()``): a :class:`ModelEntry` per pretrained name —
  architecture, hyper-parameters, preprocessing, weights file, sha256,
  provenance and measured metrics — loaded with ``load(name)``.

Built-in architectures register themselves on import of
:mod:`ens2zoo.architectures`; built-in zoo entries come from
``zoo_weights/manifest.json``.  Third-party packages add both through the
``ens2zoo.models`` entry-point group (see :func:`discover_plugins`).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib.metadata
import inspect
import json
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from torch import nn

from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S, WINDOW
from ens2zoo.errors import RegistryError, UnknownNameError

ENTRY_POINT_GROUP = "ens2zoo.models"
ZOO_DIR_ENV = "ENS2ZOO_WEIGHTS_DIR"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Preprocessing:
    """How traces are prepared for a model (torchvision-style transforms metadata).

    Attributes:
        sampling_rate: Hz at which the model sees traces and reports rates.
        window: samples per network window.
        smoothing_sigma_s: seconds; σ of the Gaussian the model was trained to output.
    """

    sampling_rate: float = SAMPLING_RATE
    window: int = WINDOW
    smoothing_sigma_s: float = SMOOTHING_SIGMA_S


@dataclass(frozen=True)
class Architecture:
    """A buildable network: ``builder(**hparams)`` returns an ``nn.Module``."""

    name: str
    builder: Callable[..., nn.Module]
    source: str
    description: str = ""

    def defaults(self) -> dict[str, Any]:
        """The builder's keyword arguments with their default values."""
        params = inspect.signature(self.builder).parameters
        return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}


@dataclass(frozen=True)
class ModelEntry:
    """One pretrained zoo model.

    Attributes:
        name: zoo name, e.g. ``"ens2-exc"``.
        architecture: registered architecture name.
        hparams: keyword arguments for the architecture.
        weights: weights file (``.safetensors``); relative paths are resolved in the zoo folder.
        sha256: expected hash of ``weights``; ``load`` refuses a mismatch.
        preprocessing: sampling rate, window and smoothing the model expects.
        training_data: datasets the weights were trained on.
        metrics: measured figures (held-out medians etc.).
        provenance: who trained it, how, with which command.
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
    source: str = "ens2zoo"
    base_dir: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", MappingProxyType(dict(self.hparams)))
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))
        object.__setattr__(self, "training_data", tuple(self.training_data))

    @property
    def weights_path(self) -> Path | None:
        """Absolute path of the weights file, or None if the entry has none yet."""
        if not self.weights:
            return None
        path = Path(self.weights)
        if not path.is_absolute():
            path = Path(self.base_dir or zoo_dir()) / path
        return path

    @property
    def status(self) -> str:
        """``"available"`` or why ``load`` would fail."""
        path = self.weights_path
        if path is None:
            return "not trained yet"
        if not path.is_file():
            return "weights missing"
        return "available"

    @classmethod
    def from_manifest(cls, record: Mapping[str, Any], *, base_dir: Path, source: str) -> ModelEntry:
        record = dict(record)
        pre = Preprocessing(**record.pop("preprocessing", {}))
        known = {f for f in cls.__dataclass_fields__}
        extra = {k: record.pop(k) for k in list(record) if k not in known}
        provenance = dict(record.pop("provenance", {}), **extra)
        return cls(preprocessing=pre, provenance=provenance, base_dir=str(base_dir), source=source, **record)


class _Registry:
    def __init__(self) -> None:
        self.architectures: dict[str, Architecture] = {}
        self.models: dict[str, ModelEntry] = {}
        self._lock = threading.RLock()
        self._populated = False

    def populate(self) -> None:
        """Built-ins, the zoo manifest and plugins, once, on first use."""
        with self._lock:
            if self._populated:
                return
            self._populated = True
            import ens2zoo.architectures  # noqa: F401  (registers built-in architectures)

            for entry in read_manifest(zoo_dir()):
                self.add_model(entry)
            discover_plugins(self)

    def add_architecture(self, arch: Architecture) -> None:
        with self._lock:
            old = self.architectures.get(arch.name)
            if old is not None and old.builder is not arch.builder:
                raise RegistryError(f"architecture {arch.name!r} is registered twice: by {old.source} and by "
                                    f"{arch.source}; rename one of them")
            self.architectures[arch.name] = arch

    def add_model(self, entry: ModelEntry) -> None:
        with self._lock:
            old = self.models.get(entry.name)
            if old is not None and old != entry:
                raise RegistryError(f"zoo model {entry.name!r} is registered twice: by {old.source} and by "
                                    f"{entry.source}; rename one of them")
            self.models[entry.name] = entry


_REGISTRY = _Registry()


def zoo_dir() -> Path:
    """Folder of the zoo's own weights and manifest (``$ENS2ZOO_WEIGHTS_DIR`` or ``zoo_weights/``)."""
    env = os.environ.get(ZOO_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "zoo_weights"


def read_manifest(folder: Path, *, source: str = "ens2zoo") -> list[ModelEntry]:
    """Zoo entries described by ``folder/manifest.json`` (none if the file is absent)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        records = json.loads(path.read_text())["models"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path} is not a valid zoo manifest ({exc}); restore it from git") from exc
    return [ModelEntry.from_manifest(r, base_dir=Path(folder), source=source) for r in records]


def register_architecture(name: str | None = None, *, source: str = "ens2zoo", description: str = ""):
    """Decorator (or function) registering an ``nn.Module`` class or builder as an architecture.

    >>> @register_architecture("tiny")
    ... class Tiny(nn.Module): ...
    """

    def wrap(builder: Callable[..., nn.Module]):
        doc = description or (inspect.getdoc(builder) or "").split("\n")[0]
        _REGISTRY.add_architecture(Architecture(name or builder.__name__.lower(), builder, source, doc))
        return builder

    return wrap


def register_model(entry: ModelEntry) -> ModelEntry:
    """Register a pretrained zoo entry; returns it."""
    _REGISTRY.add_model(entry)
    return entry


def _match(names: Iterable[str], pattern: str) -> list[str]:
    patterns = [p.strip() for p in pattern.split(",") if p.strip()] or ["*"]
    return sorted(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns))


def list_architectures(pattern: str = "*") -> list[str]:
    """Names of buildable architectures matching a glob (comma-separated globs allowed)."""
    _REGISTRY.populate()
    return _match(_REGISTRY.architectures, pattern)


def list_models(pattern: str = "*") -> list[str]:
    """Names of zoo models matching a glob, e.g. ``list_models("ens2-*")``."""
    _REGISTRY.populate()
    return _match(_REGISTRY.models, pattern)


def _unknown(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}: {hint}known: {', '.join(known) or 'none'}")


def get_architecture(name: str) -> Architecture:
    """The registered architecture ``name`` (error lists close matches)."""
    _REGISTRY.populate()
    try:
        return _REGISTRY.architectures[name]
    except KeyError:
        raise _unknown("architecture", name, _REGISTRY.architectures) from None


def get_model_entry(name: str) -> ModelEntry:
    """The registered zoo entry ``name`` (error lists close matches)."""
    _REGISTRY.populate()
    try:
        return _REGISTRY.models[name]
    except KeyError:
        raise _unknown("zoo model", name, _REGISTRY.models) from None


def discover_plugins(registry: _Registry = _REGISTRY) -> None:
    """Load every ``ens2zoo.models`` entry point.

    An entry point may name an ``nn.Module`` subclass (registered as an
    architecture under the entry point's name) or a callable returning a
    :class:`ModelEntry`, an :class:`Architecture` or an iterable of them.  A
    plugin that fails to import is reported with a warning and skipped; a name
    clash raises :class:`RegistryError` naming both sources.
    """
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        source = f"plugin {ep.value!r} ({ep.dist.name if ep.dist else 'unknown distribution'})"
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the registry
            warnings.warn(f"ens2zoo plugin {ep.name!r} ({ep.value}) failed to load and is skipped: "
                          f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
            continue
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            doc = (inspect.getdoc(obj) or "").split("\n")[0]
            registry.add_architecture(Architecture(ep.name, obj, source, doc))
            continue
        if not callable(obj):
            warnings.warn(f"ens2zoo plugin {ep.name!r} ({ep.value}) is neither an nn.Module class nor a "
                          "callable and is skipped", RuntimeWarning, stacklevel=2)
            continue
        produced = obj()
        items = [produced] if isinstance(produced, (ModelEntry, Architecture)) else list(produced or ())
        for item in items:
            if isinstance(item, Architecture):
                registry.add_architecture(Architecture(item.name, item.builder, source, item.description))
            elif isinstance(item, ModelEntry):
                registry.add_model(ModelEntry(**{**item.__dict__, "source": source}))
            else:
                raise RegistryError(f"{source} returned {type(item).__name__}; expected ModelEntry or Architecture")
