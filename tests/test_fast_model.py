"""The whole-trace student ``tcn`` / ``ens2-exc-fast`` and its distillation (no ground truth needed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.architectures.tcn import DilatedCNN
from ens2zoo.data import Neuron, Recording, smooth_counts
from ens2zoo.errors import InputError
from ens2zoo.inference.traces import resample
from ens2zoo.training.distill import (
    DistillConfig,
    distill,
    teacher_labels,
    train_stage,
    unlabelled_set,
    unlabelled_windows,
)
from ens2zoo.zoo.registry import get_architecture, get_model_entry


def _net(seed: int = 0, **kw) -> DilatedCNN:
    torch.manual_seed(seed)
    return DilatedCNN(**kw).eval()


def test_registered_as_whole_trace():
    spec = get_architecture("tcn")
    assert spec.builder is DilatedCNN and spec.readout == "whole-trace"
    assert ens2zoo.create("tcn").readout == "whole-trace"


def test_receptive_field_at_least_96_samples():
    net = _net()
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 0.05, (1, 1000)).astype(np.float32))
    y = x.clone()
    y[0, 500] += 0.5
    with torch.no_grad():
        changed = np.flatnonzero((net(y) - net(x)).abs()[0].numpy() > 1e-7)
    extent = changed.max() - changed.min() + 1
    assert extent >= 96, extent
    assert changed.min() >= 500 - net.receptive_half and changed.max() <= 500 + net.receptive_half
    assert 2 * net.conv_half + 1 >= 96  # the convolutions alone see ≥ 1.6 s at 60 Hz


@pytest.mark.parametrize(("frames", "rate"), [(30, 30.0), (60, 60.0), (61, 60.0), (777, 30.0), (2000, 7.5)])
def test_whole_trace_predict_is_the_network_on_the_trace(frames, rate):
    model = ens2zoo.create("tcn")
    torch.manual_seed(1)
    for p in model.net.parameters():
        torch.nn.init.normal_(p, 0.0, 0.2)
    x = np.random.default_rng(frames).normal(0, 0.1, frames)
    result = model.predict(x, rate, spikes=False)
    x60 = resample(x[None, :], rate, 60.0)
    with torch.no_grad():
        expected = model.net.eval()(torch.from_numpy(x60.astype(np.float32))).numpy()
    assert result.rate.shape == expected.shape
    np.testing.assert_allclose(result.rate, expected, rtol=1e-4, atol=1e-6 * float(np.abs(expected).max()))
    assert (result.rate >= 0).all()


def test_sub_trace_matches_away_from_its_ends():
    net = _net(channels=8)
    x = torch.from_numpy(np.random.default_rng(2).normal(0, 0.1, (1, 3000)).astype(np.float32))
    with torch.no_grad():
        whole, part = net(x)[0], net(x[:, 1000:2200])[0]
    h = net.receptive_half
    torch.testing.assert_close(part[h:-h], whole[1000 + h:2200 - h], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("chunk", [37, 500, 1000, 5000])
def test_whole_trace_rate_in_chunks_equals_one_pass(chunk):
    from ens2zoo.inference.windows import _whole_trace_rate

    net = _net(channels=8).eval()
    x = np.random.default_rng(chunk).normal(0, 0.1, 3001).astype(np.float32)
    with torch.no_grad():
        whole = net(torch.from_numpy(x)[None])[0].double().numpy()
    chunked = _whole_trace_rate(net, x, torch.device("cpu"), chunk=chunk)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-7 * np.abs(whole).max())
    plain = _whole_trace_rate(lambda t: net(t), x, torch.device("cpu"), chunk=chunk)  # no receptive_half
    np.testing.assert_array_equal(plain, whole)


def test_stride_is_refused_with_a_clear_error():
    model = ens2zoo.create("tcn")
    with pytest.raises(InputError, match="no stride"):
        model.predict(np.zeros(300), 30.0, stride=4)


def _fast_models():
    models = [("random tcn", ens2zoo.create("tcn"))]
    if "ens2-exc-fast" in ens2zoo.list_models() and get_model_entry("ens2-exc-fast").status == "available":
        models.append(("ens2-exc-fast", ens2zoo.load("ens2-exc-fast")))
    return models


@pytest.mark.parametrize("value", [0.0, 0.7, -2.0, 1e-9])
def test_silent_on_zero_and_constant_input(value):
    for name, model in _fast_models():
        x = np.full((2, 900), value)
        result = model.predict(x, 30.0)
        assert np.isfinite(result.rate).all(), name
        assert result.rate.max() * 60.0 < 0.3, name  # < 0.3 Hz
        assert result.spikes.sum() == 0, name
        with torch.no_grad():  # the network itself, without the zoo's flat guard
            raw = model.net.eval()(torch.full((1, 600), value))
        assert torch.isfinite(raw).all() and float(raw.max()) * 60.0 < 0.3, name


def _neuron(seed: int, n_recordings: int = 2, length: int = 1500) -> Neuron:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n_recordings):
        spikes = (rng.random(length) < 0.02).astype(np.int32)
        kernel = np.exp(-np.arange(120) / 24.0)
        trace = np.convolve(spikes, kernel)[:length] * 0.3 + rng.normal(0, 0.03, length)
        rate = smooth_counts(spikes, 60.0)[:length].astype(np.float32)
        recs.append(Recording(trace=trace.astype(np.float32), spikes=spikes, rate=rate,
                              event_times=np.zeros(int(spikes.sum())), frame_rate=30.0, noise_level=1.0,
                              firing_rate=1.0, index=i, sampling_rate=60.0))
    return Neuron(path=Path(f"/data/DSx/n{seed}.mat"), dataset="DSx", recordings=recs, noise_level=1.0,
                  firing_rate=1.0, frame_rate=30.0, sampling_rate=60.0)


class _Teacher:
    """A stand-in teacher: the smoothed positive part of the trace's derivative."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, trace, frame_rate, *, stride=1, spikes=True, noise_level=None, progress=None):
        assert stride == 1 and not spikes and noise_level is not None
        self.calls += 1
        d = np.maximum(np.diff(np.asarray(trace, np.float64), prepend=trace[0]), 0.0)
        return SimpleNamespace(rate=np.convolve(d, np.ones(5) / 5, mode="same")[None, :].astype(np.float32))


