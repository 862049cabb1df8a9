"""Spike-train and rate metrics of the ENS² benchmark, accelerated with Numba.

Units: spike times in **seconds**, rates in **spikes per frame**, costs in
1/s, windows and time constants in seconds.  Trains may be given unsorted
(they are sorted); NaN/inf values and negative parameters raise
:class:`ens2zoo.errors.InputError`.

Numba kernels are compiled lazily on first use (``cache=True``), never at
import time.
"""

from __future__ import annotations

from ens2zoo.metrics._error_rate import error_rate
from ens2zoo.metrics._rates import cascade_error_bias, pearson
from ens2zoo.metrics._van_rossum import van_rossum, van_rossum_trains
from ens2zoo.metrics._victor_purpura import victor_purpura
from ens2zoo.metrics.evaluate import COLUMNS, evaluate, evaluate_many

__all__ = [
    "COLUMNS",
    "cascade_error_bias",
    "error_rate",
    "evaluate",
    "evaluate_many",
    "pearson",
    "van_rossum",
    "van_rossum_trains",
    "victor_purpura",
]
