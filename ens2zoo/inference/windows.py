"""Windowed network evaluation and overlap-add, in bounded memory.

A trace of T samples (at the model's sampling rate) is zero-padded by half a
window on both sides; window j covers padded samples j … j+W−1 (stride 1:
every j = 0 … T−1).  Each window's W outputs are added back onto the positions
they came from; position p of the trace receives the outputs of every window
covering it, and the sum is divided by W — the published ENS² read-out.

Windows are strided views of the padded trace (never an N×W copy); they are
evaluated in batches, and the overlap-add is one ``fold`` per batch, in float64
as published.  Memory is bounded by the batch, whatever the trace length.

On the CPU, batches run concurrently on a pool of threads with one intra-op
torch thread each (:func:`cpu_batch_pool`): the U-Net's small convolutions
parallelise poorly inside one operation, and whole batches side by side are
1.3–2× faster on two cores than torch's intra-op threads.

With ``stride`` s > 1 only every s-th window (and the last) is evaluated; each
position's sum is rescaled by (windows covering it at stride 1) / (windows
covering it that were evaluated), i.e. the available overlaps are averaged.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from ens2zoo.defaults import WINDOW

#: Windows per forward pass on the CPU; small batches keep activations in cache.
CPU_BATCH = 512
#: Windows per forward pass on a GPU.
GPU_BATCH = 16384


def default_batch_size(device: torch.device) -> int:
    return GPU_BATCH if device.type == "cuda" else CPU_BATCH


@contextlib.contextmanager
def cpu_batch_pool(device: torch.device) -> Iterator[Executor | None]:
    """A pool running one batch per CPU thread (None on GPUs or with one thread).

    torch's intra-op threads are set to 1 inside the block and restored after it.
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < 2:
        yield None
        return
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="ens2zoo-batch") as pool:
            yield pool
    finally:
        torch.set_num_threads(threads)


def _in_order(fn: Callable, tasks: list, pool: Executor | None) -> Iterator:
    """``map(fn, tasks)`` on ``pool``, in order, with at most 2 × workers tasks in flight."""
    if pool is None:
        yield from map(fn, tasks)
        return
    pending: deque = deque()
    limit = 2 * getattr(pool, "_max_workers", 2)
    for task in tasks:
        pending.append(pool.submit(fn, task))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def window_starts(n_samples: int, stride: int) -> np.ndarray:
    """Start indices (into the padded trace) of the evaluated windows: 0, s, 2s, … and the last."""
    starts = np.arange(0, n_samples, stride)
    if starts[-1] != n_samples - 1:
        starts = np.append(starts, n_samples - 1)
    return starts


def _coverage(starts: np.ndarray, length: int, window: int) -> np.ndarray:
    """How many windows starting at ``starts`` cover each buffer position 0 … length−1."""
    delta = np.zeros(length + 1)
    np.add.at(delta, starts, 1.0)
    np.add.at(delta, starts + window, -1.0)
    return np.cumsum(delta)[:length]


def overlap_add_sum(
    net: Callable[[torch.Tensor], torch.Tensor],
    trace: np.ndarray,
    *,
    window: int = WINDOW,
    stride: int = 1,
    batch_size: int = CPU_BATCH,
    device: torch.device | str = "cpu",
    on_batch: Callable[[int], None] | None = None,
    pool: Executor | None = None,
) -> np.ndarray:
    """Overlap-added window outputs of one trace, not yet cropped or divided by the window.

    Returns a float64 array of ``T + window − 1`` positions; entry i holds the sum
    of the outputs of every window covering trace sample ``i − window//2`` (so the
    first and last ``window//2`` entries are outputs that fall outside the trace).
    With ``stride`` > 1 each entry is rescaled to the number of windows covering
    it at stride 1.

    Args:
        net: maps a (B, window) float32 batch to (B, window) rates.
        trace: (T,) samples at the model's sampling rate.
        stride: evaluate every ``stride``-th window (1 = exact, as published).
        on_batch: called with the number of windows after each batch (progress).
        pool: evaluate batches concurrently on this executor (see :func:`cpu_batch_pool`).
    """
    device = torch.device(device)
    n = int(trace.shape[0])
    half = window // 2
    padded = torch.zeros(n + window, dtype=torch.float32)
    padded[half:half + n] = torch.from_numpy(np.asarray(trace, dtype=np.float32))
    padded = padded.to(device)
    windows = padded.unfold(0, window, 1)  # view: row j = padded[j : j+window]
    buffer = torch.zeros(n + window - 1, dtype=torch.float64, device=device)
    starts = window_starts(n, stride)
    starts_t = torch.from_numpy(starts).to(device)

    def evaluate(b0: int) -> torch.Tensor:
        idx = starts_t[b0:b0 + batch_size]
        first, last = int(starts[b0]), int(starts[b0 + len(idx) - 1])
        batch = windows[idx] if stride > 1 else windows[first:last + 1].contiguous()
        with torch.inference_mode():
            return net(batch).to(torch.float64)

    offsets = list(range(0, len(starts), batch_size))
    for b0, out in zip(offsets, _in_order(evaluate, offsets, pool)):
        idx = starts_t[b0:b0 + batch_size]
        first = int(starts[b0])
        span = out.shape[0] - 1 + window
        if stride == 1:
            folded = F.fold(out.T.unsqueeze(0), output_size=(1, span), kernel_size=(1, window))
            buffer[first:first + span] += folded.reshape(-1)
        else:
            buffer.index_add_(0, (idx[:, None] + torch.arange(window, device=device)).reshape(-1), out.reshape(-1))
        if on_batch is not None:
            on_batch(len(idx))
    total = buffer.cpu().numpy()
    if stride > 1:
        total *= _coverage(np.arange(n), n + window - 1, window) / _coverage(starts, n + window - 1, window)
    return total


