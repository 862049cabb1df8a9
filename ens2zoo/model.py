"""``SpikeModel``: one small, uniform interface over every network in the zoo (the facade)."""

from __future__ import annotations

import copy
import logging
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ens2zoo.errors import InputError
from ens2zoo.inference.compiled import COMPILE_MIN_WINDOWS, compiled_windows
from ens2zoo.inference.noise import noise_level as measure_noise
from ens2zoo.inference.result import SpikeResult
from ens2zoo.inference.silence import silence_flat
from ens2zoo.inference.spikes import check_spike_estimator, estimate_spikes, spike_times
from ens2zoo.inference.traces import check_traces, resample
from ens2zoo.inference.windows import cpu_batch_pool, default_batch_size, trace_rate, window_starts
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.fit import Callback, TrainingReport
from ens2zoo.training.fit import fit as fit_network
from ens2zoo.utils.devices import full_float32, resolve_device
from ens2zoo.zoo.entries import DEFAULT_GAIN, FamilyMember, ModelEntry, Preprocessing, indicator_key
from ens2zoo.zoo.weights import write_safetensors

log = logging.getLogger(__name__)

#: Show a progress bar by default from this many windows on.
_PROGRESS_MIN_WINDOWS = 200_000


@dataclass
class Member:
    """A family member's record and its network."""

    record: FamilyMember
    net: nn.Module


