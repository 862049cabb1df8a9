"""Warnings for input that looks wrong: raw fluorescence, ΔF/F in percent, frame rates and noise levels
outside what the model was trained on; and, after inference, discrete spikes that fall short of the rate
(:func:`spike_shortfall`).

Each problem is one :func:`warnings.warn` (``UserWarning``) whose message names the fix;
the command line shows each as one line on stderr.  Inference still runs.

Ranges: a zoo model's manifest record gives them (``ModelEntry.trained_frame_rates`` /
``trained_noise_levels``, or its family members').  Where a zoo record leaves them
unset, the ranges of the ground truth the zoo is trained on are used
(:data:`GROUND_TRUTH_FRAME_RATES`, :data:`GROUND_TRUTH_NOISE_LEVELS`: per-neuron
frame rates and CASCADE ν of DS02–DS27, as loaded for 60 Hz training by
``ens2zoo.data.load_dataset``; 203 excitatory neurons span ν 0.21–2.88 and
7.5–500 Hz, 57 inhibitory ones ν 0.31–5.02 and 15.6–30 Hz).  Models built from a
weights file without a record (``ens2zoo.create``) have no known training range:
only the absolute checks apply (frame rate below :data:`MIN_FRAME_RATE`, raw, percent).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ens2zoo.data.dataset import parse_dataset_name
from ens2zoo.errors import InputError
from ens2zoo.inference import kinetics
from ens2zoo.inference.noise import noise_level
from ens2zoo.zoo.entries import indicator_key

if TYPE_CHECKING:
    from ens2zoo.inference.result import SpikeResult
    from ens2zoo.model import SpikeModel

#: (lowest, highest) frame rate, Hz, of the ground-truth neurons (DS02–DS27)
GROUND_TRUTH_FRAME_RATES = (7.5, 500.0)
#: (lowest, highest) CASCADE ν, %·Hz^-1/2, of the ground-truth neurons (DS02–DS27)
GROUND_TRUTH_NOISE_LEVELS = (0.2, 5.0)
#: below this frame rate no model resolves single transients (a 0.5 Hz input yields spikes from noise)
MIN_FRAME_RATE = 2.0
#: a ΔF/F trace's baseline (its 5th percentile) lies near 0 (in percent too); raw fluorescence's far above
RAW_BASELINE = 5.0
#: fractional ΔF/F has median |x| well below this; ΔF/F in percent above it
PERCENT_MEDIAN_ABS = 1.0
#: ν (%·Hz^-1/2) no fractional ΔF/F reaches (CASCADE calls > 5 poor); percent ΔF/F is 100× larger
PERCENT_NOISE_LEVEL = 100.0


def trained_ranges(model: SpikeModel | None) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """(frame-rate range, ν range) the model was trained on, or None where unknown."""
    entry = getattr(model, "entry", None)
    if entry is None:
        return None, None
    frs, nus = entry.trained_frame_rates, entry.trained_noise_levels
    members = list(getattr(entry, "members", None) or [])
    if frs is None:
        known = [m.trained_frame_rates for m in members if m.trained_frame_rates is not None]
        frs = (min(r[0] for r in known), max(r[1] for r in known)) if known else GROUND_TRUTH_FRAME_RATES
    if nus is None:
        known = [m.trained_noise_levels for m in members if m.trained_noise_levels is not None]
        nus = (min(r[0] for r in known), max(r[1] for r in known)) if known else GROUND_TRUTH_NOISE_LEVELS
    return tuple(frs), tuple(nus)


def _scale_note(model: SpikeModel | None) -> str:
    arch = getattr(model, "architecture", None)
    if arch == "unet":
        return ("the U-Net normalises each window (instance normalisation), so its rates barely change, "
                "but ν and the ranges checked are 100× off")
    if arch is None:
        return "only the U-Net is scale-invariant (instance normalisation); MLP, CNN and LSTM rates would be wrong"
    return f"the {arch} architecture is not scale-invariant (no instance normalisation): its rates will be wrong"


#: ROIs named in the ν warning before it says "… and N more"
SHOWN_ROIS = 20


def _named(rows: np.ndarray, roi_index: Any, detail: Callable[[int], str] | None = None) -> str:
    """``"ROIs 11 (ν 4), 30 (ν 10) and 5 more"``: the first :data:`SHOWN_ROIS` of ``rows`` by their ROI numbers
    (``roi_index``; None: as rows), each with ``detail(row)`` in brackets where given."""
    labels = (np.asarray(roi_index).ravel()[rows] if roi_index is not None else rows).tolist()
    shown = [f"{label} ({detail(i)})" if detail else str(label) for label, i in zip(labels[:SHOWN_ROIS], rows)]
    more = f" and {rows.size - SHOWN_ROIS} more" if rows.size > SHOWN_ROIS else ""
    return f"{'ROIs' if roi_index is not None else 'rows'} {', '.join(shown)}{more}"


def _outside_noise(nus: np.ndarray, nu_range: tuple[float, float], name: str, roi_index: Any) -> str | None:
    """The warning naming the ROIs (or rows) whose ν lies outside ``nu_range``, with their ν; None if none."""
    outside = np.flatnonzero((nus < nu_range[0]) | (nus > nu_range[1]))
    if not outside.size:
        return None
    named = _named(outside, roi_index, lambda i: f"ν {nus[i]:.3g}")
    return (f"{outside.size} of {nus.size} neurons have a noise level ν outside the {nu_range[0]:g}–"
            f"{nu_range[1]:g} %·Hz^-1/2 that {name} was trained on (median ν of those "
            f"{float(np.median(nus[outside])):.3g}): {named}; their spikes are less reliable: "
            "use a model trained at that noise (ens2zoo.data.reimage), or check the ΔF/F scale")


#: the zoo model to try for neurons of each indicator family (:mod:`ens2zoo.inference.kinetics`)
ADVISED_MODEL = {kinetics.GCAMP8: "ens2-gcamp8", kinetics.CLASSIC: "ens2-exc"}
_FAMILY_LABEL = {kinetics.GCAMP8: "jGCaMP8",
                 kinetics.CLASSIC: "the classic indicators (OGB-1, GCaMP5/6, R-CaMP, jGECO)"}


def model_indicators(model: SpikeModel | None) -> list[str]:
    """The indicators of the model's training data: its record's, else read off its training datasets' names."""
    entry = getattr(model, "entry", None)
    if entry is None:
        return []
    if entry.indicators:
        return list(entry.indicators)
    found = set()
    for name in entry.training_data:
        try:
            found.add(indicator_key(parse_dataset_name(name).indicator))
        except InputError:
            continue
    return sorted(found)


