"""Windowed inference and overlap-add against the literal published loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.architectures import UNet
from ens2zoo.benchmark.reference import predict_rate
from ens2zoo.inference.windows import trace_rate, window_starts


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return UNet(features=4).eval()


@pytest.mark.parametrize("n", [1, 95, 96, 97, 700])
@pytest.mark.parametrize("batch_size", [7, 512])
def test_stride_one_equals_published_loop(net, n, batch_size):
    x = np.random.default_rng(n).normal(0, 0.3, n)
    with torch.no_grad():
        expected = predict_rate(net, x)
        got = trace_rate(net, x, batch_size=batch_size)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def test_stride_rescales_to_the_exact_edge_convention():
    # a network that outputs ones everywhere: the published read-out gives
    # (windows covering p)/96 at each p; every stride must give the same
    class Ones(torch.nn.Module):
        def forward(self, x):
            return torch.ones_like(x)

    x = np.zeros(500)
    exact = trace_rate(Ones(), x, stride=1)
    for stride in (2, 5, 48, 96):
        np.testing.assert_allclose(trace_rate(Ones(), x, stride=stride), exact, rtol=1e-6)


def test_stride_is_close_to_exact_with_trained_weights(reference_dir):
    import ens2zoo

    ref = np.load(reference_dir / "sample_reference_exc.npz")
    model = ens2zoo.create("unet", weights=reference_dir / "ens2_exc_state_dict.pt")
    exact = model.predict(ref["dff"][:2], 10.0, spikes=False).rate
    approx = model.predict(ref["dff"][:2], 10.0, spikes=False, stride=4).rate
    for e, a in zip(exact, approx):
        assert np.corrcoef(e, a)[0, 1] > 0.999


def test_window_starts_include_the_last_window():
    assert window_starts(10, 4).tolist() == [0, 4, 8, 9]
    assert window_starts(9, 4).tolist() == [0, 4, 8]


def test_compiled_network_gives_the_eager_rates_and_spikes():
    model = ens2zoo.load("ens2-exc-v1")
    x = np.random.default_rng(4).normal(0, 0.05, (1, 1800)) + np.repeat(np.arange(60) % 7 == 0, 30) * 0.5
    eager = model.predict(x, 30.0, compile=False)
    compiled = model.predict(x, 30.0, compile=True)
    rel = np.linalg.norm(compiled.rate - eager.rate) / np.linalg.norm(eager.rate)
    assert rel < 1e-5
    np.testing.assert_array_equal(compiled.spikes, eager.spikes)


def test_a_failing_compiler_falls_back_to_the_eager_network(monkeypatch, caplog):
    from ens2zoo.inference import compiled

    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    net = ens2zoo.create("unet", features=3).net
    monkeypatch.setattr(compiled.torch, "compile", broken)
    with caplog.at_level("WARNING", logger="ens2zoo.inference"):
        assert compiled.compiled_windows(net, 8, 96, torch.device("cpu")) is net
    assert "eager" in caplog.text


def test_full_float32_turns_tf32_off_and_restores_it():
    from ens2zoo.utils.devices import full_float32

    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with full_float32(torch.device("cuda")):  # flags only: needs no GPU
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before
