"""Finding ground-truth dataset folders (``DSnn-*`` holding ``.mat`` files): the one place that does it."""

from __future__ import annotations

from pathlib import Path

from ens2zoo.data.dataset import EXCITATORY, INHIBITORY, cell_type_of
from ens2zoo.errors import InputError
from ens2zoo.utils.checks import match_globs


def find_datasets(root: str | Path, pattern: str = "*",
                  cell_type: str | None = None) -> list[Path]:
    """Dataset folders (``DS*`` holding ``.mat`` files) under ``root``, sorted by name.

    Args:
        root: the ground-truth folder.
        pattern: comma-separated shell globs matched against folder names, e.g.
            ``"DS0[2-9]*,DS1*,DS2[01]*"``; a folder matching any of them is kept.
        cell_type: ``"excitatory"`` (DS01–DS21), ``"inhibitory"`` (DS22–DS27) or
            None for both.

    Returns:
        The selected folders; empty if nothing matches.

    Raises:
        InputError: ``root`` is not a folder, or ``cell_type`` is not one of the above.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder; pass the ground-truth folder holding "
                         "the DSnn-... dataset folders")
    if cell_type not in (None, EXCITATORY, INHIBITORY):
        raise InputError(f"cell_type={cell_type!r}: pass 'excitatory', 'inhibitory' or None")
    names = set(match_globs([p.name for p in root.iterdir()], pattern, empty_means_all=False))
    found = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not (folder.is_dir() and folder.name.startswith("DS")) or folder.name not in names:
            continue
        if cell_type is not None and cell_type_of(folder.name) != cell_type:
            continue
        if not any(folder.glob("*.mat")):
            continue
        found.append(folder)
    return found
