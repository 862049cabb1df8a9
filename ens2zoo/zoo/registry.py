"""The model zoo's registry: architectures that can be built, and pretrained entries.

Two kinds of names, in the spirit of timm and torchvision:

* **architectures** (``list_architectures()``): ``nn.Module`` classes with a read-out
  mode (:data:`~ens2zoo.zoo.entries.READOUTS`), built with ``create(arch, **hparams)``;
* **zoo models** (``list_models()``): a :class:`ModelEntry` per pretrained name —
  architecture, hyper-parameters, preprocessing, weights file, sha256,
  provenance and measured metrics — loaded with ``load(name)``.

On first use the registry fills itself with the built-in architectures
(:mod:`ens2zoo.zoo.builtins`), the zoo manifest (:mod:`ens2zoo.zoo.manifest`) and
plugins (:mod:`ens2zoo.zoo.plugins`).
"""

from __future__ import annotations

import difflib
import inspect
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ens2zoo.errors import RegistryError, UnknownNameError
from ens2zoo.utils.checks import match_globs
from ens2zoo.zoo.entries import Architecture, ModelEntry, zoo_dir
from ens2zoo.zoo.manifest import read_manifest
from ens2zoo.zoo.plugins import discover_plugins

if TYPE_CHECKING:
    from torch import nn


class Registry:
    """Architectures and zoo entries by name (thread-safe; filled once on first use)."""

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
            from ens2zoo.zoo.builtins import BUILTIN_ARCHITECTURES  # torch modules: only when needed

            for arch in BUILTIN_ARCHITECTURES:
                self.add_architecture(arch)
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


REGISTRY = Registry()


def register_architecture(name: str | None = None, *, source: str = "ens2zoo", description: str = "",
                          readout: str = "overlap-add"):
    """Decorator (or function) registering an ``nn.Module`` class or builder as an architecture.

    ``readout`` is one of :data:`~ens2zoo.zoo.entries.READOUTS` (how ``predict`` reads the outputs).

    >>> @register_architecture("tiny")
    ... class Tiny(nn.Module): ...
    """

    def wrap(builder: Callable[..., nn.Module]):
        doc = description or (inspect.getdoc(builder) or "").split("\n")[0]
        REGISTRY.add_architecture(Architecture(name or builder.__name__.lower(), builder, source, doc, readout))
        return builder

    return wrap


def register_model(entry: ModelEntry) -> ModelEntry:
    """Register a pretrained zoo entry; returns it."""
    REGISTRY.add_model(entry)
    return entry


def list_architectures(pattern: str = "*") -> list[str]:
    """Names of buildable architectures matching a glob (comma-separated globs allowed)."""
    REGISTRY.populate()
    return match_globs(REGISTRY.architectures, pattern)


def list_models(pattern: str = "*") -> list[str]:
    """Names of zoo models matching a glob, e.g. ``list_models("ens2-*")``."""
    REGISTRY.populate()
    return match_globs(REGISTRY.models, pattern)


def _unknown(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}: {hint}known: {', '.join(known) or 'none'}")


def get_architecture(name: str) -> Architecture:
    """The registered architecture ``name`` (error lists close matches)."""
    REGISTRY.populate()
    try:
        return REGISTRY.architectures[name]
    except KeyError:
        raise _unknown("architecture", name, REGISTRY.architectures) from None


def get_model_entry(name: str) -> ModelEntry:
    """The registered zoo entry ``name`` (error lists close matches)."""
    REGISTRY.populate()
    try:
        return REGISTRY.models[name]
    except KeyError:
        raise _unknown("zoo model", name, REGISTRY.models) from None


