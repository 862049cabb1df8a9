"""What a prediction returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ens2zoo.inference.clock import frame_sums, sample_times


@dataclass
class SpikeResult:
    """Inferred spiking of n neurons.

    Attributes:
        rate: (n_neurons, T) float32, spikes per frame at ``sampling_rate``.
        spikes: (n_neurons, T) int32 spike counts per frame at ``sampling_rate``
            (None if prediction ran with ``spikes=False``).
        events: per neuron, spike times in seconds on the clock of ``times`` (sorted; a sample with
            k spikes appears k times).
        sampling_rate: Hz of ``rate``/``spikes`` (60 for the zoo's models).
        times: (T,) seconds: sample j at ``start_time + j/sampling_rate``; the input's frame f is at
            ``start_time + f/frame_rate`` (:mod:`ens2zoo.inference.clock`).
        frame_rate: Hz of the input traces.
        n_input_frames: frames per neuron in the input.
        model: zoo name or architecture of the model that produced this.
        sha256: hash of the weights used (None for unsaved weights).
        stride: window stride used (1 = exact published read-out).
        nan_filled: input samples filled by interpolation.
        noise_level: (n_neurons,) CASCADE's ν of each input trace at ``frame_rate``, %·Hz^-1/2.
        member: (n_neurons,) name of the network that served each neuron (a family's member,
            else the model's name).
        indicator: the indicator given to ``predict`` ("" = none).
        count_gain: gain applied to the rate by the model's count calibration for the indicator (1 = none).
        noise_gain: (n_neurons,) further gain applied to each neuron's rate by the calibration's ν curve
            (1 = none); the rate was scaled by ``count_gain × noise_gain``.
        spike_estimator: the estimator that gave ``spikes`` (:data:`~ens2zoo.defaults.SPIKE_ESTIMATORS`;
            "" = no spikes estimated).
        start_time: seconds of the input's first frame (0 unless the input has its own clock,
            e.g. an NWB series' ``starting_time``); see :meth:`with_start_time`.
    """

    rate: np.ndarray
    spikes: np.ndarray | None
    events: list[np.ndarray]
    sampling_rate: float
    frame_rate: float
    n_input_frames: int
    model: str = ""
    sha256: str | None = None
    stride: int = 1
    nan_filled: int = 0
    noise_level: np.ndarray | None = None
    member: np.ndarray | None = None
    indicator: str = ""
    count_gain: float = 1.0
    noise_gain: np.ndarray | None = None
    spike_estimator: str = ""
    start_time: float = 0.0
    times: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.times = sample_times(self.rate.shape[-1], self.sampling_rate, self.start_time)
        n = self.rate.shape[0]
        if self.noise_level is None:
            self.noise_level = np.full(n, np.nan)
        if self.member is None:
            self.member = np.array([self.model] * n, dtype=str)
        if self.noise_gain is None:
            self.noise_gain = np.ones(n)

    @property
    def n_neurons(self) -> int:
        return int(self.rate.shape[0])

    def with_start_time(self, start_time: float) -> SpikeResult:
        """This result on a clock whose first input frame is at ``start_time`` seconds (times and events moved)."""
        shift = float(start_time) - self.start_time
        return replace(self, events=[np.asarray(e, dtype=np.float64) + shift for e in self.events],
                       start_time=float(start_time))

    def to_frame_rate(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Rate and spikes summed per input frame.

        Input frame f gets the model samples j with ``j·frame_rate/sampling_rate`` in
        ``[f, f + 1)`` (:func:`ens2zoo.inference.clock.sample_frames`): 2 samples each at
        30 Hz, 8 at 7.5 Hz, 6 or 7 at 9.7 Hz.  Every sample lands in one frame, so spike
        counts (and the expected number of spikes) are preserved exactly.

        Returns:
            (rate, spikes): (n_neurons, n_input_frames) arrays; rate in spikes per
            input frame (float32), spikes as int32 counts (None if not estimated).
        """
        def sums(values: np.ndarray, dtype: type) -> np.ndarray:
            return frame_sums(values, self.n_input_frames, self.frame_rate, self.sampling_rate).astype(dtype)

        spikes = None if self.spikes is None else sums(self.spikes, np.int32)
        return sums(self.rate, np.float32), spikes

    def event_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All events flattened: (event_times, event_offsets); neuron i's events are
        ``event_times[event_offsets[i]:event_offsets[i+1]]`` (seconds)."""
        offsets = np.zeros(len(self.events) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(e) for e in self.events])
        flat = np.concatenate(self.events) if self.events else np.zeros(0)
        return flat.astype(np.float64), offsets
