"""Scoring under recording conditions: what a model gives at a user's frame rate and noise level.

A condition is a frame rate R (Hz) and a noise level ν (CASCADE's standardised noise,
%·Hz^-1/2), written ``R:ν`` (``30:2``, ``7.5:8``); ``native`` is the database as it is.
Every neuron is scored under every condition (:func:`evaluate_conditions`):

* ``native``: for a :class:`~ens2zoo.model.SpikeModel` exactly the rows of
  :func:`~ens2zoo.benchmark.evaluation.evaluate_model` (published read-out, a family
  routed by the neuron's ν at its original frame rate).  A peer (e.g.
  :class:`~ens2zoo.benchmark.oasis.OASIS`) has no 60 Hz read-out of its own: it gets each
  recording at its original frame rate (the 60 Hz trace Fourier-resampled to
  min(original rate, 60 Hz), no noise added), as a user's file would hold it;
* ``R:ν``: each recording's 60 Hz trace is re-imaged with
  :func:`ens2zoo.data.reimage.reimage_trace` (Fourier-resampled to R Hz; white Gaussian
  noise added in quadrature until ν reaches the target; a recording already noisier is
  kept as it is), then predicted at R (``model.predict(trace_R, frame_rate=R)``, so the
  model sees what a user's file would give it, resampling back to 60 Hz and — for a
  family — routing by the re-imaged trace's own ν included).  The predicted rate and
  spike counts are cut (or zero-padded) to the recording's length.  A model that predicts at a
  rate dividing the data's (a CASCADE folder: 30 Hz) is scored at the data's 60 Hz with each of
  its frames' rate split equally over the frame's two samples and its spike count on the first
  (:func:`to_scoring_rate`).

Then, as in the native benchmark, a neuron's recordings are concatenated (its true
events offset by the summed duration of the previous recordings) and scored at 60 Hz
against the smoothed true spikes (``Recording.rate``, ``Recording.event_times``) with
:func:`ens2zoo.metrics.evaluate_many`.  Unlike the native read-out, recordings are
predicted separately (no window spill-over across recording boundaries), which is
what ``predict`` does for a user.

The noise of recording ``i`` of neuron ``n`` of dataset ``d`` under ``R:ν`` comes from
``numpy.random.default_rng(condition_seed(d, n, recording.index, R, ν))``: the rows do
not depend on the order of conditions or neurons or on how the work is split, and every
model sees the very same noisy traces (paired comparisons).

Rows have the columns :data:`CONDITION_COLUMNS` (those of
:data:`~ens2zoo.benchmark.evaluation.COLUMNS` plus ``condition_frame_rate`` and
``condition_noise``, both NaN for ``native``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ens2zoo.benchmark.evaluation import (
    COLUMNS,
    NeuronPrediction,
    dataset_indicator,
    neuron_prediction,
    score_predictions,
    true_events,
    write_csv,
)
from ens2zoo.data import Dataset, Neuron
from ens2zoo.data.groups import PAPER_CONDITIONS  # the project's condition table (re-exported)
from ens2zoo.data.recording import Recording
from ens2zoo.data.reimage import Reimaged, condition_seed, reimage_trace
from ens2zoo.errors import InputError
from ens2zoo.inference.noise import noise_level as measure_noise
from ens2zoo.inference.result import SpikeResult
from ens2zoo.inference.spikes import spike_times
from ens2zoo.model import SpikeModel
from ens2zoo.utils.progress import ProgressArg, progress_callback

__all__ = ["CONDITION_COLUMNS", "NATIVE", "PAPER_CONDITIONS", "Condition", "Predictor", "condition_noise_level",
           "condition_prediction",
           "evaluate_conditions", "parse_conditions", "reimaged_trace", "row_condition", "to_scoring_rate",
           "write_condition_csv"]

log = logging.getLogger(__name__)

#: The label of the database's own recordings.
NATIVE = "native"
#: Columns of a per-neuron, per-condition row, in order.
CONDITION_COLUMNS = (*COLUMNS[:2], "condition_frame_rate", "condition_noise", *COLUMNS[2:])

_SYNTAX = "write conditions as native or RATE:NU (frame rate in Hz : ν in %·Hz^-1/2), e.g. native,30:2,7.5:8"


@dataclass(frozen=True)
class Condition:
    """A recording condition: frame rate (Hz) and noise level ν (%·Hz^-1/2); both None = native."""

    frame_rate: float | None = None
    noise_level: float | None = None

    @property
    def is_native(self) -> bool:
        return self.frame_rate is None

    @property
    def label(self) -> str:
        """``"native"`` or ``"R:ν"`` (``"30:2"``)."""
        return NATIVE if self.is_native else f"{self.frame_rate:g}:{self.noise_level:g}"

    def columns(self) -> dict:
        """The row cells ``condition_frame_rate`` and ``condition_noise`` (NaN for native)."""
        if self.is_native:
            return {"condition_frame_rate": math.nan, "condition_noise": math.nan}
        return {"condition_frame_rate": float(self.frame_rate), "condition_noise": float(self.noise_level)}

    def __str__(self) -> str:
        return self.label


def _number(text: str, item: str, what: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"condition {item!r}: {what} {text!r} is not a number; {_SYNTAX}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise InputError(f"condition {item!r}: {what} must be a finite {kind} number; {_SYNTAX}")
    return value


def parse_conditions(spec: str | Sequence[str | Condition]) -> list[Condition]:
    """Conditions from ``"native,30:2,7.5:8"`` (or a list of such items / :class:`Condition` objects).

    Raises:
        InputError: an empty list, a malformed or non-positive item, or a repeated condition
            (the message names the item and the syntax).
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[Condition] = []
    for raw in items:
        if isinstance(raw, Condition):
            cond = raw
        else:
            item = str(raw).strip()
            if not item:
                raise InputError(f"empty condition in {spec!r}; {_SYNTAX}")
            if item.lower() == NATIVE:
                cond = Condition()
            else:
                rate, sep, nu = item.partition(":")
                if not sep or ":" in nu:
                    raise InputError(f"condition {item!r} is not RATE:NU; {_SYNTAX}")
                cond = Condition(_number(rate.strip(), item, "frame rate", positive=True),
                                 _number(nu.strip(), item, "noise level ν", positive=False))
        if cond in out:
            raise InputError(f"condition {cond.label!r} is given twice in {spec!r}: give each condition once")
        out.append(cond)
    if not out:
        raise InputError(f"no condition given; {_SYNTAX}")
    return out


