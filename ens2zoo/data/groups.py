"""The dataset catalogue: named groups of ground-truth datasets, their folds, and neuron selections.

A *selection* is a comma-separated list of items, each a shell glob of dataset folder
names (``DS0[2-9]*``) optionally followed by ``/`` and a glob of neuron file names
(``DS3[0-2]*/*_471993_*``: one mouse's neurons of the GCaMP8 datasets).  Dataset-level
items keep every neuron of the folders they match.  Every script and command asks this
module for the groups and folds instead of retyping them.

ENS² folds: leave one dataset out (LODO).  :data:`EXCITATORY_FOLDS` are the paper's 19
excitatory folds (DS01 never trains; DS13 has no fold), :data:`INHIBITORY_FOLDS` the six
inhibitory ones; :data:`REPORT_FOLDS` are the five folds the zoo's recipes are reported on,
:data:`PEER_FOLDS` the eight the peers are trained on, and :data:`FAST_SELECTION_FOLDS` the
folds the fast model's recipe was chosen on (:data:`FAST_REPORT_FOLDS` its report folds).  A
fold's files are named by :func:`lodo_name`; :data:`PAPER_CONDITIONS` is the paper's grid of
recording conditions.

GCaMP8 folds: the mouse is the first number in each file name
(``CAttached_jGCaMP8f_<mouse>_<cell>_mini.mat``).  A new user's mouse is the unseen case,
so the GCaMP8 group is cross-validated over *mouse folds*: the mice of each variant
(8f, 8m, 8s), sorted by number, are dealt to folds ``M1``–``M5`` in turn (mouse i of a
variant to fold i mod 5), so every fold holds out one or two mice of every variant and
trains on all other GCaMP8 mice.  ``M1`` is the selection fold (designs are chosen
there); ``M2``–``M5`` are the report folds.  The *variant folds* ``DS30``–``DS32`` leave one
jGCaMP8 variant out (train on the other two): how a model carries over to a variant it never
saw (:data:`GCAMP8_VARIANT_FOLDS`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ens2zoo.data.dataset import Dataset
from ens2zoo.errors import InputError
from ens2zoo.utils.checks import split_globs

__all__ = [
    "EXCITATORY_FOLDS", "FAST_REPORT_FOLDS", "FAST_SELECTION_FOLDS", "GCAMP8_CONDITIONS", "GCAMP8_MICE",
    "GCAMP8_MOUSE_FOLDS", "GCAMP8_REPORT_FOLDS", "GCAMP8_SELECTION_FOLDS", "GCAMP8_VARIANT_FOLDS", "GROUPS",
    "INHIBITORY_FOLDS", "PAPER_CONDITIONS", "PEERS", "PEER_FOLDS", "REIMAGED_CONDITIONS", "REPORT_FOLDS", "Fold",
    "dataset_pattern", "get_fold", "group_pattern", "lodo_name", "mouse_of", "select_neurons", "split_selection",
]

#: named dataset groups (selections); ``excitatory`` is ENS²'s excitatory training set (DS01 never trains)
GROUPS: dict[str, str] = {
    "excitatory": "DS0[2-9]*,DS1*,DS2[01]*",
    "inhibitory": "DS2[2-7]*",
    "gcamp8": "DS3[0-2]*",
}

#: the paper's LODO folds of excitatory neurons (held-out dataset prefixes) and the inhibitory folds
EXCITATORY_FOLDS = ("DS02", "DS03", "DS04", "DS05", "DS06", "DS07", "DS08", "DS09", "DS10", "DS11", "DS12",
                    "DS14", "DS15", "DS16", "DS17", "DS18", "DS19", "DS20", "DS21")
INHIBITORY_FOLDS = ("DS22", "DS23", "DS24", "DS25", "DS26", "DS27")
#: the excitatory folds the zoo's recipes are reported on (52 neurons; designs were chosen on DS01)
REPORT_FOLDS = ("DS04", "DS06", "DS09", "DS15", "DS20")
#: the peers' folds: OGB-1, Cal-520, GCaMP6f (zebrafish and mouse), GCaMP6s, GCaMP5k, R-CaMP, jGECO1a
PEER_FOLDS = ("DS03", "DS04", "DS06", "DS09", "DS15", "DS17", "DS19", "DS21")
#: the fast model's selection folds (its recipe was chosen there) and its report folds
FAST_SELECTION_FOLDS = ("DS07", "DS11", "DS21")
FAST_REPORT_FOLDS = ("DS04", "DS09", "DS15")
#: the peers of the LODO tables (recipes and OASIS), in the order the report lists them
PEERS = ("cascade", "cascade-fixed", "mlp", "cnn", "lstm", "oasis")
#: the paper's re-imaged recording conditions (frame rate in Hz : ν), and the grid with the recordings as they are
REIMAGED_CONDITIONS = "30:2,30:4,30:8,15:4,7.5:4,7.5:8"
PAPER_CONDITIONS = f"native,{REIMAGED_CONDITIONS}"


def lodo_name(recipe: str, fold: str) -> str:
    """The name of a LODO fold's files (weights, tables, family folder): ``<recipe>_lodo_<fold>``."""
    return f"{recipe}_lodo_{fold}"


