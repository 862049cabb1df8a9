"""Transient kinetics of ΔF/F traces, and the indicator family they look like (the indicator advice).

At 30 Hz (traces at a higher frame rate are Fourier-resampled to it; slower ones are not
measured), the *transient peaks* of a trace are its local maxima (9-frame neighbourhood) more
than 6 noise SDs above a running baseline (the minimum of the 5-frame mean over the preceding
2 s); the noise SD is the median absolute frame-to-frame difference / 0.6745 / √2.  Over its
peaks, a neuron's

* ``rise_ratio`` is the median of (x[p − 1] − b) / (x[p] − b): how far the transient had
  risen one frame (33 ms) before its peak (jGCaMP8 rises within a frame: small);
* ``decay_ratio`` the median of (x[p + 3] − b) / (x[p] − b): what is left 100 ms after it;
* ``peak_dff`` the median of x[p] − b, ΔF/F (jGCaMP8's transients are several times larger).

:func:`indicator_family` feeds the three (``log`` of ``peak_dff``) to a logistic model fitted on
every neuron of the excitatory ground truth (DS02–DS21) and of jGCaMP8f/m/s (DS30–DS32), each
re-imaged at 30 Hz at its own noise, by ``benchmarks/gcamp8/kinetics_probe.py``, which also
measures it held out (leave one dataset out for the classic indicators, one mouse fold out for
jGCaMP8).  A neuron with fewer than :data:`MIN_PEAKS` peaks is not classified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from ens2zoo.inference.traces import resample

__all__ = ["ADVICE_RATE", "CLASSIC", "GCAMP8", "Kinetics", "family_scores", "indicator_family", "kinetics_of",
           "peak_ratios", "transient_kinetics"]

#: frame rate (Hz) the kinetics are measured at
ADVICE_RATE = 30.0
#: inputs slower than this are not measured (a frame is then too long to see the rise)
MIN_ADVICE_RATE = 29.0
#: peaks a neuron needs to be classified
MIN_PEAKS = 5
#: peak threshold, noise SDs above the running baseline
PEAK_SDS = 6.0
#: frames after the peak at which ``decay_ratio`` is read (100 ms at 30 Hz)
DECAY_LAG = 3
#: the two families the advice tells apart
GCAMP8, CLASSIC = "gcamp8", "classic"

# Logistic model (GCaMP8 when > 0) on the standardised features (rise_ratio, decay_ratio,
# log peak_dff): fitted by benchmarks/gcamp8/kinetics_probe.py on all 278 classified neurons
# (held out: 90.2 % of jGCaMP8 and 88.8 % of classic neurons named right).
_MEAN = np.array([0.783, 0.6484, -0.7435])
_SCALE = np.array([0.1115, 0.136, 0.9197])
_COEF = np.array([-1.528, -0.3419, 3.4633])
_BIAS = -1.951
#: 10th–90th percentile of each feature over each family's ground-truth neurons (same script)
FAMILY_RANGES = {GCAMP8: {"rise_ratio": (0.561, 0.799), "decay_ratio": (0.436, 0.757), "peak_dff": (0.649, 1.865)},
                 CLASSIC: {"rise_ratio": (0.728, 0.934), "decay_ratio": (0.501, 0.836), "peak_dff": (0.085, 0.849)}}
#: how messages name the features
FEATURE_TEXT = {"rise_ratio": "share of the peak reached 33 ms before it", "decay_ratio": "share left 100 ms after it",
                "peak_dff": "peak ΔF/F"}


@dataclass(frozen=True)
class Kinetics:
    """Per-neuron transient kinetics at 30 Hz (NaN where fewer than :data:`MIN_PEAKS` peaks).

    Attributes:
        rise_ratio: (n,) fraction of the peak reached one frame (33 ms) before it.
        decay_ratio: (n,) fraction of the peak left 100 ms after it.
        peak_dff: (n,) median peak height above the baseline, ΔF/F.
        n_peaks: (n,) transient peaks found.
    """

    rise_ratio: np.ndarray
    decay_ratio: np.ndarray
    peak_dff: np.ndarray
    n_peaks: np.ndarray

    def features(self) -> np.ndarray:
        """(n, 3) rise_ratio, decay_ratio, log peak_dff."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.column_stack([self.rise_ratio, self.decay_ratio, np.log(self.peak_dff)])


def peak_ratios(trace: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rise ratios, decay ratios, peak heights) at each transient peak of one 30 Hz ΔF/F trace."""
    x = np.asarray(trace, dtype=np.float64)
    fs = ADVICE_RATE
    if x.size < 2 * fs:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    sd = np.median(np.abs(np.diff(x))) / 0.6745 / np.sqrt(2)
    base = minimum_filter1d(uniform_filter1d(x, 5), int(2 * fs), origin=int(fs) - 1)
    height = x - base
    peaks = np.flatnonzero((x == maximum_filter1d(x, 9)) & (height > PEAK_SDS * sd))
    peaks = peaks[(peaks >= 1) & (peaks < x.size - DECAY_LAG)]
    h = height[peaks]
    return (x[peaks - 1] - base[peaks]) / h, (x[peaks + DECAY_LAG] - base[peaks]) / h, h


def kinetics_of(ratios: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, float, float, int]:
    """(rise_ratio, decay_ratio, peak_dff, n_peaks) of one neuron from its recordings' :func:`peak_ratios`."""
    rise, decay, height = (np.concatenate([r[i] for r in ratios]) if ratios else np.zeros(0) for i in range(3))
    if rise.size < MIN_PEAKS:
        return float("nan"), float("nan"), float("nan"), int(rise.size)
    return float(np.median(rise)), float(np.median(decay)), float(np.median(height)), int(rise.size)


def transient_kinetics(traces: np.ndarray, frame_rate: float) -> Kinetics | None:
    """The kinetics of each row of ``traces`` (neurons × frames, ΔF/F at ``frame_rate`` Hz); None
    for inputs slower than :data:`MIN_ADVICE_RATE` Hz."""
    if frame_rate < MIN_ADVICE_RATE:
        return None
    data = np.atleast_2d(np.asarray(traces, dtype=np.float64))
    if abs(frame_rate - ADVICE_RATE) > 1e-9:
        data = resample(data, frame_rate, ADVICE_RATE)
    values = np.array([kinetics_of([peak_ratios(row)]) for row in data], dtype=np.float64).reshape(-1, 4)
    return Kinetics(rise_ratio=values[:, 0], decay_ratio=values[:, 1], peak_dff=values[:, 2],
                    n_peaks=values[:, 3].astype(np.int64))


def family_scores(features: np.ndarray) -> np.ndarray:
    """The logistic model's score per neuron (> 0: jGCaMP8-like; NaN where a feature is)."""
    return ((np.asarray(features, dtype=np.float64) - _MEAN) / _SCALE) @ _COEF + _BIAS


def indicator_family(kinetics: Kinetics) -> np.ndarray:
    """Per neuron, :data:`GCAMP8` or :data:`CLASSIC` (OGB-1, GCaMP5/6, R-CaMP, jGECO, …), "" if unmeasured."""
    scores = family_scores(kinetics.features())
    return np.where(np.isnan(scores), "", np.where(scores > 0, GCAMP8, CLASSIC))
