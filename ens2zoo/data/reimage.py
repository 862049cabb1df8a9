"""Re-imaging ground truth the way users record: a lower frame rate and more noise.

Protocol (the one the condition table of the noise-matching work uses, so training
and evaluation agree):

1. start from the recording's **60 Hz trace** (``Recording.trace``, the published
   preprocessing of the original ΔF/F).  We keep no other copy of the original-rate
   ΔF/F: the 60 Hz trace holds every frequency the original had up to 30 Hz, which
   covers every target rate ≤ 60 Hz, and the spike counts are already aligned to it;
2. Fourier-resample it to the target frame rate R (``scipy.signal.resample``, the
   resampler ``predict`` uses), ``round(n·R/60)`` frames;
3. measure its noise level ν₀ at R (:func:`ens2zoo.inference.noise.noise_level`) and
   add **white Gaussian noise** in quadrature so that ν reaches the target ν:
   σ = √(ν² − ν₀²)·√R/100/(√2·0.6745).  White noise, not CASCADE's √(ΔF/F+1)-scaled
   noise, because it is what the condition protocol prescribes and because ν — the
   quantity that routes a neuron — is defined by the median absolute difference,
   which white noise sets exactly; a recording **already noisier** than the target
   (ν₀ ≥ ν) is **kept as it is** (CASCADE skips it; we keep it so that every neuron
   has a row in every condition);
4. bring the trace back to 60 Hz exactly as ``predict`` does (``resample`` from R to
   60 Hz), cut or zero-pad to the original length so that the spike counts and the
   smoothed rate stay aligned sample for sample.

Deterministic: the noise comes from the ``rng`` passed in; :func:`condition_seed`
derives one from (neuron, recording, condition) so that results do not depend on
order or on how work is split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import scipy.signal

from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording, smooth_counts
from ens2zoo.defaults import WINDOW
from ens2zoo.errors import InputError
from ens2zoo.inference.noise import noise_level as measure_noise
from ens2zoo.inference.noise import white_noise_sigma
from ens2zoo.inference.traces import resample
from ens2zoo.utils.checks import check_rate


@dataclass(frozen=True)
class Reimaged:
    """A re-imaged trace.

    Attributes:
        trace: ΔF/F at the target frame rate (what a user's file would hold), float64.
        trace60: the same brought back to the model's sampling rate, as ``predict`` does,
            cut/padded to the recording's length, float32.
        frame_rate: target frame rate, Hz.
        noise_level: ν of ``trace`` at ``frame_rate`` after adding noise, %·Hz^-1/2.
        original_noise_level: ν of the resampled trace before adding noise, %·Hz^-1/2.
    """

    trace: np.ndarray
    trace60: np.ndarray
    frame_rate: float
    noise_level: float
    original_noise_level: float


def condition_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (e.g. dataset, neuron, recording index, frame rate, ν), order-sensitive."""
    digest = hashlib.sha256("|".join(repr(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def reimage_trace(trace60: np.ndarray, frame_rate: float, noise_level: float | None, rng: np.random.Generator,
                  sampling_rate: float = 60.0) -> Reimaged:
    """Re-image one trace sampled at ``sampling_rate`` Hz (see the module docstring).

    Args:
        trace60: ΔF/F at ``sampling_rate``.
        frame_rate: target frame rate R, Hz (≤ ``sampling_rate``).
        noise_level: target ν at R, %·Hz^-1/2; None adds no noise.
        rng: source of the noise.
    """
    frame_rate = check_rate(frame_rate, "target frame rate")
    if frame_rate > sampling_rate:
        raise InputError(f"target frame rate {frame_rate:g} Hz exceeds the trace's {sampling_rate:g} Hz: "
                         "re-imaging only lowers the frame rate")
    x = np.asarray(trace60, dtype=np.float64)
    n = x.shape[0]
    low = resample(x[None, :], sampling_rate, frame_rate)[0] if frame_rate != sampling_rate else x.copy()
    nu0 = float(measure_noise(low, frame_rate))
    nu = nu0
    if noise_level is not None:
        if not np.isfinite(noise_level) or noise_level < 0:
            raise InputError(f"noise level {noise_level!r} must be a non-negative ν in %·Hz^-1/2")
        if nu0 < noise_level:
            sigma = white_noise_sigma(np.sqrt(noise_level ** 2 - nu0 ** 2), frame_rate)
            low = low + rng.normal(0.0, sigma, size=low.shape)
            nu = float(measure_noise(low, frame_rate))
    back = resample(low[None, :], frame_rate, sampling_rate)[0] if frame_rate != sampling_rate else low
    out = np.zeros(n, dtype=np.float32)
    m = min(n, back.shape[0])
    out[:m] = back[:m]
    return Reimaged(trace=low, trace60=out, frame_rate=frame_rate, noise_level=nu, original_noise_level=nu0)


def reimage(recording: Recording, frame_rate: float, noise_level: float | None,
            rng: np.random.Generator) -> Recording:
    """``recording`` re-imaged at ``frame_rate`` Hz and ν ``noise_level``, back at its sampling rate.

    The spikes, smoothed rate and event times are the recording's own (same length);
    ``frame_rate`` and ``noise_level`` of the result describe the re-imaged trace
    (ν at the target frame rate, %·Hz^-1/2).
    """
    r = reimage_trace(recording.trace, frame_rate, noise_level, rng, recording.sampling_rate)
    return replace(recording, trace=r.trace60, frame_rate=r.frame_rate, noise_level=r.noise_level)


def stretch(recording: Recording, factor: float) -> Recording:
    """``recording`` with its time running ``factor``× faster: a neuron whose indicator rises and decays
    ``factor``× faster and which fires ``factor``× more often, with the same ΔF/F per spike.

    The trace (at ``sampling_rate``) is Fourier-resampled to ``round(n / factor)`` samples (as
    :func:`~ens2zoo.data.recording.preprocess_recording` resamples), each event time divided by ``factor``,
    the events binned on the new samples (edges half a sample either side; sample k at (k + 1) /
    sampling_rate, like the recording) and smoothed as the ground truth is (σ = 25 ms).  The frame rate
    scales with ``factor``; ν is measured on the new trace.
    """
    if not (np.isfinite(factor) and factor > 0):
        raise InputError(f"time stretch factor {factor!r} must be a positive number")
    fs = recording.sampling_rate
    n = max(2, round(len(recording) / factor))
    trace = scipy.signal.resample(np.asarray(recording.trace, dtype=np.float64), n)
    events = recording.event_times / factor
    counts, _ = np.histogram(events, bins=(np.arange(n + 1) + 0.5) / fs)
    pad = WINDOW // 2
    frame_rate = recording.frame_rate * factor
    return replace(recording, trace=trace.astype(np.float32), spikes=counts.astype(np.int32),
                   rate=smooth_counts(counts, fs, pad)[pad:pad + n].astype(np.float32),
                   event_times=events[(events >= 0.5 / fs) & (events < (n + 0.5) / fs)],
                   frame_rate=frame_rate,
                   noise_level=float(np.median(np.abs(np.diff(trace))) * 100 / np.sqrt(frame_rate)),
                   firing_rate=float(counts.sum() / ((n + 1) / fs)))


#: how :class:`ReimageSpec` draws each copy's ν within its range
NOISE_SCALES = ("linear", "log")


@dataclass(frozen=True)
class ReimageSpec:
    """How training data are re-imaged: ``copies`` extra copies of every recording.

    Each copy of a recording gets a frame rate drawn uniformly from ``frame_rates`` (Hz)
    and a target ν drawn from ``noise_levels`` = (low, high) %·Hz^-1/2 — uniformly
    (``noise_scale="linear"``) or log-uniformly (``"log"``: as many copies per octave of ν,
    so ν 1–20 puts 46 % of the copies below ν 4 instead of 16 %) — then
    :func:`reimage_trace` (recordings already noisier keep their own noise).  The
    originals are kept too when ``keep_original``.  With ``stretch`` = (low, high) ≠ (1, 1) each copy's
    time axis is first scaled by a factor drawn log-uniformly in it (:func:`stretch`: indicators
    faster or slower than the recorded ones, for training data of few mice); (1, 1), the default, draws
    nothing, so specs without it make the same copies as before it existed.  Draws are seeded by
    (dataset, neuron, recording, copy, ``seed``), so the training set does not depend on
    the order data are loaded in.

    Memory: the training windows cost ~12 bytes per 60 Hz sample plus 8 per window, so
    all excitatory data (DS02–DS21, 19.4 h) take ~90 MB per copy: ~360 MB with the
    originals and 3 copies.
    """

    frame_rates: tuple[float, ...] = (7.5, 15.0, 30.0)
    noise_levels: tuple[float, float] = (1.0, 9.0)
    copies: int = 3
    keep_original: bool = True
    seed: int = 0
    noise_scale: str = "linear"
    stretch: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_rates", tuple(float(r) for r in self.frame_rates))
        object.__setattr__(self, "noise_levels", tuple(float(v) for v in self.noise_levels))
        object.__setattr__(self, "stretch", tuple(float(v) for v in self.stretch))
        if len(self.stretch) != 2 or not 0 < self.stretch[0] <= self.stretch[1] < np.inf:
            raise InputError(f"re-imaging time stretch {self.stretch} must be (low, high) with 0 < low ≤ high")
        if not self.frame_rates or any(not 0 < r <= 60 for r in self.frame_rates):
            raise InputError(f"re-imaging frame rates {self.frame_rates} must lie in (0, 60] Hz")
        low, high = self.noise_levels
        if not 0 <= low <= high:
            raise InputError(f"re-imaging noise range {self.noise_levels} must be (low, high) with 0 ≤ low ≤ high")
        if self.noise_scale not in NOISE_SCALES:
            raise InputError(f"re-imaging noise scale {self.noise_scale!r}: use one of {', '.join(NOISE_SCALES)}")
        if self.noise_scale == "log" and not low > 0:
            raise InputError(f"re-imaging noise range {self.noise_levels} drawn log-uniformly must start above ν 0")
        if self.copies < 1:
            raise InputError(f"re-imaging copies={self.copies} must be ≥ 1")

    @classmethod
    def parse(cls, text: str) -> ReimageSpec:
        """From ``"rates=7.5,15,30;noise=1-9;scale=log;stretch=0.8-1.25;copies=3;original=1;seed=0"`` (any
        subset, any order)."""
        fields: dict = {}
        for item in (p.strip() for p in str(text).split(";") if p.strip()):
            key, sep, value = item.partition("=")
            try:
                if key == "rates":
                    fields["frame_rates"] = tuple(float(v) for v in value.split(","))
                elif key == "noise":
                    low, _, high = value.partition("-")
                    fields["noise_levels"] = (float(low), float(high or low))
                elif key == "stretch":
                    low, _, high = value.partition("-")
                    fields["stretch"] = (float(low), float(high or low))
                elif key == "scale":
                    fields["noise_scale"] = value.strip()
                elif key == "copies":
                    fields["copies"] = int(value)
                elif key == "original":
                    fields["keep_original"] = value.strip().lower() in ("1", "true", "yes")
                elif key == "seed":
                    fields["seed"] = int(value)
                else:
                    raise ValueError
                if not sep:
                    raise ValueError
            except ValueError:
                raise InputError(f"--reimage {text!r}: cannot read {item!r}; write e.g. "
                                 "'rates=7.5,15,30;noise=1-9;scale=log;stretch=0.8-1.25;copies=3;original=1;seed=0'"
                                 ) from None
        return cls(**fields)

    def to_dict(self) -> dict:
        return {"frame_rates": list(self.frame_rates), "noise_levels": list(self.noise_levels),
                "noise_scale": self.noise_scale, "copies": self.copies, "keep_original": self.keep_original,
                "seed": self.seed, "stretch": list(self.stretch)}

    def draw_noise_level(self, rng: np.random.Generator) -> float:
        """One copy's target ν (%·Hz^-1/2) from ``noise_levels`` on ``noise_scale`` (one draw of ``rng``)."""
        low, high = self.noise_levels
        if self.noise_scale == "log":
            return float(np.exp(rng.uniform(np.log(low), np.log(high))))
        return float(rng.uniform(low, high))

    def draw_stretch(self, rng: np.random.Generator) -> float | None:
        """One copy's time-stretch factor, log-uniform in ``stretch`` (one draw of ``rng``), or None
        (no draw) when ``stretch`` is (1, 1)."""
        if self.stretch == (1.0, 1.0):
            return None
        low, high = self.stretch
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def reimage_neurons(neurons: list[Neuron], spec: ReimageSpec) -> list[Neuron]:
    """Neurons whose recordings are the originals (if kept) followed by ``spec.copies`` re-imaged copies each."""
    out = []
    for neuron in neurons:
        recordings = list(neuron.recordings) if spec.keep_original else []
        for copy in range(spec.copies):
            for rec in neuron.recordings:
                rng = np.random.default_rng(condition_seed(neuron.dataset, neuron.name, rec.index, copy, spec.seed))
                rate = float(spec.frame_rates[rng.integers(len(spec.frame_rates))])
                nu = spec.draw_noise_level(rng)
                factor = spec.draw_stretch(rng)
                recordings.append(reimage(rec if factor is None else stretch(rec, factor), rate, nu, rng))
        out.append(replace(neuron, recordings=recordings))
    return out
