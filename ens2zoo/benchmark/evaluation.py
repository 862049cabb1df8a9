"""Scoring a model on ground-truth neurons the way the published ENS² benchmark does.

For every neuron (all its kept recordings, already resampled to 60 Hz by
:mod:`ens2zoo.data`):

1. each recording's ΔF/F trace is run through the model at ``frame_rate`` =
   the data's sampling rate (60 Hz).  :meth:`SpikeModel.predict` then
   "resamples" 60 Hz to 60 Hz: ``scipy.signal.resample`` to the same length is
   an FFT round trip, exact to ~1e-16 in float64, and the network sees the
   float32 trace bit for bit (checked on the whole database).  The published
   code does the same round trip inside its loader.  A family of networks is
   routed by the neuron's ν at its original frame rate (``Neuron.noise_level``);
2. the predicted rates of the neuron's recordings are concatenated, and so are
   the true smoothed rates (``Recording.rate``);
3. **as published**, the overlap-add runs over the neuron's concatenated windows:
   the outputs of the windows at the end of one recording that fall beyond its
   last sample are added to the first samples of the next recording (and the
   outputs before a recording's first sample to the previous one's last samples),
   every sample being divided by the window length.  This touches at most
   ``window/2`` samples on either side of each recording boundary;
   :func:`neuron_prediction` reproduces it exactly (``published_boundaries=False``
   keeps the recordings separate instead);
4. **as published**, discrete spikes are estimated once on the neuron's
   concatenated predicted rate (:func:`ens2zoo.inference.spikes.estimate_spikes`, whose
   run-splitting depends on the whole trace), and converted to times with sample
   k → k/60 s (:mod:`ens2zoo.inference.clock`, the clock of every ens2zoo output).
   Equivalently, each recording's events sit at their own times offset by the summed
   duration of the previous recordings;
5. the true events (:func:`true_events`) are each recording's ``event_times`` on the
   same clock — the published loader puts a recording's sample k at (k + 1)/60 s, so
   they move 1/60 s earlier — offset by the summed duration (``len/60`` s) of the
   previous recordings.  Predicted and true events move together, so every metric
   equals the published clock's (``benchmarks/lodo/check_folds.py``);
6. :func:`ens2zoo.metrics.evaluate_many` gives corr (%), vrd, vpd, er50 (%),
   error and bias per neuron.

Rows have the columns :data:`COLUMNS`; :func:`summarize` gives per-dataset
medians and :func:`write_csv` writes either atomically.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ens2zoo.data import Dataset, Neuron
from ens2zoo.errors import InputError
from ens2zoo.inference.spikes import estimate_spikes, spike_times
from ens2zoo.inference.traces import resample
from ens2zoo.inference.windows import cpu_batch_pool, default_batch_size, network_rate
from ens2zoo.metrics import COLUMNS as METRIC_COLUMNS
from ens2zoo.metrics import evaluate_many
from ens2zoo.model import SpikeModel
from ens2zoo.utils.atomic import atomic_path
from ens2zoo.utils.progress import ProgressArg, progress_callback

__all__ = ["COLUMNS", "SUMMARY_COLUMNS", "NeuronPrediction", "evaluate_model", "neuron_prediction",
           "read_csv", "row_count", "score_predictions", "summarize", "true_events", "write_csv"]

#: Columns of a per-neuron row, in order.
COLUMNS = ("dataset", "neuron", *METRIC_COLUMNS)
#: Columns of a per-dataset summary row (medians over the dataset's neurons).
SUMMARY_COLUMNS = ("dataset", "neurons", *METRIC_COLUMNS)

@dataclass
class NeuronPrediction:
    """A neuron's predicted and true spiking over its concatenated recordings.

    Attributes:
        pred_rate: predicted rate, spikes per frame at ``sampling_rate`` (float64).
        true_rate: true smoothed rate, same length (float32).
        pred_events: predicted spike times, seconds on the concatenated clock.
        true_events: true spike times, seconds on the concatenated clock.
        sampling_rate: Hz.
        member: for a family, the member that served the neuron (None otherwise).
    """

    pred_rate: np.ndarray
    true_rate: np.ndarray
    pred_events: np.ndarray
    true_events: np.ndarray
    sampling_rate: float
    member: str | None = None


def _check_rates(model: SpikeModel, sampling_rate: float) -> None:
    if not math.isclose(float(sampling_rate), float(model.preprocessing.sampling_rate)):
        raise InputError(f"the data are at {sampling_rate:g} Hz but model {model.name!r} works at "
                         f"{model.preprocessing.sampling_rate:g} Hz: load the datasets with "
                         f"sampling_rate={model.preprocessing.sampling_rate:g}")


def true_events(neuron: Neuron) -> np.ndarray:
    """The true spike times (s) of ``neuron``'s recordings, concatenated, on the clock of ens2zoo's outputs.

    Sample k of the concatenated recordings is at k/sampling_rate (:mod:`ens2zoo.inference.clock`);
    a recording's ``event_times`` put its own sample k at (k + 1)/sampling_rate (the published
    loader), so each is moved 1/sampling_rate earlier and offset by the duration of the
    recordings before it.
    """
    rate = float(neuron.sampling_rate)
    starts = np.concatenate([[0], np.cumsum([len(r) for r in neuron.recordings])[:-1]])
    return np.concatenate([r.event_times - 1 / rate + start / rate for r, start in zip(neuron.recordings, starts)])


#: ``indicator=`` value of the evaluations: each dataset's own indicator, as its folder names it
FROM_DATASET = "dataset"


def dataset_indicator(indicator: str | None, dataset: Dataset) -> str | None:
    """The indicator a neuron of ``dataset`` is predicted with: ``indicator``, or with
    :data:`FROM_DATASET` the dataset's own (``DS32-GCaMP8s-m-V1`` → ``"GCaMP8s"``)."""
    return dataset.indicator if indicator == FROM_DATASET else indicator