def _indicator_advice(data: np.ndarray, frame_rate: float, model: SpikeModel | None, roi_index: Any) -> str | None:
    """The advice when most neurons' transients look like the other indicator family than the model's."""
    indicators = model_indicators(model)
    if not indicators:
        return None
    mine = kinetics.GCAMP8 if all(i.startswith("gcamp8") for i in indicators) else kinetics.CLASSIC
    measured = kinetics.transient_kinetics(data, frame_rate)
    if measured is None:
        return None
    calls = kinetics.indicator_family(measured)
    n_measured = int(np.sum(calls != ""))
    other = np.flatnonzero((calls != "") & (calls != mine))
    if not n_measured or 2 * other.size < n_measured:
        return None
    theirs = kinetics.GCAMP8 if mine == kinetics.CLASSIC else kinetics.CLASSIC
    seen = {k: float(np.median(getattr(measured, k)[other])) for k in ("rise_ratio", "decay_ratio", "peak_dff")}
    trained = kinetics.FAMILY_RANGES[mine]
    described = "; ".join(f"{kinetics.FEATURE_TEXT[k]} {v:.2f} (its training data {trained[k][0]:g}–{trained[k][1]:g})"
                          for k, v in seen.items())
    return (f"{other.size} of {n_measured} neurons with clear transients look like {_FAMILY_LABEL[theirs]}, not like "
            f"the {', '.join(indicators)} that {getattr(model, 'name', 'the model')} was trained on: {described}. "
            f"Try {ADVISED_MODEL[theirs]}: {_named(other, roi_index)}")


#: a neuron's discrete spikes fall short when they number less than this share of its Σ rate …
SHORTFALL_RATIO = 0.7
#: … and its rate sums to at least this many spikes
SHORTFALL_MIN_SPIKES = 5.0


