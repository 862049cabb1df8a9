"""Argument checks shared by inference, data and training."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable

from ens2zoo.errors import InputError


def check_rate(value: object, name: str = "frame rate", *, flag: str = "--frame-rate HZ") -> float:
    """A positive, finite rate in Hz, or :class:`InputError` naming ``name`` and how to give it."""
    if value is None:
        raise InputError(f"the {name} is missing: pass it in Hz (e.g. 30), or {flag} on the command line")
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{name} {value!r} is not a number: give it in Hz, e.g. 30") from None
    if not math.isfinite(rate) or rate <= 0:
        raise InputError(f"{name} {value!r} must be a positive number of Hz, e.g. 30")
    return rate


def split_globs(pattern: str) -> list[str]:
    """Comma-separated shell globs → list (blanks dropped), e.g. ``"DS0[2-9]*, DS1*"``."""
    return [g.strip() for g in str(pattern).split(",") if g.strip()]


def match_globs(names: Iterable[str], pattern: str, *, empty_means_all: bool = True) -> list[str]:
    """Sorted ``names`` matching any glob of the comma-separated ``pattern``."""
    globs = split_globs(pattern)
    if not globs:
        if not empty_means_all:
            raise InputError(f"pattern={pattern!r} holds no glob; pass e.g. '*' or 'DS0[2-9]*,DS1*'")
        globs = ["*"]
    return sorted(n for n in names if any(fnmatch.fnmatchcase(n, g) for g in globs))