class Predictor(Protocol):
    """What :func:`evaluate_conditions` scores: a :class:`SpikeModel` or a peer (e.g. OASIS).

    ``predict(traces, frame_rate)`` returns a :class:`~ens2zoo.inference.result.SpikeResult`
    (rate and spike counts per frame at ``sampling_rate``).
    """

    name: str

    def predict(self, traces: np.ndarray, frame_rate: float) -> SpikeResult: ...


def reimaged_trace(dataset: str, neuron: Neuron, recording: Recording, condition: Condition) -> Reimaged:
    """``recording`` of ``neuron`` re-imaged under ``condition`` with its own seed (see the module docstring)."""
    if condition.is_native:
        raise InputError("the native condition is not re-imaged")
    rng = np.random.default_rng(condition_seed(dataset, neuron.name, int(recording.index),
                                               float(condition.frame_rate), float(condition.noise_level)))
    return reimage_trace(recording.trace, condition.frame_rate, condition.noise_level, rng,
                         recording.sampling_rate)


def condition_noise_level(dataset: str, neuron: Neuron, condition: Condition) -> float:
    """The ν (%·Hz^-1/2) a model measures on ``neuron`` under ``condition``: the median over its
    recordings of the ν of each re-imaged trace (what ``predict`` routes and calibrates by), or
    the neuron's own ν (:attr:`Neuron.noise_level`) for ``native``."""
    if condition.is_native:
        return float(neuron.noise_level)
    levels = []
    for rec in neuron.recordings:
        low = reimaged_trace(dataset, neuron, rec, condition)
        levels.append(float(measure_noise(low.trace[None, :], low.frame_rate)[0]))
    return float(np.median(levels))