#: the GCaMP8 mice in ``../shared`` per variant dataset, sorted (some mice are held back by the
#: database's curators for an independent check and are not there)
GCAMP8_MICE: dict[str, tuple[str, ...]] = {
    "DS30": ("471993", "471994", "478342", "478348", "478349", "478407"),
    "DS31": ("472179", "472180", "479115", "479117", "479118"),
    "DS32": ("472181", "472182", "479116", "479119", "479120"),
}
_N_MOUSE_FOLDS = 5
_MOUSE_RE = re.compile(r"^CAttached_[^_]+_(\d+)_")


def mouse_of(file_name: str) -> str | None:
    """The mouse number of a GCaMP8 ground-truth file name (``CAttached_jGCaMP8f_471993_1_mini``), or None."""
    match = _MOUSE_RE.match(Path(file_name).name)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Fold:
    """One held-out fold: what is scored (``held_out``) and what trains (``training``), both selections."""

    name: str
    held_out: str
    training: str


def _mouse_fold(k: int) -> Fold:
    items = [f"{ds}*/*_{mouse}_*" for ds, mice in GCAMP8_MICE.items()
             for i, mouse in enumerate(mice) if i % _N_MOUSE_FOLDS == k]
    return Fold(f"M{k + 1}", ",".join(items), ",".join([GROUPS["gcamp8"], *("!" + i for i in items)]))


#: the five GCaMP8 mouse folds (see the module docstring)
GCAMP8_MOUSE_FOLDS: dict[str, Fold] = {f.name: f for f in (_mouse_fold(k) for k in range(_N_MOUSE_FOLDS))}
GCAMP8_SELECTION_FOLDS = ("M1",)
#: the GCaMP8 condition grid: the paper's plus ``30:0`` (30 Hz at the recording's own noise)
GCAMP8_CONDITIONS = f"native,30:0,{REIMAGED_CONDITIONS}"
GCAMP8_REPORT_FOLDS = ("M2", "M3", "M4", "M5")
#: the GCaMP8 variant folds: each jGCaMP8 variant (8f DS30, 8m DS31, 8s DS32) held out, the other two train
GCAMP8_VARIANT_FOLDS: dict[str, Fold] = {
    ds: Fold(ds, f"{ds}*", f"{GROUPS['gcamp8']},!{ds}*") for ds in GCAMP8_MICE}
_FOLDS = {**GCAMP8_MOUSE_FOLDS, **GCAMP8_VARIANT_FOLDS}


def get_fold(name: str) -> Fold:
    """A catalogue fold by name (mouse folds ``M1``–``M5``, variant folds ``DS30``–``DS32``; the message
    lists them)."""
    try:
        return _FOLDS[name.upper()]
    except KeyError:
        raise InputError(f"unknown fold {name!r}: known: {', '.join(_FOLDS)}") from None


def group_pattern(name_or_pattern: str) -> str:
    """A group name (``excitatory``, ``inhibitory``, ``gcamp8``) → its selection; anything else unchanged."""
    return GROUPS.get(name_or_pattern, name_or_pattern)


def split_selection(pattern: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``"A,B/f,!C/g"`` → (included, excluded) lists of ``(dataset glob, file glob)``.

    Items starting with ``!`` are excluded (as in ``.gitignore``); an item without ``/``
    matches every file of its datasets.  Group names are expanded.
    """
    included: list[tuple[str, str]] = []
    excluded: list[tuple[str, str]] = []
    for raw in split_globs(pattern):
        negated = raw.startswith("!")
        for item in split_globs(group_pattern(raw.lstrip("!"))):
            folder, _, files = item.partition("/")
            (excluded if negated else included).append((folder, files or "*"))
    return included, excluded


def dataset_pattern(pattern: str) -> str:
    """The dataset-folder globs of a selection (for :func:`~ens2zoo.data.discovery.find_datasets`)."""
    included, _ = split_selection(pattern)
    return ",".join(dict.fromkeys(folder for folder, _ in included))


def _matches(items: list[tuple[str, str]], dataset: str, file_name: str) -> bool:
    return any(fnmatch.fnmatchcase(dataset, d) and fnmatch.fnmatchcase(file_name, f) for d, f in items)


def select_neurons(datasets: list[Dataset], pattern: str) -> list[Dataset]:
    """``datasets`` with only the neurons that ``pattern`` selects; datasets left empty are dropped.

    Raises:
        InputError: nothing is selected (the message names the pattern).
    """
    included, excluded = split_selection(pattern)
    out = []
    for ds in datasets:
        kept = [n for n in ds.neurons if _matches(included, ds.name, n.path.name)
                and not _matches(excluded, ds.name, n.path.name)]
        if kept:
            out.append(ds if len(kept) == len(ds.neurons) else replace(ds, neurons=kept))
    if not out:
        raise InputError(f"no neuron matches {pattern!r}: check the dataset and file globs")
    return out
