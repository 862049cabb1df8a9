"""Percentile bootstrap intervals of medians, and of differences of medians (correlations per neuron, %).

Resamples draw units (neurons) with replacement within strata (e.g. their datasets), keeping each stratum's
size, as the LODO report does per held-out dataset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap_difference_ci", "bootstrap_median_ci", "bootstrap_paired_difference_ci"]


def _strata_indices(strata: Sequence[str]) -> list[np.ndarray]:
    labels = np.asarray(strata)
    return [np.flatnonzero(labels == s) for s in dict.fromkeys(labels.tolist())]


def _boot_indices(strata: Sequence[str], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) unit indices of ``n_boot`` resamples, each drawing every stratum's size from that stratum with
    replacement.

    All draws are made at once, in the order of one resample after another (stratum by stratum), which is
    the stream a per-resample loop of ``rng.integers(0, size, size)`` calls consumes: the same resamples.
    """
    groups = _strata_indices(strata)
    members = np.concatenate(groups)
    sizes = np.concatenate([np.full(g.size, g.size) for g in groups])
    starts = np.repeat(np.cumsum([0] + [g.size for g in groups[:-1]]), [g.size for g in groups])
    draws = rng.integers(0, np.broadcast_to(sizes, (n_boot, sizes.size)))
    return members[starts + draws]


def _boot_medians(values: np.ndarray, strata: Sequence[str], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Medians of ``n_boot`` resamples of ``values`` (:func:`_boot_indices`)."""
    return np.median(values[_boot_indices(strata, n_boot, rng)], axis=1)


def _percentile_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap ``draws`` (percentile method)."""
    tail = (1 - level) / 2 * 100
    return float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))


def bootstrap_median_ci(values: Sequence[float], strata: Sequence[str] | None = None, *, n_boot: int = 10_000,
                        level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the median, resampling within ``strata``.

    Args:
        values: one value per unit (e.g. a neuron's correlation, %); NaN not allowed.
        strata: one label per value (e.g. its dataset); None = one stratum.
        n_boot: resamples.
        level: coverage (0.95 = the 2.5th and 97.5th percentiles of the resampled medians).
        seed: seeds the resampling.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or not np.isfinite(v).all():
        raise ValueError("bootstrap_median_ci needs finite values")
    meds = _boot_medians(v, strata if strata is not None else ["all"] * v.size, n_boot,
                         np.random.default_rng(seed))
    return _percentile_interval(meds, level)


def bootstrap_difference_ci(a: Sequence[float], a_strata: Sequence[str], b: Sequence[float],
                            b_strata: Sequence[str], *, n_boot: int = 10_000, level: float = 0.95,
                            seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of median(a) − median(b), both resampled within their strata, independently."""
    rng = np.random.default_rng(seed)
    da = _boot_medians(np.asarray(a, np.float64), a_strata, n_boot, rng)
    db = _boot_medians(np.asarray(b, np.float64), b_strata, n_boot, rng)
    return _percentile_interval(da - db, level)


def bootstrap_paired_difference_ci(a: Sequence[float], b: Sequence[float], strata: Sequence[str] | None = None, *,
                                   n_boot: int = 10_000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of median(a) − median(b) where ``a[i]`` and ``b[i]`` belong to the same unit (two models
    on one neuron): each resample draws units (within ``strata``) and takes both values of every unit drawn."""
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if va.shape != vb.shape or va.size == 0 or not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise ValueError("bootstrap_paired_difference_ci needs two equally long arrays of finite values")
    idx = _boot_indices(strata if strata is not None else ["all"] * va.size, n_boot, np.random.default_rng(seed))
    return _percentile_interval(np.median(va[idx], axis=1) - np.median(vb[idx], axis=1), level)
