"""The shared training loop gives the weights that ``fit`` and distillation gave before it.

The expected fingerprints are those of the weights that the separate loops (commit ab4c884)
produced on these tiny runs, on one torch thread (pinned first as sha256 digests; since session 18 as
:func:`_fingerprint`, compared to 1e-4 of the weights' norm: the digests differed between CPUs whose
BLAS kernels round differently, e.g. ``MKL_CBWR=AVX2`` against AVX-512, by < 1e-6 relative, while a 1 %
change of the learning rate moves the fingerprint by ~2e-2).
"""

from __future__ import annotations

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


def _fingerprint(state: dict[str, torch.Tensor]) -> np.ndarray:
    """The weights' norm and two fixed random projections of them (all tensors, sorted by name, flattened)."""
    flat = np.concatenate([state[name].detach().double().numpy().ravel() for name in sorted(state)])
    projections = np.random.default_rng(0).standard_normal((2, flat.size))
    return np.array([np.linalg.norm(flat), *(projections @ flat)])


def _assert_fingerprint(state: dict[str, torch.Tensor], expected: list[float]) -> None:
    found = _fingerprint(state)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-4 * found[0])


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


FITS = {  # name: (architecture, hyper-parameters, settings, expected fingerprint, iterations run)
    "unet-published": ("unet", {"features": 3}, dict(max_iter=12, batch_size=16, seed=5),
                       [1.7115874, 1.7800293, 1.9553481], 12),
    "unet-early-stop": ("unet", {"features": 3},
                        dict(max_iter=60, batch_size=8, seed=1, lr=0.05, patience=4, loss_window=3),
                        [1.7061671, 1.3365285, 1.5498622], 7),
    "cascade-adagrad": ("cascade", {"window": 64},
                        dict(max_iter=8, batch_size=16, seed=2, optimizer="adagrad", lr=0.05),
                        [10.9265669, 1.1263194, 8.3337314], 8),
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
    _assert_fingerprint(result.state_dict, expected)


def test_tiny_distillation_gives_the_weights_it_gave_before(tmp_path):
    net = DilatedCNN(channels=8, dilations=(1, 2, 4))
    windows = TrainingWindows(_neurons(), window=64 + 2 * net.receptive_half)
    labels = np.maximum(np.diff(windows.trace, prepend=0.0), 0.0).astype(np.float32)
    config = DistillConfig(max_iter=20, finetune_iter=6, batch_size=8, crop=64, lr=5e-3, loss_window=5, seed=3,
                           checkpoint_every=7)
    state, reports = distill(net, windows, labels, config, checkpoint_dir=tmp_path)
    assert [(r.stage, r.iterations, r.best_iteration) for r in reports] == [("distill", 20, 20), ("finetune", 6, 5)]
    _assert_fingerprint(state, [4.2173126, -2.5031028, 0.2559017])