def _fit(values: np.ndarray, n: int, dtype) -> np.ndarray:
    """``values`` cut or zero-padded to ``n`` samples."""
    out = np.zeros(n, dtype=dtype)
    m = min(n, values.shape[0])
    out[:m] = values[:m]
    return out


def _predict_one(model: Predictor, trace: np.ndarray, frame_rate: float, stride: int,
                 indicator: str | None) -> SpikeResult:
    if isinstance(model, SpikeModel):
        return model.predict(trace, frame_rate, stride=stride, progress=False, indicator=indicator)
    if indicator is not None:
        raise InputError(f"{getattr(model, 'name', model)!r} has no spike-count calibration: leave out the indicator")
    return model.predict(trace, frame_rate)


def to_scoring_rate(values: np.ndarray, factor: int, *, split: bool) -> np.ndarray:
    """A model's per-frame output brought to the scoring rate, ``factor`` (an integer) times its own.

    Frame j covers scoring samples ``factor·j … factor·j + factor − 1`` and sits at the first of
    them on the clock.  A rate (``split=True``, spikes per frame) is split equally over them; spike
    counts go to the first.  ``factor`` 1 returns the values (float64 or int64) unchanged.
    """
    values = np.asarray(values, dtype=np.float64 if split else np.int64)
    if factor == 1:
        return values
    if split:
        return np.repeat(values / factor, factor)
    out = np.zeros(len(values) * factor, dtype=np.int64)
    out[::factor] = values
    return out


def condition_prediction(model: Predictor, neuron: Neuron, condition: Condition, *, stride: int = 1,
                         dataset: str | None = None, indicator: str | None = None) -> NeuronPrediction:
    """Predicted and true rates and events of one neuron under ``condition``, concatenated over its recordings.

    Args:
        model: a :class:`SpikeModel` or a peer with ``predict(traces, frame_rate)``.
        neuron: a :class:`~ens2zoo.data.Neuron` (60 Hz recordings).
        condition: what to re-image to (``native`` for a SpikeModel: :func:`neuron_prediction`).
        stride: window stride of a SpikeModel (ignored by peers).
        dataset: the dataset name in the seeds (default ``neuron.dataset``).
        indicator: the recording's indicator, for a SpikeModel's count calibration.
    """
    if condition.is_native and isinstance(model, SpikeModel):
        return neuron_prediction(model, neuron, stride=stride, indicator=indicator)
    if not neuron.recordings:
        raise InputError(f"neuron {neuron.name} of {neuron.dataset} has no recording to evaluate")
    dataset = neuron.dataset if dataset is None else dataset
    rate = float(neuron.sampling_rate)
    rates, counts, members = [], [], []
    for rec in neuron.recordings:
        if condition.is_native:  # a peer: the recording at its original frame rate (at most the trace's)
            low = reimage_trace(rec.trace, min(float(rec.frame_rate), rate), None, np.random.default_rng(0),
                                rate)
        else:
            low = reimaged_trace(dataset, neuron, rec, condition)
        result = _predict_one(model, low.trace, low.frame_rate, stride, indicator)
        factor = rate / float(result.sampling_rate)
        if factor < 1 or not math.isclose(factor, round(factor)):
            raise InputError(f"{getattr(model, 'name', model)!r} predicts at {result.sampling_rate:g} Hz but the "
                             f"data are at {rate:g} Hz, not a whole multiple of it: load the datasets with "
                             f"sampling_rate={result.sampling_rate:g}")
        if result.spikes is None:
            raise InputError(f"{getattr(model, 'name', model)!r} returned no spike counts: predict with spikes")
        n = len(rec)
        rates.append(_fit(to_scoring_rate(result.rate[0], round(factor), split=True), n, np.float64))
        counts.append(_fit(to_scoring_rate(result.spikes[0], round(factor), split=False), n, np.int64))
        members.append(str(result.member[0]) if result.member is not None else None)
    true_rate = np.concatenate([r.rate for r in neuron.recordings])
    member = ",".join(sorted({m for m in members if m})) or None
    return NeuronPrediction(pred_rate=np.concatenate(rates), true_rate=true_rate,
                            pred_events=spike_times(np.concatenate(counts), rate),
                            true_events=true_events(neuron), sampling_rate=rate, member=member)


