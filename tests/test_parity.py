"""ens2zoo reproduces the published ENS² pipeline on the published sample (../shared)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

import ens2zoo
from ens2zoo.architectures.unet import UNet
from ens2zoo.benchmark.reference import load_published


@pytest.fixture(scope="module")
def reference(reference_dir):
    return np.load(reference_dir / "sample_reference_exc.npz")


@pytest.fixture(scope="module")
def result(reference_dir, reference):
    model = ens2zoo.create("unet", weights=reference_dir / "ens2_exc_state_dict.pt")
    return model.predict(reference["dff"], frame_rate=10.0)


def test_sample_file_is_the_reference_input(reference_dir, reference):
    dff = scipy.io.loadmat(reference_dir / "sample_data.mat")["dff"]
    np.testing.assert_array_equal(dff, reference["dff"])


@pytest.mark.parametrize("neuron", range(6))
def test_rate_matches_published(result, reference, neuron):
    expected = reference[f"rate_{neuron}"]
    assert result.rate.shape == (6, expected.shape[0])
    rel = np.linalg.norm(result.rate[neuron] - expected) / np.linalg.norm(expected)
    assert rel <= 1e-4


@pytest.mark.parametrize("neuron", range(6))
def test_spikes_identical_to_published(result, reference, neuron):
    np.testing.assert_array_equal(result.spikes[neuron], reference[f"spike_{neuron}"])


@pytest.mark.parametrize("neuron", range(6))
def test_spike_frames_identical_to_published(result, reference, neuron):
    """The published code labels sample k (k + 1)/60 s; ens2zoo k/60 s (``ens2zoo.inference.clock``):
    the same samples, one for one."""
    expected = reference[f"events_{neuron}"]  # seconds, float32
    got = result.events[neuron]
    assert got.shape == expected.shape
    published_frames = np.rint(expected.astype(np.float64) * 60).astype(np.int64) - 1
    np.testing.assert_array_equal(np.rint(got * 60).astype(np.int64), published_frames)
    np.testing.assert_array_equal(got, published_frames / 60.0)


def test_resampled_trace_matches_published(reference):
    from ens2zoo.inference.traces import resample

    x60 = resample(reference["dff"].astype(np.float64), 10.0)
    for i in range(6):
        np.testing.assert_allclose(x60[i], reference[f"dff_resampled_{i}"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weights", ["ens2_exc_state_dict.pt", "ens2_inh_state_dict.pt"])
def test_1d_network_equals_published_2d_network(reference_dir, weights):
    state = torch.load(reference_dir / weights, weights_only=True)
    published = load_published(reference_dir / weights)
    ours = UNet()
    ours.load_state_dict(state, strict=True)
    ours.eval()
    x = torch.randn(256, 96, generator=torch.Generator().manual_seed(0)) * 0.3
    with torch.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), published(x).numpy(), rtol=1e-5, atol=1e-6)
