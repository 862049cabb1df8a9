"""Finding dataset folders and summarising the database."""

from __future__ import annotations

from pathlib import Path

from ens2zoo.data.dataset import (
    parse_dataset_name,
)
from ens2zoo.data.discovery import find_datasets
from ens2zoo.data.loader import load_dataset
from ens2zoo.defaults import SAMPLING_RATE
from ens2zoo.errors import InputError

__all__ = ["CATALOG_COLUMNS", "catalog", "find_datasets"]

#: Columns of :func:`catalog`, in order.
CATALOG_COLUMNS = ("name", "indicator", "species", "region", "cell_type", "frame_rate",
                   "noise_level", "firing_rate", "neurons", "recordings", "hours")


def catalog(root: str | Path, pattern: str = "*", sampling_rate: float = SAMPLING_RATE,
            cache: bool | str | Path = True, as_frame: bool | None = None):
    """One row per dataset: what it is and what the published loader makes of it.

    Loads every selected dataset (through the cache, so seconds once warm).

    Columns (see :data:`CATALOG_COLUMNS`): ``name``, ``indicator``, ``species``,
    ``region``, ``cell_type``, ``frame_rate`` (Hz), ``noise_level`` (ν),
    ``firing_rate`` (Hz) — each the mean over neurons, as published —
    ``neurons``, ``recordings`` (kept ones) and ``hours`` (preprocessed duration).

    Args:
        root: the ground-truth folder.
        pattern: as for :func:`find_datasets`.
        sampling_rate: target rate, Hz.
        cache: as for :func:`~ens2zoo.data.loader.load_neuron`.
        as_frame: True for a ``pandas.DataFrame``, False for a list of dicts, None
            for a DataFrame when pandas is installed.
    """
    rows = []
    for folder in find_datasets(root, pattern):
        ds = load_dataset(folder, sampling_rate, cache)
        info = parse_dataset_name(ds.name)
        rows.append({
            "name": ds.name, "indicator": info.indicator, "species": info.species,
            "region": info.region, "cell_type": ds.cell_type, "frame_rate": ds.frame_rate,
            "noise_level": ds.noise_level, "firing_rate": ds.firing_rate,
            "neurons": len(ds.neurons), "recordings": ds.n_recordings, "hours": ds.hours,
        })
    if as_frame is False:
        return rows
    try:
        import pandas as pd
    except ImportError:
        if as_frame:
            raise InputError("as_frame=True needs pandas; install it (pip install pandas) "
                             "or pass as_frame=False") from None
        return rows
    return pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))
