"""Third-party models through the ``ens2zoo.models`` entry-point group (read with ``importlib.metadata``)."""

from __future__ import annotations

import importlib.metadata
import inspect
import warnings
from typing import Protocol

from ens2zoo.errors import RegistryError
from ens2zoo.zoo.entries import Architecture, ModelEntry

ENTRY_POINT_GROUP = "ens2zoo.models"


class RegistrySink(Protocol):
    """Where discovered plugins go (the registry)."""

    def add_architecture(self, arch: Architecture) -> None: ...

    def add_model(self, entry: ModelEntry) -> None: ...


def discover_plugins(registry: RegistrySink) -> None:
    """Load every ``ens2zoo.models`` entry point.

    An entry point may name an ``nn.Module`` subclass (registered as an
    architecture under the entry point's name) or a callable returning a
    :class:`ModelEntry`, an :class:`Architecture` or an iterable of them.  A
    plugin that fails to import is reported with a warning and skipped; a name
    clash raises :class:`RegistryError` naming both sources.
    """
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    if not eps:
        return
    from torch import nn  # plugins are torch modules

    for ep in eps:
        source = f"plugin {ep.value!r} ({ep.dist.name if ep.dist else 'unknown distribution'})"
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the registry
            warnings.warn(f"ens2zoo plugin {ep.name!r} ({ep.value}) failed to load and is skipped: "
                          f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
            continue
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            doc = (inspect.getdoc(obj) or "").split("\n")[0]
            readout = getattr(obj, "ENS2ZOO_READOUT", "overlap-add")
            registry.add_architecture(Architecture(ep.name, obj, source, doc, readout))
            continue
        if not callable(obj):
            warnings.warn(f"ens2zoo plugin {ep.name!r} ({ep.value}) is neither an nn.Module class nor a "
                          "callable and is skipped", RuntimeWarning, stacklevel=2)
            continue
        produced = obj()
        items = [produced] if isinstance(produced, (ModelEntry, Architecture)) else list(produced or ())
        for item in items:
            if isinstance(item, Architecture):
                registry.add_architecture(Architecture(item.name, item.builder, source, item.description, item.readout))
            elif isinstance(item, ModelEntry):
                registry.add_model(ModelEntry(**{**item.__dict__, "source": source}))
            else:
                raise RegistryError(f"{source} returned {type(item).__name__}; expected ModelEntry or Architecture")
