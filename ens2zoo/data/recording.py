"""The published ENS² preprocessing of one recording (one trial of one neuron).

Steps, following ``load_recordings_from_file`` of the published ENS² code:

1. frame rate ``fr = 1 / mean(diff(t))`` of the (NaN-free) imaging time stamps;
2. keep spikes inside ``[t[0], t[-1]]``, shift spikes and time stamps so the first
   frame is at ``1/fr``;
3. resample ΔF/F to ``round(N·sampling_rate/fr)`` samples with
   ``scipy.signal.resample(x, num, t)`` (Fourier method);
4. rescale the resampled time stamps so their mean step is exactly one target
   frame ("calibrate bin size");
5. trim ``ceil(0.5·fr_res)`` samples at the start and keep
   ``num − floor(fr_res)`` samples (about half a second off each end);
6. keep the spikes inside the trimmed window and shift them and the time stamps
   so the first frame is at ``1/fr_res``;
7. bin spikes with a histogram whose edges lie half a frame before each time
   stamp (the last edge on the last time stamp);
8. smooth the counts, zero-padded by ``WINDOW//2`` frames on both sides, with a
   Gaussian of σ = 25 ms (``scipy.ndimage.gaussian_filter``), then un-pad.

A recording is skipped (:class:`RecordingSkipped`) when it has no spike inside
the window, too few frames, non-increasing time stamps or non-finite ΔF/F.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

from ens2zoo.data.matfile import RawTrial
from ens2zoo.defaults import SAMPLING_RATE, SMOOTHING_SIGMA_S, WINDOW
from ens2zoo.utils.checks import check_rate

__all__ = ["Recording", "RecordingSkipped", "preprocess_recording", "smooth_counts",
           "smoothing_sigma_frames"]


class RecordingSkipped(Exception):
    """A recording that the published loader leaves out; ``str(exc)`` is the reason."""


@dataclass(eq=False)
class Recording:
    """One preprocessed recording at the target sampling rate.

    Attributes:
        trace: ΔF/F resampled to ``sampling_rate``, shape (n,), float32.
        spikes: spike counts per target frame, shape (n,), int32.
        rate: ``spikes`` smoothed by a Gaussian of σ = 25 ms
            (σ = 0.025·sampling_rate frames), spikes per frame, shape (n,), float32.
        event_times: spike times (seconds) on the trace's clock, where frame k
            (0-based) is at (k+1)/sampling_rate; float64.
        frame_rate: original imaging frame rate, Hz.
        noise_level: published per-trial noise level:
            median|diff(trace)|·100/√frame_rate, on the *resampled* trace (as
            published; the CASCADE ν of the neuron is ``Neuron.noise_level``).
        firing_rate: published per-trial firing rate, Hz:
            spikes in the window / ((n+1) frames / sampling rate).
        index: position of the trial in the source file (0-based).
        sampling_rate: target rate, Hz.
    """

    trace: np.ndarray
    spikes: np.ndarray
    rate: np.ndarray
    event_times: np.ndarray
    frame_rate: float
    noise_level: float
    firing_rate: float
    index: int = 0
    sampling_rate: float = SAMPLING_RATE

    def __len__(self) -> int:
        return int(self.trace.shape[0])

    @property
    def duration(self) -> float:
        """Length of the preprocessed trace, seconds."""
        return len(self) / self.sampling_rate

    @property
    def n_spikes(self) -> int:
        """Number of spikes binned into the trace."""
        return int(self.spikes.sum())


def smoothing_sigma_frames(sampling_rate: float) -> float:
    """σ of the target-rate Gaussian in frames: 0.025 s × ``sampling_rate``."""
    return SMOOTHING_SIGMA_S * sampling_rate


def smooth_counts(counts: np.ndarray, sampling_rate: float = SAMPLING_RATE,
                  pad: int = WINDOW // 2) -> np.ndarray:
    """Gaussian-smoothed spike counts, as published, *including* the zero padding.

    Args:
        counts: spike counts per frame, shape (n,).
        sampling_rate: target rate (Hz); σ = 0.025·sampling_rate frames.
        pad: zeros added on each side before smoothing (``WINDOW//2`` as published).

    Returns:
        float64 array of shape (n + 2·pad,): the smoothed padded counts
        (``scipy.ndimage.gaussian_filter``, mode 'reflect', truncate 4).  Spike
        mass leaks a few frames into the padding; training windows keep it.
    """
    padded = np.concatenate([np.zeros(pad), np.asarray(counts, dtype=float), np.zeros(pad)])
    return scipy.ndimage.gaussian_filter(padded, sigma=smoothing_sigma_frames(sampling_rate))


def preprocess_recording(raw: RawTrial, sampling_rate: float = SAMPLING_RATE) -> Recording:
    """Resample, trim, bin and smooth one raw trial (published ENS² preprocessing).

    Args:
        raw: the trial as read from the file (NaN time stamps already dropped).
        sampling_rate: target rate in Hz (60 Hz for the published models).

    Returns:
        The :class:`Recording`.

    Raises:
        RecordingSkipped: no spike inside the imaging window (before or after
            trimming), too few frames, non-increasing time stamps or non-finite ΔF/F.
        InputError: ``sampling_rate`` is not a positive finite number.
    """
    sampling_rate = check_rate(sampling_rate, "sampling_rate", flag="sampling_rate=60.0")
    times = raw.times
    trace = raw.trace
    if times.shape[0] < 2:
        raise RecordingSkipped(f"too few frames ({times.shape[0]})")
    frame_rate = 1 / np.mean(np.diff(times))
    if not (np.isfinite(frame_rate) and frame_rate > 0):
        raise RecordingSkipped("time stamps do not increase")
    if not np.all(np.isfinite(trace)):
        raise RecordingSkipped("ΔF/F holds NaN or infinite values")

    # spikes inside the imaging window; first frame at 1/fr
    events = raw.spike_times
    events = events[np.logical_and(times[0] <= events, events <= times[-1])]
    events = events - times[0] + 1 / frame_rate
    times = times - times[0] + 1 / frame_rate
    if events.size == 0:
        raise RecordingSkipped("no spike inside the imaging window")

    # Fourier resampling to the target rate
    num_samples = round(trace.shape[0] * sampling_rate / frame_rate)
    if num_samples < 2:
        raise RecordingSkipped(f"too few frames ({trace.shape[0]} at {frame_rate:.1f} Hz)")
    resampled, t_res = scipy.signal.resample(trace, num_samples, times, axis=0)
    fr_res = 1 / np.nanmean(np.diff(t_res))
    # calibrate bin size: make the mean step exactly one target frame
    t_res = t_res * fr_res / sampling_rate
    fr_res = 1 / np.nanmean(np.diff(t_res))

    # trim about half a second at each end
    num_samples -= int(np.floor(fr_res))
    first = int(np.ceil(0.5 * fr_res))
    resampled = resampled[first:first + num_samples]
    t_res = t_res[first:first + num_samples]
    if t_res.size == 0:
        raise RecordingSkipped(f"too few frames to trim half a second at each end "
                               f"({trace.shape[0]} frames at {frame_rate:.1f} Hz)")

    # re-align the spikes to the trimmed window
    events = events[np.logical_and(t_res[0] <= events, events <= t_res[-1])]
    events = events - t_res[0] + 1 / fr_res
    t_res = t_res - t_res[0] + 1 / fr_res
    if events.size == 0:
        raise RecordingSkipped("no spike inside the trimmed window")

    # bin: edges half a frame before each time stamp, last edge on the last stamp
    edges = np.append(t_res, t_res[-1] + 1 / fr_res / 2) - 1 / fr_res / 2
    counts, edges = np.histogram(events, bins=edges)

    firing_rate = float(np.sum(counts) / (len(edges) / fr_res))
    noise_level = float(np.nanmedian(np.abs(np.diff(resampled))) * 100 / np.sqrt(frame_rate)) \
        if resampled.shape[0] > 1 else float("nan")

    pad = WINDOW // 2
    rate = smooth_counts(counts, sampling_rate, pad)[pad:pad + counts.shape[0]]
    return Recording(
        trace=np.asarray(resampled, dtype=np.float32),
        spikes=counts.astype(np.int32),
        rate=rate.astype(np.float32),
        event_times=np.asarray(events, dtype=np.float64),
        frame_rate=float(frame_rate),
        noise_level=noise_level,
        firing_rate=firing_rate,
        index=raw.index,
        sampling_rate=float(sampling_rate),
    )
