"""Training windows over preprocessed recordings, without materialising them.

Layout (as published): every recording is zero-padded by ``window//2`` frames on
both sides, and the padded recordings are concatenated into one trace array,
one rate array and one spike array.  Window ``i`` is
``trace[starts[i] : starts[i] + window]``; there is one window per frame of each
recording (stride 1), centred on that frame (``window//2`` frames before it,
``window//2 − 1`` after).  The rate array is the Gaussian smoothing of the
*padded* counts, so spike mass leaking a few frames into the padding is kept
exactly as in the published training windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ens2zoo.data.dataset import Dataset
from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording, smooth_counts
from ens2zoo.defaults import WINDOW
from ens2zoo.errors import InputError

__all__ = ["Segment", "TrainingWindows"]


@dataclass(frozen=True)
class Segment:
    """Where one recording lies in the concatenated arrays.

    Attributes:
        dataset: dataset (folder) name.
        neuron: neuron (file) name.
        recording: trial index in the source file.
        offset: index of the first padded sample; the recording's frame k sits at
            ``offset + window//2 + k`` and its window starts at ``offset + k``.
        length: number of frames (= number of windows).
    """

    dataset: str
    neuron: str
    recording: int
    offset: int
    length: int


Source = Dataset | Neuron


def _neurons(sources: Iterable[Source] | Source) -> list[Neuron]:
    if isinstance(sources, (Dataset, Neuron)):
        sources = [sources]
    neurons: list[Neuron] = []
    for item in sources:
        if isinstance(item, Dataset):
            neurons.extend(item.neurons)
        elif isinstance(item, Neuron):
            neurons.append(item)
        else:
            raise InputError(f"TrainingWindows got a {type(item).__name__}; pass Neurons or "
                             "Datasets (from load_neuron / load_dataset)")
    return neurons


class TrainingWindows:
    """Every training window of a set of neurons, as views into three flat arrays.

    Args:
        sources: Neurons and/or Datasets (one of either also works).
        window: window length in frames (even; 96 as published).

    Attributes:
        trace: float32 (T,), ΔF/F of all padded recordings end to end.
        rate: float32 (T,), smoothed spike counts (target of training).
        spikes: float32 (T,), spike counts per frame.
        starts: int64 (n_windows,), first sample of each window.
        segments: one :class:`Segment` per recording.
        sampling_rate: Hz.
        window: frames per window.

    Memory is ~12 bytes per frame plus 8 per window: ~90 MB for all the
    excitatory data at 60 Hz; a batch is gathered with one (B, window) index.
    """

    def __init__(self, sources: Iterable[Source] | Source, window: int = WINDOW) -> None:
        if not (isinstance(window, (int, np.integer)) and window >= 2 and window % 2 == 0):
            raise InputError(f"window={window!r}: pass an even number of frames >= 2 (e.g. 96)")
        neurons = _neurons(sources)
        recordings: list[tuple[Neuron, Recording]] = [
            (n, r) for n in neurons for r in n.recordings if len(r) > 0]
        if not recordings:
            raise InputError("TrainingWindows got no recording; pass neurons or datasets "
                             "with at least one kept recording")
        rates = {float(n.sampling_rate) for n, _ in recordings}
        if len(rates) != 1:
            raise InputError(f"recordings at different sampling rates {sorted(rates)}; load "
                             "every dataset with the same sampling_rate")
        self.sampling_rate = rates.pop()
        self.window = int(window)
        pad = self.window // 2
        total = sum(len(r) + 2 * pad for _, r in recordings)
        self.trace = np.zeros(total, dtype=np.float32)
        self.rate = np.zeros(total, dtype=np.float32)
        self.spikes = np.zeros(total, dtype=np.float32)
        self.starts = np.empty(sum(len(r) for _, r in recordings), dtype=np.int64)
        segments = []
        offset = n_windows = 0
        for neuron, rec in recordings:
            n = len(rec)
            self.trace[offset + pad:offset + pad + n] = rec.trace
            self.spikes[offset + pad:offset + pad + n] = rec.spikes
            self.rate[offset:offset + n + 2 * pad] = smooth_counts(rec.spikes,
                                                                   self.sampling_rate, pad)
            self.starts[n_windows:n_windows + n] = np.arange(offset, offset + n)
            segments.append(Segment(neuron.dataset, neuron.name, rec.index, offset, n))
            offset += n + 2 * pad
            n_windows += n
        self.segments: tuple[Segment, ...] = tuple(segments)
        self._segment_offsets = np.array([s.offset for s in segments], dtype=np.int64)
        self._columns = np.arange(self.window, dtype=np.int64)[None, :]

    @classmethod
    def _sharing(cls, parent: TrainingWindows, starts: np.ndarray) -> TrainingWindows:
        """A TrainingWindows over ``starts`` sharing ``parent``'s arrays (no copy)."""
        new = cls.__new__(cls)
        new.__dict__.update(parent.__dict__)
        new.starts = starts
        return new

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    @property
    def hours(self) -> float:
        """Number of windows (= centre frames) in hours at ``sampling_rate``."""
        return len(self) / self.sampling_rate / 3600.0

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (shared arrays count in full)."""
        return sum(a.nbytes for a in (self.trace, self.rate, self.spikes, self.starts))

    def window_view(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window ``i`` as three views (trace, rate, spikes), each of length ``window``."""
        s = int(self.starts[i])
        w = slice(s, s + self.window)
        return self.trace[w], self.rate[w], self.spikes[w]

    def batch(self, indices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gather windows ``indices`` (ints in ``[0, len)``).

        Returns:
            ``(traces, rates, spikes)``, each float32 of shape (B, window): ΔF/F,
            smoothed spike counts (spikes per frame) and spike counts.
        """
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise InputError("batch(indices): pass a 1-D array of integer window indices")
        index = self.starts[idx][:, None] + self._columns
        return self.trace[index], self.rate[index], self.spikes[index]

    def sample_batch(self, rng: np.random.Generator | int | None,
                     batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``batch_size`` windows drawn uniformly at random (with replacement)."""
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        return self.batch(rng.integers(0, len(self), size=int(batch_size)))

    def epoch(self, rng: np.random.Generator | int | None,
              batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every window once, in random order, in batches of ``batch_size`` (last one smaller)."""
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        order = rng.permutation(len(self))
        for a in range(0, len(order), int(batch_size)):
            yield self.batch(order[a:a + int(batch_size)])

    def subset_hours(self, hours: float, seed: int | None = 0) -> TrainingWindows:
        """A random subset of ``hours`` worth of windows (drawn uniformly, no repeats).

        The data-amount experiment of the paper: ``round(hours·3600·sampling_rate)``
        windows chosen uniformly at random among all windows; arrays are shared.

        Raises:
            InputError: ``hours`` is not positive or exceeds the available data.
        """
        n = round(float(hours) * 3600.0 * self.sampling_rate)
        if not (hours > 0 and n >= 1):
            raise InputError(f"hours={hours!r}: pass a positive duration of at least one frame")
        if n > len(self):
            raise InputError(f"hours={hours!r} asks for {n} windows but only {len(self)} "
                             f"({self.hours:.3f} h) exist; pass at most {self.hours:.3f}")
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(len(self), size=n, replace=False))
        return TrainingWindows._sharing(self, self.starts[chosen])

    def locate(self, i: int) -> tuple[Segment, int]:
        """The recording of window ``i`` and the frame (0-based) it is centred on."""
        s = int(self.starts[i])
        k = int(np.searchsorted(self._segment_offsets, s, side="right")) - 1
        seg = self.segments[k]
        return seg, s - seg.offset

    def __repr__(self) -> str:
        return (f"TrainingWindows({len(self)} windows of {self.window}, {len(self.segments)} "
                f"recordings, {self.hours:.2f} h at {self.sampling_rate:g} Hz, "
                f"{self.nbytes / 2**20:.0f} MiB)")
