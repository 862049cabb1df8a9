"""``SpikeModel``: one small, uniform interface over every network in the zoo."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ens2zoo.devices import resolve_device
from ens2zoo.errors import InputError
from ens2zoo.inference import cpu_batch_pool, default_batch_size, overlap_add_rate, window_starts
from ens2zoo.preprocessing import check_traces, resample
from ens2zoo.registry import Preprocessing
from ens2zoo.result import SpikeResult
from ens2zoo.spikes import estimate_spikes, spike_times

#: Show a progress bar by default from this many windows on.
_PROGRESS_MIN_WINDOWS = 200_000


class SpikeModel:
    """A network with its preprocessing: ``predict`` ΔF/F → spike rate, spikes and spike times.

    Build one with :func:`ens2zoo.load` (a zoo name) or :func:`ens2zoo.create`
    (an architecture, optionally with a weights file).

    Attributes:
        net: the ``nn.Module`` mapping (B, window) windows to (B, window) rates.
        name: zoo name or architecture name.
        architecture: registered architecture name.
        hparams: the architecture's keyword arguments.
        preprocessing: sampling rate (Hz), window (samples), smoothing σ (s).
        sha256: hash of the weights file loaded, if any.
    """

    def __init__(self, net: nn.Module, *, architecture: str, hparams: Mapping[str, Any] | None = None,
                 preprocessing: Preprocessing | None = None, name: str | None = None,
                 sha256: str | None = None, device: str | torch.device = "cpu") -> None:
        self.device = resolve_device(device)
        self.net = net.to(self.device)
        self.architecture = architecture
        self.hparams = dict(hparams or {})
        self.preprocessing = preprocessing or Preprocessing()
        self.name = name or architecture
        self.sha256 = sha256

    def __repr__(self) -> str:
        return f"SpikeModel(name={self.name!r}, architecture={self.architecture!r}, device={str(self.device)!r})"

    def to(self, device: str | torch.device) -> SpikeModel:
        """Move the network to ``device`` (``"cpu"``, ``"cuda"``); returns self."""
        self.device = resolve_device(device)
        self.net.to(self.device)
        return self

    def fit(self, data: Any, *, loss: str | Callable = "mse", lr: float = 1e-3, batch_size: int = 1024,
            max_iter: int = 5000, patience: int = 500, seed: int = 0, device: str | torch.device | None = None,
            progress: bool | None = None, callbacks: Sequence[Callable] = (), **options: Any) -> SpikeModel:
        """Train on ground truth with the published protocol; returns self.

        Args:
            data: :class:`~ens2zoo.data.TrainingWindows`, or Datasets/Neurons to build them from.
            loss: ``"mse"`` (published), ``"eucd"``, ``"corr"``, a registered name or a callable.
            lr, batch_size, max_iter, patience, seed: Adam learning rate, windows per
                iteration, iteration cap, early-stopping patience (iterations), seed.
            callbacks: ``cb(iteration, loss, state)`` after each iteration; returning True stops.
            **options: ``checkpoint``, ``checkpoint_every``, ``resume``, ``loss_window``
                (see :func:`ens2zoo.training.fit`).

        The report (iterations, best loss, time) is kept as ``self.training_report``.
        """
        from ens2zoo.training import fit

        self.training_report = fit(self, data, loss=loss, lr=lr, batch_size=batch_size, max_iter=max_iter,
                                   patience=patience, seed=seed, device=device, progress=progress,
                                   callbacks=callbacks, **options)
        return self

    def save(self, path: str | os.PathLike, metadata: Mapping[str, Any] | None = None) -> str:
        """Write the weights as safetensors (atomically) with the model's description; returns sha256."""
        from dataclasses import asdict

        from ens2zoo.weights import write_safetensors

        meta = {"architecture": self.architecture, "hparams": self.hparams,
                "preprocessing": asdict(self.preprocessing), **(metadata or {})}
        self.sha256 = write_safetensors(self.net.state_dict(), path, meta)
        return self.sha256

    def predict(self, traces: np.ndarray, frame_rate: float, *, spikes: bool = True, stride: int = 1,
                batch_size: int | None = None, device: str | torch.device | None = None,
                progress: bool | None = None, nan: str = "raise") -> SpikeResult:
        """Infer spiking from ΔF/F traces.

        Args:
            traces: ΔF/F, one neuron (frames,) or several (neurons × frames).
            frame_rate: imaging rate of ``traces`` in Hz (any rate; resampled to
                ``preprocessing.sampling_rate``).
            spikes: also estimate discrete spikes and spike times.
            stride: evaluate every ``stride``-th window (1 = exact published read-out;
                larger is faster and approximate), 1 … window.
            batch_size: windows per forward pass (default: 512 on CPU, 16384 on GPU).
            device: run on this device for this call (default: the model's).
            progress: show a progress bar (default: on a terminal for long inputs).
            nan: ``"raise"`` refuses NaN/inf samples, ``"interpolate"`` fills them.

        Returns:
            :class:`SpikeResult` with rates in spikes per frame at the model's sampling rate.
        """
        pre = self.preprocessing
        data, n_filled = check_traces(traces, frame_rate, nan=nan)
        frame_rate = float(frame_rate)
        window = pre.window
        if not isinstance(stride, (int, np.integer)) or not 1 <= stride <= window:
            raise InputError(f"stride={stride!r} must be an integer from 1 (exact) to {window}")
        dev = resolve_device(device, self.device)
        batch = batch_size or default_batch_size(dev)
        if batch < 1:
            raise InputError(f"batch_size={batch_size!r} must be a positive number of windows")
        traces60 = resample(data, frame_rate, pre.sampling_rate)
        n, length = traces60.shape
        total = n * len(window_starts(length, stride))
        show = progress if progress is not None else (total >= _PROGRESS_MIN_WINDOWS and sys.stderr.isatty())
        was_training = self.net.training
        self.net.to(dev).eval()
        rate = np.empty((n, length), dtype=np.float32)
        try:
            with torch.inference_mode(), cpu_batch_pool(dev) as pool, \
                    tqdm(total=total, disable=not show, unit="win", desc=f"{self.name} inference") as bar:
                for i in range(n):
                    rate[i] = overlap_add_rate(self.net, traces60[i], window=window, stride=stride,
                                               batch_size=batch, device=dev, on_batch=bar.update, pool=pool)
        finally:
            self.net.train(was_training)
            self.net.to(self.device)
        counts = events = None
        if spikes:
            counts = estimate_spikes(rate, pre.sampling_rate, pre.smoothing_sigma_s)
            events = [spike_times(c, pre.sampling_rate) for c in counts]
        return SpikeResult(rate=rate, spikes=counts, events=events or [], sampling_rate=pre.sampling_rate,
                           frame_rate=frame_rate, n_input_frames=data.shape[1], model=self.name,
                           sha256=self.sha256, stride=int(stride), nan_filled=n_filled)
