"""Spike-count calibration: the gain on a model's rate that makes Σ rate match the true spike count.

A neuron's ``count`` is Σ predicted rate / true spikes over the scored window (1 = right on
average).  A model that miscounts systematically (ens2-gcamp8 pooled over jGCaMP8f/m/s counts
8f spikes ~0.6× and 8s spikes ~1.7×) gets a gain per indicator, ``1 / median count`` of
held-out neurons of a selection fold, never of the neurons it is reported on.  The gains are
stored in the family recipe and in the manifest (``count_calibration``); ``predict(...,
indicator=...)`` applies them.  Scaling the rate scales every neuron's ``count`` by the gain and
leaves its correlation unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import row_count
from ens2zoo.data.dataset import parse_dataset_name
from ens2zoo.errors import InputError
from ens2zoo.zoo.entries import DEFAULT_GAIN, indicator_key

__all__ = ["fit_count_gains"]


def fit_count_gains(rows: Iterable[Mapping], *, conditions: Sequence[str] | None = None,
                    decimals: int = 2) -> dict[str, float]:
    """Gains ``1 / median count`` per indicator (from each row's dataset name) and pooled (``"default"``).

    Args:
        rows: per-neuron rows of ``ens2zoo evaluate`` (``dataset``, ``count`` or ``bias``, and the
            condition columns), predicted without calibration (gain 1).
        conditions: the condition labels to use (e.g. ``["30:0", "30:4"]``; default: all rows).
        decimals: rounding of the gains (they are recorded in a recipe).

    Each neuron-condition row counts once; rows without a defined count (no true spike) are skipped.
    """
    wanted = set(conditions) if conditions is not None else None
    by_indicator: dict[str, list[float]] = {}
    for row in rows:
        if wanted is not None and row_condition(row).label not in wanted:
            continue
        count = row_count(row)
        if count is None or not np.isfinite(count) or count <= 0:
            continue
        key = indicator_key(parse_dataset_name(str(row["dataset"])).indicator)
        by_indicator.setdefault(key, []).append(float(count))
    if not by_indicator:
        raise InputError("no row with a defined count to fit the calibration on"
                         + (f" (conditions {sorted(wanted)})" if wanted else ""))
    pooled = [c for counts in by_indicator.values() for c in counts]
    gains = {key: 1.0 / float(np.median(counts)) for key, counts in by_indicator.items()}
    gains[DEFAULT_GAIN] = 1.0 / float(np.median(pooled))
    return {k: round(v, decimals) for k, v in sorted(gains.items())}