class SpikeModel:
    """A network with its preprocessing: ``predict`` ΔF/F → spike rate, spikes and spike times.

    Build one with :func:`ens2zoo.load` (a zoo name) or :func:`ens2zoo.create`
    (an architecture, optionally with a weights file).

    Attributes:
        net: the ``nn.Module`` (for a family: its first member's).
        name: zoo name or architecture name.
        architecture: registered architecture name.
        hparams: the architecture's keyword arguments.
        preprocessing: sampling rate (Hz), window (samples), smoothing σ (s).
        readout: how outputs become a rate (``"overlap-add"``, ``"centre"``, ``"whole-trace"``).
        members: for a family, its networks with the ν range each serves.
        entry: the zoo record the model was loaded from (None for ``create``).
        sha256: hash of the weights file loaded, if any.
        training_report_: the :class:`~ens2zoo.training.TrainingReport` of the last ``fit``.
    """

    def __init__(self, net: nn.Module, *, architecture: str, hparams: Mapping[str, Any] | None = None,
                 preprocessing: Preprocessing | None = None, name: str | None = None,
                 sha256: str | None = None, device: str | torch.device = "cpu", readout: str = "overlap-add",
                 members: Sequence[Member] = (), entry: ModelEntry | None = None) -> None:
        self.device = resolve_device(device)
        self.net = net.to(self.device)
        self.architecture = architecture
        self.hparams = dict(hparams or {})
        self.preprocessing = preprocessing or Preprocessing()
        self.readout = readout
        self.members = list(members)
        for m in self.members:
            m.net.to(self.device)
        self.entry = entry
        self.name = name or architecture
        self.sha256 = sha256

    def __repr__(self) -> str:
        family = f", members={[m.record.name for m in self.members]}" if self.members else ""
        return (f"SpikeModel(name={self.name!r}, architecture={self.architecture!r}, "
                f"device={str(self.device)!r}{family})")

    @property
    def training_report(self) -> TrainingReport:
        """Alias of ``training_report_`` (scikit-learn style fitted attribute)."""
        return self.training_report_

    def to(self, device: str | torch.device) -> SpikeModel:
        """Move the network(s) to ``device`` (``"cpu"``, ``"cuda"``); returns self."""
        self.device = resolve_device(device)
        self.net.to(self.device)
        for m in self.members:
            m.net.to(self.device)
        return self

    def fit(self, data: Any, *, loss: str | None = None, optimizer: str | None = None, lr: float | None = None,
            lr_schedule: str | None = None, batch_size: int | None = None,
            max_iter: int | None = None, patience: int | None = None, seed: int | None = None,
            loss_window: int | None = None, config: TrainingConfig | None = None,
            device: str | torch.device | None = None, progress: bool | None = None,
            callbacks: Sequence[Callback] = (), checkpoint: str | os.PathLike | None = None,
            checkpoint_every: int | None = None, resume: bool = False, warm_start: bool = False,
            compile: bool | None = None) -> SpikeModel:
        """Train on ground truth with the published protocol; returns self.

        Args:
            data: :class:`~ens2zoo.data.TrainingWindows`, or Datasets/Neurons to build them from.
            loss, optimizer, lr, lr_schedule, batch_size, max_iter, patience, seed, loss_window, checkpoint_every,
                compile: override
                the fields of ``config`` (default :class:`~ens2zoo.training.TrainingConfig`, the published
                protocol; see it for units).
            callbacks: ``cb(iteration, loss, state)`` after each iteration; returning True stops.
            checkpoint: file to save progress to; ``resume`` continues from it.
            warm_start: continue from the current weights (fine-tuning a zoo model) instead of
                re-initialising them.

        The report (iterations, best loss, time) is kept as ``self.training_report_``.
        """
        if self.members:
            raise InputError(f"{self.name} is a family of {len(self.members)} networks: fit a member "
                             "(ens2zoo.create with its weights) instead")
        overrides = {k: v for k, v in dict(loss=loss, optimizer=optimizer, lr=lr, lr_schedule=lr_schedule,
                                            batch_size=batch_size,
                                            max_iter=max_iter,
                                            patience=patience, seed=seed, loss_window=loss_window,
                                            checkpoint_every=checkpoint_every, compile=compile).items()
                     if v is not None}
        config = (config or TrainingConfig()).replace(**overrides)
        result = fit_network(self.net, data, config, window=self.preprocessing.window,
                             device=resolve_device(device, self.device), progress=progress, callbacks=callbacks,
                             checkpoint=checkpoint, resume=resume, warm_start=warm_start, readout=self.readout)
        self.net.load_state_dict(result.state_dict)
        self.net.eval()
        self.sha256 = None
        self.training_config_ = config
        self.training_report_ = result.report
        return self

    def save(self, path: str | os.PathLike, metadata: Mapping[str, Any] | None = None) -> str:
        """Write the weights as safetensors (atomically) with the model's description; returns sha256."""
        if self.members:
            raise InputError(f"{self.name} is a family: its members' weights are saved by its recipe")
        meta = {"architecture": self.architecture, "hparams": self.hparams,
                "preprocessing": asdict(self.preprocessing), **(metadata or {})}
        self.sha256 = write_safetensors(self.net.state_dict(), path, meta)
        return self.sha256

    def route(self, noise_levels: np.ndarray, override: float | None = None,
              frame_rate: float | None = None) -> list[int]:
        """Member index serving each neuron (its ν, or ``override`` for all), for a family: the first
        member whose ν range holds the neuron's ν, among those serving ``frame_rate`` (Hz; None: all).

        A ν outside every member's range goes to the member whose range is nearest.
        """
        def distance(record: FamilyMember, nu: float) -> float:
            low, high = record.noise_range
            return max(0.0 if low is None else low - nu, 0.0 if high is None else nu - high)

        candidates = [i for i, m in enumerate(self.members)
                      if frame_rate is None or m.record.serves_frame_rate(frame_rate)] or range(len(self.members))
        chosen = []
        for nu in noise_levels:
            nu = float(override if override is not None else nu)
            if not np.isfinite(nu):
                nu = 0.0
            serving = [i for i in candidates if self.members[i].record.serves(nu)]
            chosen.append(serving[0] if serving else
                          min(candidates, key=lambda i: (distance(self.members[i].record, nu), i)))
        return chosen

    def _count_gains(self) -> dict[str, float]:
        return dict(self.entry.count_calibration) if self.entry is not None else {}

    def with_spike_estimator(self, estimator: str) -> SpikeModel:
        """This model (same networks, not copied) with ``estimator`` as its default discrete spike estimator
        (:data:`~ens2zoo.defaults.SPIKE_ESTIMATORS`), e.g. to evaluate it with the count-preserving one."""
        check_spike_estimator(estimator)
        model = copy.copy(self)
        model.preprocessing = replace(self.preprocessing, spike_estimator=estimator)
        return model

    def _noise_factor(self, noise_level: float | None) -> float:
        return 1.0 if noise_level is None or self.entry is None else self.entry.count_noise_factor(noise_level)

    def count_gain(self, indicator: str | None = None, noise_level: float | None = None) -> float:
        """The gain ``predict`` applies to the rate for ``indicator`` (the entry's ``count_calibration``;
        1 for a model without one), times, for a neuron of ν ``noise_level`` (%·Hz^-1/2), the entry's
        :meth:`~ens2zoo.zoo.entries.ModelEntry.count_noise_factor`.

        Raises:
            InputError: ``indicator`` is given but the model has no calibration for it.
        """
        gains = self._count_gains()
        factor = self._noise_factor(noise_level)
        if indicator is None:
            return gains.get(DEFAULT_GAIN, 1.0) * factor
        key = indicator_key(indicator)
        if key not in gains:
            known = sorted(k for k in gains if k != DEFAULT_GAIN)
            fix = (f"use one of {', '.join(known)}" if known else "leave it out (--indicator)")
            raise InputError(f"indicator={indicator!r}: {self.name} has no spike-count calibration for it; {fix}")
        return gains[key] * factor

    def predict(self, traces: np.ndarray, frame_rate: float, *, spikes: bool = True, stride: int = 1,
                batch_size: int | None = None, device: str | torch.device | None = None,
                progress: bool | None = None, nan: str = "raise", noise_level: float | None = None,
                compile: bool | None = None, indicator: str | None = None,
                spike_estimator: str | None = None) -> SpikeResult:
        """Infer spiking from ΔF/F traces.

        Args:
            traces: ΔF/F (a fraction, not %), one neuron (frames,) or several (neurons × frames).
            frame_rate: imaging rate of ``traces`` in Hz (any rate; resampled to
                ``preprocessing.sampling_rate``).
            spikes: also estimate discrete spikes and spike times.
            stride: evaluate every ``stride``-th window (1 = exact published read-out;
                larger is faster and approximate), 1 … window.  Models without windows refuse it.
            batch_size: windows per forward pass (default: 512 on CPU, 16384 on GPU).
            device: run on this device for this call (default: the model's).
            progress: show a progress bar (default: on a terminal for long inputs).
            nan: ``"raise"`` refuses NaN/inf samples, ``"interpolate"`` fills them.
            noise_level: for a family, route every neuron as if its ν were this (%·Hz^-1/2)
                instead of its measured ν.
            compile: evaluate windows with the network compiled by ``torch.compile``
                (:mod:`ens2zoo.inference.compiled`: 1.3–1.4× on the CPU, ~7 s to compile once per
                process); None = only on the CPU for inputs of at least ``COMPILE_MIN_WINDOWS``
                windows.
            indicator: the recording's calcium indicator (e.g. ``"gcamp8s"``): scales the rate by the
                model's count calibration for it (:meth:`count_gain`), so that Σ rate estimates the
                number of spikes; None = the model's default gain (for ens2-gcamp8, fitted on the
                three jGCaMP8 variants pooled: counts of one variant can be off by up to 2×).
                A model with a ``count_noise_curve`` further scales each neuron by its ν's factor
                (``result.noise_gain``).
            spike_estimator: how the rate becomes discrete spikes (:data:`~ens2zoo.defaults.SPIKE_ESTIMATORS`):
                ``"greedy"``, ENS²'s published estimator (it stops when one more spike raises the squared
                error, so on noisy or slow recordings it finds fewer spikes than the rate sums to);
                ``"count"``, round(Σ rate) spikes per neuron; None = the model's
                (``preprocessing.spike_estimator``).

        Returns:
            :class:`SpikeResult` with rates in spikes per frame at the model's sampling rate,
            each neuron's ν at the input frame rate and, for a family, the member that served it.
        """
        pre = self.preprocessing
        estimator = check_spike_estimator(pre.spike_estimator if spike_estimator is None else spike_estimator)
        data, n_filled = check_traces(traces, frame_rate, nan=nan)
        frame_rate = float(frame_rate)
        window = pre.window if self.readout != "whole-trace" else 1
        if self.readout == "whole-trace":
            if stride != 1:
                raise InputError(f"stride={stride!r}: model {self.name!r} evaluates whole traces without windows, "
                                 "so it has no stride; leave stride at 1 (--stride 1)")
        elif not isinstance(stride, (int, np.integer)) or not 1 <= stride <= window:
            raise InputError(f"stride={stride!r} must be an integer from 1 (exact) to {window}")
        if noise_level is not None and not np.isfinite(float(noise_level)):
            raise InputError(f"noise_level={noise_level!r} must be a finite ν in %·Hz^-1/2, e.g. 4")
        gain = self.count_gain(indicator)
        per_indicator = {k: v for k, v in self._count_gains().items() if k != DEFAULT_GAIN}
        if indicator is None and per_indicator:
            listed = ", ".join(f"{k} ×{v:.2f}" for k, v in sorted(per_indicator.items()))
            warnings.warn(f"{self.name}: spike counts depend on the indicator ({listed}); the pooled gain "
                          f"×{gain:.2f} was used. Pass indicator=... (--indicator {'|'.join(sorted(per_indicator))}) "
                          "for rates that add up to the spike count", UserWarning, stacklevel=2)
        nus = measure_noise(data, frame_rate)
        member_of = self.route(nus, noise_level, frame_rate) if self.members else [None] * data.shape[0]
        dev = resolve_device(device, self.device)
        batch = batch_size or default_batch_size(dev)
        if batch < 1:
            raise InputError(f"batch_size={batch_size!r} must be a positive number of windows")
        traces60 = resample(data, frame_rate, pre.sampling_rate)
        n, length = traces60.shape
        total = n * len(window_starts(length, stride))
        show = progress if progress is not None else (total >= _PROGRESS_MIN_WINDOWS and sys.stderr.isatty())
        nets = [m.net for m in self.members] or [self.net]
        modes = [net.training for net in nets]
        rate = np.empty((n, length), dtype=np.float32)
        if compile is None:
            compile = dev.type == "cpu" and total >= COMPILE_MIN_WINDOWS
        try:
            for net in nets:
                net.to(dev).eval()
            with torch.inference_mode(), full_float32(dev), cpu_batch_pool(dev) as pool, \
                    tqdm(total=total, disable=not show, unit="win", desc=f"{self.name} inference") as bar:
                if compile and self.readout != "whole-trace":
                    forwards = [compiled_windows(net, batch, window, dev) for net in nets]
                else:
                    forwards = nets
                for i in range(n):
                    net = forwards[member_of[i] or 0]
                    rate[i] = trace_rate(net, traces60[i], readout=self.readout, window=window, stride=stride,
                                         batch_size=batch, device=dev, on_batch=bar.update, pool=pool)
        finally:
            for net, mode in zip(nets, modes):
                net.train(mode)
                net.to(self.device)
        if pre.flat_guard:
            silence_flat(rate, data, frame_rate, pre.sampling_rate)
        noise_gain = np.array([self._noise_factor(float(nu)) for nu in nus], dtype=np.float64)
        scale = (gain * noise_gain).astype(np.float32)
        if np.any(scale != 1.0):
            rate *= scale[:, None]
        counts = events = None
        if spikes:
            counts = estimate_spikes(rate, pre.sampling_rate, pre.smoothing_sigma_s, estimator)
            events = [spike_times(c, pre.sampling_rate) for c in counts]
        member_names = ([self.members[i].record.name for i in member_of] if self.members else [self.name] * n)
        return SpikeResult(rate=rate, spikes=counts, events=events or [], sampling_rate=pre.sampling_rate,
                           frame_rate=frame_rate, n_input_frames=data.shape[1], model=self.name,
                           sha256=self.sha256, stride=int(stride), nan_filled=n_filled,
                           noise_level=nus.astype(np.float64), member=np.asarray(member_names, dtype=str),
                           indicator=indicator_key(indicator) if indicator is not None else "", count_gain=gain,
                           noise_gain=noise_gain, spike_estimator=estimator if spikes else "")
