"""End-to-end inference: the published-style pipeline against ens2zoo, in one run.

Input: one neuron, 10 minutes at 30 Hz (simulated GCaMP6f-like ΔF/F), the
published ENS² excitatory weights.  The reference (ens2zoo/benchmark/reference.py)
mirrors the published steps: 2-D U-Net on materialised stride-1 windows in
batches of 8192, a Python overlap-add loop, the pure-Python greedy estimator.

    make bench        # or: .venv/bin/python -m pytest benchmarks/speed/test_bench_inference.py --benchmark-enable

Every benchmark checks its output against the reference's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.reference import estimate_spikes, load_published, published_pipeline, resample_to_60hz
from ens2zoo.simulate import simulate_recording

FRAME_RATE = 30.0


@pytest.fixture(scope="module")
def trace():
    return simulate_recording(n_neurons=1, duration_s=600.0, frame_rate=FRAME_RATE, seed=1).dff[0]


@pytest.fixture(scope="module")
def weights(reference_dir):
    return reference_dir / "ens2_exc_state_dict.pt"


@pytest.fixture(scope="module")
def reference_output(weights, trace):
    with torch.no_grad():
        return published_pipeline(load_published(weights), trace, FRAME_RATE)


@pytest.fixture(scope="module")
def model(weights):
    return ens2zoo.create("unet", weights=weights)


def _check_exact(result, reference_output):
    rate, spikes, _ = reference_output
    assert np.linalg.norm(result.rate[0] - rate) / np.linalg.norm(rate) < 1e-4
    np.testing.assert_array_equal(result.spikes[0], spikes)


@pytest.mark.benchmark(group="end-to-end: 1 neuron × 10 min at 30 Hz")
def test_published_reference(benchmark, weights, trace):
    net = load_published(weights)

    def run():
        with torch.no_grad():
            return published_pipeline(net, trace, FRAME_RATE)

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group="end-to-end: 1 neuron × 10 min at 30 Hz")
def test_ens2zoo_exact(benchmark, model, trace, reference_output):
    result = benchmark.pedantic(lambda: model.predict(trace, FRAME_RATE), rounds=5, warmup_rounds=1)
    _check_exact(result, reference_output)


@pytest.mark.benchmark(group="end-to-end: 1 neuron × 10 min at 30 Hz")
def test_ens2zoo_exact_compiled(benchmark, model, trace, reference_output):
    # compile=True: torch.compile'd network; the compile (~7 s, once per process) is paid in the
    # warm-up round, as it is once per process in a long run (see ens2zoo.inference.compiled)
    result = benchmark.pedantic(lambda: model.predict(trace, FRAME_RATE, compile=True), rounds=5, warmup_rounds=1)
    _check_exact(result, reference_output)


@pytest.mark.benchmark(group="end-to-end: 1 neuron × 10 min at 30 Hz")
@pytest.mark.parametrize("stride", [4, 16])
def test_ens2zoo_stride(benchmark, model, trace, reference_output, stride):
    result = benchmark.pedantic(lambda: model.predict(trace, FRAME_RATE, stride=stride), rounds=5, warmup_rounds=1)
    assert np.corrcoef(result.rate[0], reference_output[0])[0, 1] > 0.99


@pytest.mark.benchmark(group="spike estimation: 10 min at 60 Hz")
def test_spikes_published(benchmark, reference_output):
    rate, spikes, _ = reference_output
    got = benchmark.pedantic(lambda: estimate_spikes(rate), rounds=3, warmup_rounds=0)
    np.testing.assert_array_equal(got, spikes)


@pytest.mark.benchmark(group="spike estimation: 10 min at 60 Hz")
def test_spikes_ens2zoo(benchmark, reference_output):
    from ens2zoo.inference.spikes import estimate_spikes as fast

    rate, spikes, _ = reference_output
    got = benchmark.pedantic(lambda: fast(rate), rounds=10, warmup_rounds=1)
    np.testing.assert_array_equal(got, spikes)


@pytest.mark.benchmark(group="spike estimation: 10 min at 60 Hz")
def test_spikes_ens2zoo_count(benchmark, reference_output):
    from ens2zoo.inference.spikes import estimate_spikes as fast

    rate = reference_output[0]
    got = benchmark.pedantic(lambda: fast(rate, estimator="count"), rounds=10, warmup_rounds=1)
    assert abs(int(got.sum()) - float(rate[rate > 0].astype(np.float64).sum())) <= 0.5  # one trace: round(Σ rate)


@pytest.mark.benchmark(group="network forward: 36,000 windows")
def test_forward_published_2d(benchmark, weights, trace):
    net = load_published(weights)
    x = torch.from_numpy(np.lib.stride_tricks.sliding_window_view(
        np.pad(resample_to_60hz(trace, FRAME_RATE), 48), 96)[:-1].astype(np.float32))

    def run():
        with torch.no_grad():
            return [net(x[s:s + 8192]) for s in range(0, len(x), 8192)]

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group="network forward: 36,000 windows")
def test_forward_ens2zoo_1d(benchmark, model, trace):
    x = torch.from_numpy(np.lib.stride_tricks.sliding_window_view(
        np.pad(resample_to_60hz(trace, FRAME_RATE), 48), 96)[:-1].astype(np.float32))

    def run():
        with torch.inference_mode():
            return [model.net(x[s:s + 512]) for s in range(0, len(x), 512)]

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