def neuron_prediction(model: SpikeModel, neuron: Neuron, *, stride: int = 1,
                      published_boundaries: bool = True, batch_size: int | None = None,
                      indicator: str | None = None) -> NeuronPrediction:
    """Predicted and true rates and events of one neuron, concatenated over its recordings.

    Args:
        model: the model to score.
        neuron: a :class:`~ens2zoo.data.Neuron` at the model's sampling rate.
        stride: window stride (1 = exact, as published).
        published_boundaries: add the window outputs that fall outside a recording
            to its neighbours, as the published benchmark does (see the module
            docstring); False keeps the recordings' rates separate.
        batch_size: windows per forward pass (default: the model's).
        indicator: the recording's indicator, for the model's count calibration (as ``predict``).

    A family (``model.members`` non-empty) is routed by the neuron's ν at its
    **original** frame rate (:attr:`Neuron.noise_level`, what ``predict`` would measure
    on the user's file), not by the ν of its 60 Hz resampled trace: Fourier upsampling
    a recording slower than 60 Hz smooths its frame-to-frame differences, so that ν is
    far lower; single models have nothing to route.
    """
    rate = float(neuron.sampling_rate)
    _check_rates(model, rate)
    gain = model.count_gain(indicator, neuron.noise_level)
    if not neuron.recordings:
        raise InputError(f"neuron {neuron.name} of {neuron.dataset} has no recording to evaluate")
    whole = model.readout == "whole-trace"
    window = 1 if whole else model.preprocessing.window
    half = window // 2
    lengths = np.array([len(r) for r in neuron.recordings], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    total = int(lengths.sum())
    # position i of `summed` is concatenated sample i − half; each recording's rate,
    # with the spill-over of its edge windows, lands on its own positions
    summed = np.zeros(total + window - 1)
    dev = model.device
    net, member = model.net, None
    if model.members:
        index = model.route(np.array([neuron.noise_level], dtype=np.float64), frame_rate=neuron.frame_rate)[0]
        net, member = model.members[index].net, model.members[index].record.name
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode(), cpu_batch_pool(dev) as pool:
            for rec, start, n in zip(neuron.recordings, starts, lengths):
                # the same 60 Hz → 60 Hz FFT round trip as predict() (and as the published loader)
                trace60 = resample(np.asarray(rec.trace, dtype=np.float64)[None, :], rate,
                                   model.preprocessing.sampling_rate)[0]
                part, pad = network_rate(net, trace60, readout=model.readout, window=window,
                                         stride=stride, device=dev, pool=pool,
                                         batch_size=batch_size or default_batch_size(dev))
                if not published_boundaries:
                    part = part[pad:pad + n]
                    pad = 0
                summed[start + half - pad:start + half - pad + len(part)] += part
    finally:
        net.train(was_training)
    pred = summed[half:half + total] * gain
    sigma = model.preprocessing.smoothing_sigma_s
    counts = estimate_spikes(pred, rate, sigma, model.preprocessing.spike_estimator)
    true_rate = np.concatenate([r.rate for r in neuron.recordings])
    return NeuronPrediction(pred_rate=pred, true_rate=true_rate, pred_events=spike_times(counts, rate),
                            true_events=true_events(neuron), sampling_rate=rate, member=member)


def _as_dicts(table) -> list[dict]:
    if hasattr(table, "to_dict"):  # pandas DataFrame
        return table.to_dict("records")
    return list(table)


def score_predictions(dataset: str, neurons: Sequence[str], preds: Sequence[NeuronPrediction]) -> list[dict]:
    """Rows (:data:`COLUMNS`) scoring ``preds`` with :func:`ens2zoo.metrics.evaluate_many`.

    Each neuron is scored on its own (the metrics of one neuron do not depend on the
    others), so grouping neurons differently gives the same rows.
    """
    if len(neurons) != len(preds):
        raise InputError(f"{len(neurons)} neuron names for {len(preds)} predictions: give one name per prediction")
    if not preds:
        return []
    rates = {p.sampling_rate for p in preds}
    if len(rates) != 1:
        raise InputError(f"predictions at several sampling rates {sorted(rates)}: score each rate separately")
    table = _as_dicts(evaluate_many([p.pred_rate for p in preds], [p.true_rate for p in preds],
                                    [p.pred_events for p in preds], [p.true_events for p in preds],
                                    preds[0].sampling_rate))
    return [{"dataset": dataset, "neuron": name, **{c: float(metrics[c]) for c in METRIC_COLUMNS}}
            for name, metrics in zip(neurons, table)]


def evaluate_model(model: SpikeModel, datasets: Sequence[Dataset], *, stride: int = 1,
                   progress: ProgressArg = None, published_boundaries: bool = True,
                   indicator: str | None = None) -> list[dict]:
    """Benchmark metrics of ``model`` on every neuron of ``datasets``, as published.

    Args:
        model: a :class:`SpikeModel`.
        datasets: loaded :class:`~ens2zoo.data.Dataset` objects (at the model's rate).
        stride: window stride (1 = exact published read-out; larger is faster, approximate).
        progress: None, True for a tqdm bar, or a callable ``f(done, total, "dataset/neuron")``.
        published_boundaries: see :func:`neuron_prediction`.
        indicator: for the model's count calibration: an indicator, :data:`FROM_DATASET` (each
            dataset's own) or None (the model's default gain).

    Returns:
        One dict per neuron with the keys :data:`COLUMNS`: ``dataset`` (folder name),
        ``neuron`` (file name without ``.mat``), ``corr`` (%), ``vrd``, ``vpd``,
        ``er50`` (%), ``error``, ``bias``.
    """
    total = sum(len(d.neurons) for d in datasets)
    report, bar = progress_callback(progress, total, "evaluating", unit="neuron")
    rows: list[dict] = []
    done = 0
    try:
        for dataset in datasets:
            preds = []
            for neuron in dataset.neurons:
                preds.append(neuron_prediction(model, neuron, stride=stride,
                                               published_boundaries=published_boundaries,
                                               indicator=dataset_indicator(indicator, dataset)))
                done += 1
                if report is not None:
                    report(done, total, f"{dataset.name}/{neuron.name}")
            rows.extend(score_predictions(dataset.name, [n.name for n in dataset.neurons], preds))
    finally:
        if bar is not None:
            bar.close()
    return rows


def nan_median(values: Iterable[float | None]) -> float:
    """Median of the finite values (None and NaN skipped); NaN when none is left."""
    vals = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    return float(np.median(vals)) if vals.size else float("nan")


def row_count(row: Mapping) -> float | None:
    """The ``count`` (Σ rate / true spikes) of a per-neuron row; rows written before the column existed
    give ``1 + bias``, the same figure (``count = 1 + bias`` exactly); None where undefined."""
    count = row.get("count")
    if count is None and row.get("bias") is not None:
        count = 1.0 + float(row["bias"])
    return None if count is None or not np.isfinite(float(count)) else float(count)


def format_value(value: float | int | None, spec: str = ".1f") -> str:
    """``value`` formatted with ``spec`` for a table; "—" for None and NaN (a missing figure)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return format(value, spec)


def summarize(rows: Sequence[Mapping]) -> list[dict]:
    """Per-dataset medians (NaN values ignored) of the metric columns, in order of appearance.

    Returns one dict per dataset with the keys :data:`SUMMARY_COLUMNS`
    (``neurons`` = number of rows of that dataset); ``count`` is :func:`row_count` (``1 + bias`` in
    tables written before the column existed).  A column some rows of a dataset lack (empty cells:
    rows appended to a table written before the column existed) gives NaN, not the median of the rest.
    """
    groups: dict[str, list[Mapping]] = {}
    for row in rows:
        groups.setdefault(str(row["dataset"]), []).append(row)
    out = []
    for name, group in groups.items():
        summary = {"dataset": name, "neurons": len(group)}
        for col in METRIC_COLUMNS:
            values = [row_count(r) if col == "count" else r.get(col) for r in group]
            summary[col] = (float("nan") if any(v in ("", None) for v in values)
                            else nan_median(float(v) for v in values))
        out.append(summary)
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return "nan" if math.isnan(value) else repr(float(value))
    return str(value)


def write_csv(path: str | os.PathLike, rows: Sequence[Mapping], columns: Sequence[str] | None = None) -> None:
    """Write ``rows`` as CSV with a header, atomically (a temporary file renamed into place).

    Args:
        path: the file to write.
        rows: dicts; missing keys give empty cells.
        columns: column order (default: :data:`COLUMNS` if the rows have them, else the
            first row's keys).
    """
    if columns is None:
        if not rows or all(c in rows[0] for c in COLUMNS):
            columns = COLUMNS
        else:
            columns = list(rows[0])
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Rows of a CSV written by :func:`write_csv`; numeric cells become floats, empty cells None."""
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parsed = {}
            for key, value in row.items():
                if value == "" or value is None:
                    parsed[key] = None
                    continue
                try:
                    parsed[key] = float(value) if key not in ("dataset", "neuron") else value
                except ValueError:
                    parsed[key] = value
            out.append(parsed)
    return out
