"""Spike-count calibration: the gain on a model's rate that makes Σ rate match the true spike count.

A neuron's ``count`` is Σ predicted rate / true spikes over the scored window (1 = right on
average).  A model that miscounts systematically (ens2-gcamp8 pooled over jGCaMP8f/m/s counts
8f spikes ~0.6× and 8s spikes ~1.7×) gets a gain per indicator, ``1 / median count`` of
held-out neurons of a selection fold, never of the neurons it is reported on.  The gains are
stored in the family recipe and in the manifest (``count_calibration``); ``predict(...,
indicator=...)`` applies them.  Scaling the rate scales every neuron's ``count`` by the gain and
leaves its correlation unchanged.

A family's count also drifts with noise (ens2-gcamp8's noise-matched member counts ~1.4× at
ν ≈ 2 and ~0.9× at ν 8): :func:`fit_noise_curve` fits a further factor per octave of ν on the
indicator-calibrated counts (``count_noise_curve`` in the manifest; ``predict`` applies it by
each neuron's measured ν).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import row_count
from ens2zoo.data.dataset import parse_dataset_name
from ens2zoo.errors import InputError
from ens2zoo.zoo.entries import DEFAULT_GAIN, indicator_key

__all__ = ["MIN_ROWS_PER_KNOT", "fit_count_gains", "fit_noise_curve"]

#: rows an octave of ν needs to get a knot of the ν curve
MIN_ROWS_PER_KNOT = 10


def _counted(rows: Iterable[Mapping], conditions: Sequence[str] | None) -> list[tuple[Mapping, str, float]]:
    """(row, indicator key, count) of the rows under ``conditions`` with a defined, positive count."""
    wanted = set(conditions) if conditions is not None else None
    out = []
    for row in rows:
        if wanted is not None and row_condition(row).label not in wanted:
            continue
        count = row_count(row)
        if count is None or not np.isfinite(count) or count <= 0:
            continue
        out.append((row, indicator_key(parse_dataset_name(str(row["dataset"])).indicator), float(count)))
    if not out:
        raise InputError("no row with a defined count to fit the calibration on"
                         + (f" (conditions {sorted(wanted)})" if wanted else ""))
    return out


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
    by_indicator: dict[str, list[float]] = {}
    for _, key, count in _counted(rows, conditions):
        by_indicator.setdefault(key, []).append(count)
    pooled = [c for counts in by_indicator.values() for c in counts]
    gains = {key: 1.0 / float(np.median(counts)) for key, counts in by_indicator.items()}
    gains[DEFAULT_GAIN] = 1.0 / float(np.median(pooled))
    return {k: round(v, decimals) for k, v in sorted(gains.items())}


def fit_noise_curve(rows: Iterable[Mapping], gains: Mapping[str, float], *, conditions: Sequence[str] | None = None,
                    decimals: int = 3) -> list[tuple[float, float]]:
    """Knots ``(ν, factor)`` of the count's dependence on ν, after the indicator ``gains``.

    The rows (as :func:`fit_count_gains`, each with its ``noise_level``: the ν the model measured,
    e.g. :func:`~ens2zoo.benchmark.conditions.condition_noise_level`) are grouped by octave of ν
    (bins centred on the powers of 2, edges at 2^(k ± 1/2)); an octave with at least
    :data:`MIN_ROWS_PER_KNOT` rows gives a knot at its median ν with factor ``1 / median``
    of ``count × gains[indicator]``.  Fewer than two knots: no curve (``[]``).
    """
    octaves: dict[int, list[tuple[float, float]]] = {}
    for row, key, count in _counted(rows, conditions):
        nu = row.get("noise_level")
        if nu is None or not np.isfinite(float(nu)) or float(nu) <= 0:
            raise InputError(f"row {row.get('dataset')}/{row.get('neuron')} has no ν (noise_level) to fit the "
                             "ν curve on")
        gain = gains.get(key, gains.get(DEFAULT_GAIN, 1.0))
        octaves.setdefault(int(np.rint(np.log2(float(nu)))), []).append((float(nu), count * gain))
    knots = [(round(float(np.median([nu for nu, _ in group])), decimals),
              round(1.0 / float(np.median([c for _, c in group])), decimals))
             for _, group in sorted(octaves.items()) if len(group) >= MIN_ROWS_PER_KNOT]
    return knots if len(knots) >= 2 else []