def _centre_rate(net: Callable[[torch.Tensor], torch.Tensor], trace: np.ndarray, *, window: int, stride: int,
                 batch_size: int, device: torch.device, on_batch: Callable[[int], None] | None,
                 pool: Executor | None) -> np.ndarray:
    """One output per window at its centre sample; strides > 1 interpolate linearly between centres."""
    n = int(trace.shape[0])
    half = window // 2
    padded = torch.zeros(n + window, dtype=torch.float32)
    padded[half:half + n] = torch.from_numpy(np.asarray(trace, dtype=np.float32))
    windows = padded.to(device).unfold(0, window, 1)
    starts = window_starts(n, stride)

    def evaluate(b0: int) -> torch.Tensor:
        idx = torch.from_numpy(starts[b0:b0 + batch_size]).to(device)
        with torch.inference_mode():
            return net(windows[idx]).reshape(len(idx)).to(torch.float64)

    parts = []
    for out in _in_order(evaluate, list(range(0, len(starts), batch_size)), pool):
        parts.append(out.cpu().numpy())
        if on_batch is not None:
            on_batch(len(out))
    centres = np.concatenate(parts)  # window j is centred on trace sample j
    return centres if stride == 1 else np.interp(np.arange(n), starts, centres)


def network_rate(net: Callable[[torch.Tensor], torch.Tensor], trace: np.ndarray, *, readout: str = "overlap-add",
                 window: int = WINDOW, stride: int = 1, batch_size: int = CPU_BATCH,
                 device: torch.device | str = "cpu", on_batch: Callable[[int], None] | None = None,
                 pool: Executor | None = None) -> tuple[np.ndarray, int]:
    """The one inference engine: a trace's rate (spikes per sample, float64) for every read-out mode.

    Returns ``(values, pad)``: entry k of ``values`` belongs to trace sample ``k − pad``.
    For ``"overlap-add"`` ``pad`` is ``window // 2`` and the entries outside the trace hold the
    window outputs that fall beyond its ends (the published benchmark adds them to the
    neighbouring recording); the other modes have ``pad = 0``.

    Args:
        readout: ``"overlap-add"``, ``"centre"`` or ``"whole-trace"`` (see ``ens2zoo.zoo.entries.READOUTS``).
        window: samples per window (ignored by whole-trace networks).
        stride: evaluate every ``stride``-th window (1 = exact); whole-trace networks take 1 only.
    """
    device = torch.device(device)
    if readout == "overlap-add":
        total = overlap_add_sum(net, trace, window=window, stride=stride, batch_size=batch_size, device=device,
                                on_batch=on_batch, pool=pool)
        return total / window, window // 2
    if readout == "centre":
        return _centre_rate(net, trace, window=window, stride=stride, batch_size=batch_size, device=device,
                            on_batch=on_batch, pool=pool), 0
    if readout == "whole-trace":
        out = _whole_trace_rate(net, trace, device)
        if on_batch is not None:
            on_batch(1)
        return out, 0
    raise ValueError(f"unknown read-out {readout!r}")


#: Whole-trace networks run over chunks of this many samples (each with the network's receptive
#: field either side, ``net.receptive_half``): a 30-min trace in one pass leaves the CPU caches
#: (32 channels × 108,000 samples), and chunks make the fast model ~3× faster.  Exact: every
#: output sees the same inputs as in one pass (up to float rounding in the convolutions).
WHOLE_TRACE_CHUNK = 16384


def _whole_trace_rate(net: Callable[[torch.Tensor], torch.Tensor], trace: np.ndarray,
                      device: torch.device, chunk: int = WHOLE_TRACE_CHUNK) -> np.ndarray:
    """A whole-trace network's rate over ``trace`` (float64), in chunks where the network states its
    receptive field (``receptive_half``, samples either side), else in one pass."""
    x = torch.from_numpy(np.asarray(trace, dtype=np.float32))
    n = x.shape[0]
    halo = getattr(net, "receptive_half", None)
    if halo is None:  # receptive field unknown: one chunk, the whole trace
        chunk, halo = max(n, 1), 0
    out = np.empty(n, dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            lo, hi = max(0, start - halo), min(n, stop + halo)
            y = net(x[None, lo:hi].to(device)).reshape(-1)
            out[start:stop] = y[start - lo:stop - lo].to(torch.float64).cpu().numpy()
    return out


def trace_rate(net: Callable[[torch.Tensor], torch.Tensor], trace: np.ndarray, **kwargs) -> np.ndarray:
    """Spike rate (float32, spikes per sample) of one trace: :func:`network_rate` cropped to the trace."""
    values, pad = network_rate(net, trace, **kwargs)
    n = int(trace.shape[0])
    return values[pad:pad + n].astype(np.float32)
