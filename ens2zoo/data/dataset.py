"""A ground-truth dataset (one ``DSnn-...`` folder) and what its name says."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording
from ens2zoo.defaults import SAMPLING_RATE
from ens2zoo.errors import InputError

__all__ = [
    "EXCITATORY",
    "INHIBITORY",
    "Dataset",
    "DatasetName",
    "cell_type_of",
    "parse_dataset_name",
]

EXCITATORY = "excitatory"
INHIBITORY = "inhibitory"

_SPECIES = {"m": "mouse", "zf": "zebrafish", "r": "rat", "h": "human"}
_INTERNEURON_MARKERS = {"SST", "PV", "VIP", "SOM", "NDNF"}
_NAME_RE = re.compile(r"^DS(\d+)-(.+)$")


@dataclass(frozen=True)
class DatasetName:
    """What a ``DSnn-<indicator>-<species>-<region>[-<cell type>]`` folder name says.

    Attributes:
        number: ``nn``.
        indicator: calcium indicator, e.g. ``"GCaMP6f"``, ``"OGB1-2"``, ``"R-CaMP"``.
        species: ``"mouse"``, ``"zebrafish"``, ... (the code expanded), or the code.
        region: brain region, e.g. ``"V1"``, ``"pDp"``, ``"CA3"``.
        subtype: interneuron marker (``"SST"``, ``"PV"``, ``"VIP"``) or None.
        notes: remaining qualifiers joined by ``-`` (e.g. ``"neuropil-corrected"``,
            ``"vivo"``), or ``""``.
    """

    number: int
    indicator: str
    species: str
    region: str
    subtype: str | None = None
    notes: str = ""


def parse_dataset_name(name: str) -> DatasetName:
    """Split a CASCADE dataset folder name into its parts.

    The species code (``m``, ``zf``, ...) separates the indicator (before it,
    which may itself hold dashes) from the region and qualifiers (after it).

    Raises:
        InputError: the name does not start with ``DS<number>-``.
    """
    match = _NAME_RE.match(name)
    if not match:
        raise InputError(f"dataset folder {name!r} is not named DSnn-<indicator>-<species>-"
                         "<region>; rename it (e.g. DS30-GCaMP6f-m-V1)")
    number = int(match.group(1))
    tokens = match.group(2).split("-")
    where = next((i for i, tok in enumerate(tokens) if i > 0 and tok in _SPECIES), None)
    if where is None:
        return DatasetName(number=number, indicator=match.group(2), species="", region="")
    rest = tokens[where + 1:]
    subtype = next((tok for tok in rest if tok in _INTERNEURON_MARKERS), None)
    rest = [tok for tok in rest if tok != subtype]
    region, notes = (rest[-1], rest[:-1]) if subtype is not None and rest else \
        ((rest[0], rest[1:]) if rest else ("", []))
    return DatasetName(number=number, indicator="-".join(tokens[:where]),
                       species=_SPECIES[tokens[where]], region=region, subtype=subtype,
                       notes="-".join(notes))


def cell_type_of(name: str) -> str | None:
    """``"excitatory"`` for DS01–DS21, ``"inhibitory"`` for DS22–DS27, else None."""
    match = _NAME_RE.match(name)
    if not match:
        return None
    number = int(match.group(1))
    if 1 <= number <= 21:
        return EXCITATORY
    if 22 <= number <= 27:
        return INHIBITORY
    return None


@dataclass(eq=False)
class Dataset:
    """The neurons of one ground-truth folder, preprocessed at ``sampling_rate``.

    Attributes:
        name: folder name, e.g. ``"DS09-GCaMP6f-m-V1"``.
        path: the folder.
        neurons: neurons with at least one kept recording, sorted by file name.
        sampling_rate: target rate, Hz.
        skipped: ``(file name, reason)`` for files that gave no usable recording.
    """

    name: str
    path: Path
    neurons: list[Neuron]
    sampling_rate: float = SAMPLING_RATE
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def info(self) -> DatasetName:
        """What the folder name says (indicator, species, region, ...)."""
        return parse_dataset_name(self.name)

    @property
    def number(self) -> int:
        return self.info.number

    @property
    def indicator(self) -> str:
        return self.info.indicator

    @property
    def species(self) -> str:
        return self.info.species

    @property
    def region(self) -> str:
        return self.info.region

    @property
    def cell_type(self) -> str | None:
        """``"excitatory"`` (DS01–DS21), ``"inhibitory"`` (DS22–DS27) or None."""
        return cell_type_of(self.name)

    @property
    def recordings(self) -> list[Recording]:
        """Every kept recording of every neuron."""
        return [r for n in self.neurons for r in n.recordings]

    @property
    def n_recordings(self) -> int:
        return sum(len(n.recordings) for n in self.neurons)

    @property
    def n_frames(self) -> int:
        return sum(n.n_frames for n in self.neurons)

    @property
    def hours(self) -> float:
        """Preprocessed duration (frames at the target rate), hours."""
        return self.n_frames / self.sampling_rate / 3600.0

    def _mean(self, attr: str) -> float:
        values = [getattr(n, attr) for n in self.neurons]
        return float(np.mean(values)) if values else float("nan")

    @property
    def frame_rate(self) -> float:
        """Mean over neurons of the original frame rate, Hz (published definition)."""
        return self._mean("frame_rate")

    @property
    def noise_level(self) -> float:
        """Mean over neurons of the CASCADE noise level ν (published definition)."""
        return self._mean("noise_level")

    @property
    def firing_rate(self) -> float:
        """Mean over neurons of the firing rate, Hz (published definition)."""
        return self._mean("firing_rate")

    def __len__(self) -> int:
        return len(self.neurons)

    def __repr__(self) -> str:
        return (f"Dataset({self.name}: {len(self.neurons)} neurons, {self.n_recordings} "
                f"recordings, {self.hours:.2f} h at {self.sampling_rate:g} Hz)")
