"""One neuron: all its recordings preprocessed, plus the published neuron statistics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ens2zoo.data.matfile import RawTrial, read_trials
from ens2zoo.data.recording import Recording, RecordingSkipped, preprocess_recording
from ens2zoo.defaults import SAMPLING_RATE
from ens2zoo.inference.noise import noise_level

__all__ = ["Neuron", "build_neuron"]

log = logging.getLogger("ens2zoo.data")


@dataclass(eq=False)
class Neuron:
    """All usable recordings of one neuron (one ground-truth ``.mat`` file).

    Attributes:
        path: the source ``.mat`` file.
        dataset: name of the folder holding it (e.g. ``"DS09-GCaMP6f-m-V1"``).
        recordings: the kept recordings, in file order.
        noise_level: CASCADE standardized noise ν of the neuron, %·Hz^-1/2:
            median|diff| of the raw ΔF/F of every trial that has the three fields,
            concatenated, ×100/√(mean frame rate of the kept recordings).
        firing_rate: spikes per second, published definition: all non-NaN spikes of
            those trials / sum of their last time stamps (seconds).
        frame_rate: mean original frame rate of the kept recordings, Hz.
        sampling_rate: target rate of the recordings, Hz.
        skipped: ``(trial index, reason)`` for every trial left out.
    """

    path: Path
    dataset: str
    recordings: list[Recording]
    noise_level: float
    firing_rate: float
    frame_rate: float
    sampling_rate: float = SAMPLING_RATE
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """File name without the ``.mat`` suffix."""
        return self.path.stem

    @property
    def n_frames(self) -> int:
        """Total number of target-rate frames over the kept recordings."""
        return sum(len(r) for r in self.recordings)

    @property
    def hours(self) -> float:
        """Total preprocessed duration, hours."""
        return self.n_frames / self.sampling_rate / 3600.0

    @property
    def n_spikes(self) -> int:
        """Spikes binned into the kept recordings."""
        return sum(r.n_spikes for r in self.recordings)

    def __repr__(self) -> str:
        return (f"Neuron({self.dataset}/{self.path.name}: {len(self.recordings)} recordings, "
                f"{self.hours * 60:.1f} min, fr={self.frame_rate:.1f} Hz, "
                f"nu={self.noise_level:.2f}, {self.firing_rate:.2f} Hz, "
                f"{len(self.skipped)} skipped)")


def _neuron_stats(raws: list[RawTrial], kept: list[Recording]) -> tuple[float, float, float]:
    """(noise_level, firing_rate, frame_rate) with the published definitions."""
    frame_rate = float(np.mean([r.frame_rate for r in kept])) if kept else float("nan")
    if raws:
        # the published loader concatenates into a float32 array, so the dtype of
        # the result follows the stored traces (float64 unless all are float32)
        concat = np.concatenate([np.zeros((0,), dtype="float32")] + [r.trace for r in raws])
        noise = float(noise_level(concat, frame_rate)) if concat.size > 1 and kept else float("nan")
        n_events = sum(r.spike_times.shape[0] for r in raws)
        total_time = float(np.sum([r.times[-1] for r in raws]))
        firing = float(n_events / total_time) if total_time > 0 else float("nan")
    else:
        noise = firing = float("nan")
    return noise, firing, frame_rate


def build_neuron(path: str | Path, sampling_rate: float = SAMPLING_RATE) -> Neuron:
    """Read and preprocess one ground-truth file (no cache).

    Args:
        path: CASCADE ``.mat`` file of one neuron.
        sampling_rate: target rate, Hz.

    Returns:
        The :class:`Neuron`; trials left out are listed in ``skipped`` and logged
        on the ``ens2zoo.data`` logger.

    Raises:
        InputError: the file is absent, unreadable or not in the CASCADE format.
    """
    path = Path(path)
    raws: list[RawTrial] = []
    kept: list[Recording] = []
    skipped: list[tuple[int, str]] = []
    for index, raw in read_trials(path):
        if isinstance(raw, str):
            skipped.append((index, raw))
            log.warning("%s: trial %d skipped: %s", path, index, raw)
            continue
        raws.append(raw)
        try:
            kept.append(preprocess_recording(raw, sampling_rate))
        except RecordingSkipped as exc:
            skipped.append((index, str(exc)))
            log.info("%s: trial %d skipped: %s", path, index, exc)
    noise, firing, frame_rate = _neuron_stats(raws, kept)
    return Neuron(path=path, dataset=path.parent.name, recordings=kept, noise_level=noise,
                  firing_rate=firing, frame_rate=frame_rate,
                  sampling_rate=float(sampling_rate), skipped=skipped)
