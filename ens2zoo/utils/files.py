"""File helpers: the cache folders, content hashes, safetensors headers and output suffixes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ens2zoo.errors import InputError


def cache_dir() -> Path:
    """The user cache folder (not created): ``$ENS2ZOO_CACHE``, else ``$XDG_CACHE_HOME/ens2zoo``,
    else ``~/.cache/ens2zoo``."""
    env = os.environ.get("ENS2ZOO_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ens2zoo"


def use_inductor_cache() -> None:
    """Point ``torch.compile``'s on-disk cache at ``<cache_dir()>/inductor`` unless
    ``$TORCHINDUCTOR_CACHE_DIR`` is set already (compiled graphs are then reused across processes)."""
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir() / "inductor"))


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safetensors_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON-decoded ``__metadata__`` of a safetensors file's header (``{}`` if it has none).

    Values written by :func:`ens2zoo.zoo.weights.write_safetensors` are JSON strings; others are
    returned as the strings they are.
    """
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        raw = fh.metadata() or {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def check_suffix(path: str | os.PathLike, allowed: tuple[str, ...], what: str, flag: str = "-o") -> Path:
    """``path`` as a Path if its suffix (case-insensitive) is one of ``allowed``, else :class:`InputError`."""
    path = Path(path)
    if path.suffix.lower() not in allowed:
        raise InputError(f"{flag} {path}: {what} must end in {', '.join(allowed)}")
    return path
