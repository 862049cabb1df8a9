"""The published ENS² preprocessing constants, shared by inference, data and training."""

from __future__ import annotations

#: Rate (Hz) at which every ENS² model sees traces and reports spikes.
SAMPLING_RATE: float = 60.0
#: Window length in samples at ``SAMPLING_RATE`` (1.6 s at 60 Hz).
WINDOW: int = 96
#: Standard deviation (seconds) of the Gaussian that turns spike counts into a rate.
SMOOTHING_SIGMA_S: float = 0.025
#: Shortest trace accepted for inference, seconds.
MIN_DURATION_S: float = 1.0
#: How discrete spikes are estimated from the rate (:func:`ens2zoo.inference.spikes.estimate_spikes`):
#: ENS²'s published greedy estimator, or the count-preserving one.
SPIKE_ESTIMATORS: tuple[str, ...] = ("greedy", "count")
