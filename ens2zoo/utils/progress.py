"""Progress reporting: ``None``/``False`` (silent), ``True`` (a tqdm bar) or a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ens2zoo.errors import InputError

#: ``None``/``False``: silent; ``True``: a tqdm bar; a callable ``f(done, total, name)``.
ProgressArg = Callable[[int, int, str], object] | bool | None


def progress_callback(progress: ProgressArg, total: int, desc: str, unit: str = "item"
                      ) -> tuple[Callable[[int, int, str], object] | None, Any]:
    """``(callback, bar)``: a ``f(done, total, name)`` callback (None when silent) and the bar to close."""
    if progress is None or progress is False:
        return None, None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit)
        return (lambda done, n, name: bar.update(1)), bar
    if callable(progress):
        return progress, None
    raise InputError(f"progress={progress!r}: pass None, True (a tqdm bar) or a callable f(done, total, name)")
