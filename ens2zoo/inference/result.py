"""What a prediction returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SpikeResult:
    """Inferred spiking of n neurons.

    Attributes:
        rate: (n_neurons, T) float32, spikes per frame at ``sampling_rate``.
        spikes: (n_neurons, T) int32 spike counts per frame at ``sampling_rate``
            (None if prediction ran with ``spikes=False``).
        events: per neuron, spike times in seconds (sorted; a frame with k spikes appears k times).
        sampling_rate: Hz of ``rate``/``spikes`` (60 for the zoo's models).
        times: (T,) seconds; frame k is at (k + 1)/sampling_rate, the input's first frame at 1/frame_rate.
        frame_rate: Hz of the input traces.
        n_input_frames: frames per neuron in the input.
        model: zoo name or architecture of the model that produced this.
        sha256: hash of the weights used (None for unsaved weights).
        stride: window stride used (1 = exact published read-out).
        nan_filled: input samples filled by interpolation.
        noise_level: (n_neurons,) CASCADE's ν of each input trace at ``frame_rate``, %·Hz^-1/2.
        member: (n_neurons,) name of the network that served each neuron (a family's member,
            else the model's name).
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
    times: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.times = (np.arange(self.rate.shape[-1]) + 1) / self.sampling_rate
        n = self.rate.shape[0]
        if self.noise_level is None:
            self.noise_level = np.full(n, np.nan)
        if self.member is None:
            self.member = np.array([self.model] * n, dtype=str)

    @property
    def n_neurons(self) -> int:
        return int(self.rate.shape[0])

    def to_frame_rate(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Rate and spikes brought back to the input frame rate.

        Each model frame k (time (k+1)/sampling_rate) is assigned to the input frame
        nearest in time; rates and counts are summed per input frame, so spike
        counts (and the expected number of spikes) are preserved exactly.

        Returns:
            (rate, spikes): (n_neurons, n_input_frames) arrays; rate in spikes per
            input frame (float32), spikes as int32 counts (None if not estimated).
        """
        target = np.rint(self.times * self.frame_rate).astype(np.int64) - 1
        target = np.clip(target, 0, self.n_input_frames - 1)

        def bin_(values: np.ndarray, dtype) -> np.ndarray:
            out = np.zeros((values.shape[0], self.n_input_frames), dtype=np.float64)
            for i, row in enumerate(values):
                out[i] = np.bincount(target, weights=row, minlength=self.n_input_frames)
            return out.astype(dtype)

        spikes = None if self.spikes is None else bin_(self.spikes, np.int32)
        return bin_(self.rate, np.float32), spikes

    def event_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All events flattened: (event_times, event_offsets); neuron i's events are
        ``event_times[event_offsets[i]:event_offsets[i+1]]`` (seconds)."""
        offsets = np.zeros(len(self.events) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(e) for e in self.events])
        flat = np.concatenate(self.events) if self.events else np.zeros(0)
        return flat.astype(np.float64), offsets