def _check_conditions(conditions: Sequence[Condition], datasets: Sequence[Dataset]) -> None:
    for cond in conditions:
        if cond.is_native:
            continue
        for dataset in datasets:
            if cond.frame_rate > dataset.sampling_rate:
                raise InputError(f"condition {cond.label}: {cond.frame_rate:g} Hz exceeds the data's "
                                 f"{dataset.sampling_rate:g} Hz; re-imaging only lowers the frame rate: "
                                 f"choose a rate ≤ {dataset.sampling_rate:g} Hz")


def evaluate_conditions(model: Predictor, datasets: Sequence[Dataset],
                        conditions: str | Sequence[str | Condition] = PAPER_CONDITIONS, *, stride: int = 1,
                        progress: ProgressArg = None, indicator: str | None = None) -> list[dict]:
    """Metrics of ``model`` on every neuron of ``datasets`` under every condition.

    Args:
        model: a :class:`SpikeModel` or a peer (:class:`~ens2zoo.benchmark.oasis.OASIS`).
        datasets: loaded datasets at the model's sampling rate (60 Hz).
        conditions: ``"native,30:2,..."`` or parsed :class:`Condition` objects.
        stride: window stride of a SpikeModel (1 = exact).
        progress: None, True for a tqdm bar, or a callable ``f(done, total, "dataset/neuron condition")``.
        indicator: for a SpikeModel's count calibration: an indicator,
            :data:`~ens2zoo.benchmark.evaluation.FROM_DATASET` (each dataset's own) or None (its default gain).

    Returns:
        One dict per (dataset, condition, neuron) with the keys :data:`CONDITION_COLUMNS`, by
        dataset, then condition in the order given, then neuron.  The ``native`` rows of a
        SpikeModel equal :func:`~ens2zoo.benchmark.evaluation.evaluate_model`'s.
    """
    conds = parse_conditions(conditions)
    _check_conditions(conds, datasets)
    total = sum(len(d.neurons) for d in datasets) * len(conds)
    report, bar = progress_callback(progress, total, "evaluating", unit="neuron")
    rows: list[dict] = []
    done = 0
    try:
        for dataset in datasets:
            for cond in conds:
                preds = []
                for neuron in dataset.neurons:
                    preds.append(condition_prediction(model, neuron, cond, stride=stride, dataset=dataset.name,
                                                      indicator=dataset_indicator(indicator, dataset)))
                    done += 1
                    if report is not None:
                        report(done, total, f"{dataset.name}/{neuron.name} {cond.label}")
                scored = score_predictions(dataset.name, [n.name for n in dataset.neurons], preds)
                rows.extend({**{k: r[k] for k in COLUMNS[:2]}, **cond.columns(), **{k: r[k] for k in COLUMNS[2:]}}
                            for r in scored)
                log.debug("%s: %s scored on %d neurons under %s", getattr(model, "name", model), dataset.name,
                          len(preds), cond.label)
    finally:
        if bar is not None:
            bar.close()
    return rows


def row_condition(row: dict) -> Condition:
    """The :class:`Condition` of a row (read back from a CSV or as returned)."""
    rate, nu = row.get("condition_frame_rate"), row.get("condition_noise")
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return Condition()
    return Condition(float(rate), float(nu))


def write_condition_csv(path, rows: Sequence[dict]) -> None:
    """Write condition rows (:data:`CONDITION_COLUMNS`) atomically."""
    write_csv(path, rows, CONDITION_COLUMNS)