def test_tiny_distillation_reduces_the_loss_and_is_deterministic(tmp_path, one_torch_thread):
    neurons = [_neuron(0), _neuron(1)]
    items = unlabelled_set(neurons, hours_original=0.01, hours_reimaged=0.01, seed=0)
    assert any(it.reimaged for it in items) and any(not it.reimaged for it in items)
    net = DilatedCNN(channels=8, dilations=(1, 2, 4))
    config = DistillConfig(max_iter=60, finetune_iter=5, batch_size=8, crop=64, lr=5e-3, loss_window=5, seed=3)
    windows = unlabelled_windows(items, 64 + 2 * net.receptive_half + (net.receptive_half * 2 + 64) % 2)
    teacher = _Teacher()
    labels = teacher_labels(teacher, items, windows, cache=tmp_path / "labels.npz", key="k")
    assert teacher.calls == len(items) and labels.max() > 0
    again = teacher_labels(teacher, items, windows, cache=tmp_path / "labels.npz", key="k")
    assert teacher.calls == len(items)  # from the cache
    np.testing.assert_array_equal(again, labels)

    _, report = train_stage(net, windows, labels, stage="distill", lr=config.lr, iterations=config.max_iter,
                            config=config)
    assert np.mean(report.losses[-10:]) < 0.7 * np.mean(report.losses[:5])

    a, reports_a = distill(net, windows, labels, config)
    b, reports_b = distill(net, windows, labels, config, checkpoint_dir=tmp_path / "ckpt")
    assert [r.stage for r in reports_a] == ["distill", "finetune"]
    assert reports_a[0].losses == reports_b[0].losses
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    c, _ = distill(net, windows, labels, config, checkpoint_dir=tmp_path / "ckpt", resume=True)  # finished: reused
    for k in a:
        torch.testing.assert_close(a[k], c[k], rtol=0, atol=0)


def test_distillation_recipe_from_the_cli(small_root, tmp_path, capsys, one_torch_thread):
    """``ens2zoo train --recipe ens2-exc-fast`` on a tiny budget: a teacher folder, the record names the recipe,
    the teacher and the cap; a rerun with --resume gives the same weights."""
    import json

    from safetensors.numpy import load_file

    from ens2zoo.cli.main import main
    from ens2zoo.utils.files import safetensors_metadata
    from ens2zoo.zoo.manifest import write_family

    torch.manual_seed(0)
    member = tmp_path / "mlp.safetensors"
    ens2zoo.create("mlp").save(member)
    write_family(tmp_path / "teacher", "toy", [{"name": "m", "weights": member, "noise_range": [None, None]}])
    out = tmp_path / "fast.safetensors"
    args = ["train", "--recipe", "ens2-exc-fast", "--max-iter", "3", "--threads", "1", "--data", str(small_root),
            "--datasets", "DS03*", "--teacher", str(tmp_path / "teacher"), "-o", str(out), "--log-every", "0"]
    assert main(args) == 0
    assert "distilled from" in capsys.readouterr().out
    meta = safetensors_metadata(out)
    assert meta["architecture"] == "tcn" and meta["recipe"]["name"] == "ens2-exc-fast"
    assert meta["recipe"]["overrides"] == {"max_iter": 3} and meta["recipe"]["config"]["teacher"] == str(
        tmp_path / "teacher")
    assert meta["training"]["distill"]["iterations"] == 3 and meta["training"]["finetune"]["iterations"] == 3
    assert meta["training"]["datasets"] == ["DS03-x"]
    first = load_file(str(out))
    out.unlink()
    assert main([*args, "--resume"]) == 0  # labels from the cache, stages from their finished checkpoints
    again = load_file(str(out))
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert json.loads(json.dumps(meta["recipe"]))  # JSON-ready