def spike_shortfall(result: SpikeResult, *, warn: bool = True, roi_index: Any = None) -> str | None:
    """The warning naming the neurons whose discrete spikes by ENS²'s greedy estimator number less than
    :data:`SHORTFALL_RATIO` of what their rate sums to (among those whose rate sums to at least
    :data:`SHORTFALL_MIN_SPIKES` spikes), with the fix; None when there are none or the spikes are another
    estimator's.  Issued with :func:`warnings.warn` unless ``warn`` is False.

    The greedy estimator stops when one more spike would raise the squared error, so it leaves low, wide
    bumps of rate (noisy or slow recordings) without their spike; the count-preserving estimator does not
    (``benchmarks/RESULTS.md``, section 15).
    """
    if result.spike_estimator != "greedy" or result.spikes is None:
        return None
    mass = result.rate.astype(np.float64).sum(axis=1)
    share = result.spikes.sum(axis=1) / np.where(mass > 0, mass, 1.0)
    counted = np.flatnonzero(mass >= SHORTFALL_MIN_SPIKES)
    short = counted[share[counted] < SHORTFALL_RATIO]
    if not short.size:
        return None
    named = _named(short, roi_index, lambda i: f"{100 * share[i]:.0f} %")
    message = (f"{short.size} of {counted.size} neurons get fewer discrete spikes than their rate sums to (median "
               f"{100 * float(np.median(share[short])):.0f} % of Σ rate): {named}. ENS²'s greedy "
               f"spike estimator, {result.model}'s default, leaves low, wide bumps of rate without their spike; "
               "pass --spike-estimator count (spike_estimator='count') for as many spikes as the rate sums to, or "
               "count spikes by summing the rate")
    if warn:
        warnings.warn(message, UserWarning, stacklevel=2)
    return message


def input_warnings(traces: Any, frame_rate: float, model: SpikeModel | None = None, *,
                   nus: np.ndarray | None = None, warn: bool = True, roi_index: Any = None) -> list[str]:
    """Check ΔF/F ``traces`` (neurons × frames) for signs of wrong input; warn about each and return the messages.

    Args:
        traces: ΔF/F as given to ``predict``.
        frame_rate: Hz.
        model: the model that will be used (its training ranges; None: absolute checks only).
        nus: per-neuron ν if already measured.
        warn: issue :func:`warnings.warn` for each message (else only return them).
        roi_index: each row's ROI number (suite2p, NWB) to name ROIs by; None names rows.
    """
    data = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    messages: list[str] = []
    if data.ndim != 2 or data.shape[1] < 2:
        return messages  # predict refuses it with the reason
    name = getattr(model, "name", "the model")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        baselines = np.nanpercentile(data, 5, axis=1)
        median_abs = float(np.nanmedian(np.nanmedian(np.abs(data), axis=1)))
        nus = noise_level(data, frame_rate) if nus is None else np.asarray(nus, dtype=np.float64)
        median_nu = float(np.nanmedian(nus)) if nus.size else float("nan")
        baseline = float(np.nanmedian(baselines))
    scale_problem = False
    if baseline > RAW_BASELINE:
        scale_problem = True
        messages.append(f"the traces look like raw fluorescence (baseline {baseline:.3g}; ΔF/F's sits near 0): "
                        "give ΔF/F, or pass --input-kind raw (ens2zoo.dff) to compute it")
    elif median_abs > PERCENT_MEDIAN_ABS or median_nu > PERCENT_NOISE_LEVEL:
        scale_problem = True
        messages.append(f"the traces look like ΔF/F in percent (median |ΔF/F| {median_abs:.3g}, median ν "
                        f"{median_nu:.3g} %·Hz^-1/2): divide them by 100 ({_scale_note(model)})")
    fr_range, nu_range = trained_ranges(model)
    if frame_rate < MIN_FRAME_RATE:
        messages.append(f"frame rate {frame_rate:g} Hz is below {MIN_FRAME_RATE:g} Hz: single calcium transients "
                        "are not resolved and the spikes found come from noise; image faster, or check --frame-rate")
    elif fr_range is not None and not fr_range[0] <= frame_rate <= fr_range[1]:
        messages.append(f"frame rate {frame_rate:g} Hz is outside the {fr_range[0]:g}–{fr_range[1]:g} Hz that {name} "
                        "was trained on: results are less reliable; check --frame-rate, or use a model trained "
                        "at this rate (ens2zoo.data.reimage)")
    if nu_range is not None and not scale_problem and nus.size:
        message = _outside_noise(nus, nu_range, name, roi_index)
        if message:
            messages.append(message)
    if not scale_problem and np.isfinite(data).all():
        message = _indicator_advice(data, frame_rate, model, roi_index)
        if message:
            messages.append(message)
    if warn:
        for message in messages:
            warnings.warn(message, UserWarning, stacklevel=2)
    return messages
