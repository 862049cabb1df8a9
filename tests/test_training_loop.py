"""The shared training loop gives the weights that ``fit`` and distillation gave before it.

The expected digests are the sha256 of the weights that the separate loops (commit ab4c884)
produced on these tiny runs, on one torch thread of this project's CPU.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from ens2zoo.architectures.tcn import DilatedCNN
from ens2zoo.data import Neuron, Recording, TrainingWindows, smooth_counts
from ens2zoo.simulate import simulate_recording
from ens2zoo.training import TrainingConfig, fit
from ens2zoo.training.distill import DistillConfig, distill
from ens2zoo.zoo.registry import get_architecture

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _digest(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(state[name].detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _neurons(rate: float = 60.0) -> list[Neuron]:
    """Two simulated neurons of two 20 s recordings each, at the training sampling rate."""
    neurons = []
    for n in range(2):
        recordings = []
        for r in range(2):
            sim = simulate_recording(1, duration_s=20.0, frame_rate=rate, seed=10 * n + r)
            counts = np.bincount(np.floor(sim.spike_times[0] * rate).astype(int), minlength=sim.dff.shape[1])
            spikes = counts[:sim.dff.shape[1]].astype(np.int32)
            recordings.append(Recording(trace=sim.dff[0].astype(np.float32), spikes=spikes,
                                        rate=smooth_counts(spikes, rate).astype(np.float32),
                                        event_times=sim.spike_times[0], frame_rate=rate, noise_level=1.0,
                                        firing_rate=1.0, index=r, sampling_rate=rate))
        neurons.append(Neuron(path=Path(f"/sim/DSx/n{n}.mat"), dataset="DSx", recordings=recordings,
                              noise_level=1.0, firing_rate=1.0, frame_rate=rate, sampling_rate=rate))
    return neurons


FITS = {  # name: (architecture, hyper-parameters, settings, expected digest, iterations run)
    "unet-published": ("unet", {"features": 3}, dict(max_iter=12, batch_size=16, seed=5),
                       "0e9a87c8815a4ab8", 12),
    "unet-early-stop": ("unet", {"features": 3},
                        dict(max_iter=60, batch_size=8, seed=1, lr=0.05, patience=4, loss_window=3),
                        "a86ad12c4e480fc0", 7),
    "cascade-adagrad": ("cascade", {"window": 64},
                        dict(max_iter=8, batch_size=16, seed=2, optimizer="adagrad", lr=0.05),
                        "d9853e8695e3a691", 8),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_tiny_fit_gives_the_weights_it_gave_before(name):
    arch, hparams, settings, expected, iterations = FITS[name]
    spec = get_architecture(arch)
    net = spec.builder(**hparams)
    window = hparams.get("window", 96)
    result = fit(net, TrainingWindows(_neurons(), window=window), TrainingConfig(**settings), window=window,
                 readout=spec.readout)
    assert result.report.iterations == iterations
    assert _digest(result.state_dict) == expected


def test_tiny_distillation_gives_the_weights_it_gave_before(tmp_path):
    net = DilatedCNN(channels=8, dilations=(1, 2, 4))
    windows = TrainingWindows(_neurons(), window=64 + 2 * net.receptive_half)
    labels = np.maximum(np.diff(windows.trace, prepend=0.0), 0.0).astype(np.float32)
    config = DistillConfig(max_iter=20, finetune_iter=6, batch_size=8, crop=64, lr=5e-3, loss_window=5, seed=3,
                           checkpoint_every=7)
    state, reports = distill(net, windows, labels, config, checkpoint_dir=tmp_path)
    assert [(r.stage, r.iterations, r.best_iteration) for r in reports] == [("distill", 20, 20), ("finetune", 6, 5)]
    assert _digest(state) == "615cc1caefcc9c72"
