"""The training interface: determinism, resume, losses, every architecture."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.training import get_loss, list_losses


@pytest.fixture(scope="module")
def windows(ground_truth_dir):
    from ens2zoo.data import TrainingWindows, load_neuron

    files = sorted((next(ground_truth_dir.glob("DS05-*"))).glob("*.mat"))[:1]
    return TrainingWindows([load_neuron(f) for f in files])


@pytest.fixture(scope="module")
def windows64(ground_truth_dir):
    from ens2zoo.data import TrainingWindows, load_neuron

    files = sorted((next(ground_truth_dir.glob("DS05-*"))).glob("*.mat"))[:1]
    return TrainingWindows([load_neuron(f) for f in files], window=64)


def _weights(model):
    return {k: v.clone() for k, v in model.net.state_dict().items()}


@pytest.mark.parametrize("arch", ["unet", "mlp", "cnn", "lstm"])
def test_every_architecture_trains(windows, arch):
    hp = {"hidden": 8} if arch == "lstm" else {}
    model = ens2zoo.create(arch, **hp).fit(windows, max_iter=4, batch_size=32, seed=1)
    report = model.training_report
    assert report.iterations == 4 and np.isfinite(report.best_loss)
    assert len(report.losses) == 4 and report.best_loss == min(report.losses)
    out = model.predict(np.random.default_rng(0).normal(0, 0.1, 300), frame_rate=30.0)
    assert out.rate.shape == (1, 600) and (out.rate >= 0).all()


def test_same_seed_same_weights_bit_identical(windows):
    a = ens2zoo.create("unet", features=3).fit(windows, max_iter=5, batch_size=16, seed=7)
    b = ens2zoo.create("unet", features=3).fit(windows, max_iter=5, batch_size=16, seed=7)
    c = ens2zoo.create("unet", features=3).fit(windows, max_iter=5, batch_size=16, seed=8)
    wa, wb, wc = _weights(a), _weights(b), _weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_resume_equals_uninterrupted(windows, tmp_path):
    ckpt = tmp_path / "run.ckpt.safetensors"
    full = ens2zoo.create("mlp").fit(windows, max_iter=10, batch_size=16, seed=3)
    first = ens2zoo.create("mlp")
    first.fit(windows, max_iter=6, batch_size=16, seed=3, checkpoint=ckpt, checkpoint_every=3)
    # a "crash" after iteration 6: continue from the checkpoint to 10
    resumed = ens2zoo.create("mlp").fit(windows, max_iter=10, batch_size=16, seed=3, checkpoint=ckpt,
                                        checkpoint_every=3, resume=True)
    assert resumed.training_report.losses == full.training_report.losses
    wf, wr = _weights(full), _weights(resumed)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)


def test_early_stopping_keeps_the_best_state(windows):
    model = ens2zoo.create("unet", features=3).fit(windows, max_iter=200, patience=3, batch_size=8, seed=0, lr=0.05)
    report = model.training_report_
    assert report.stopped_early and report.iterations - report.best_iteration == 3
    assert report.best_loss == min(report.losses) == report.losses[report.best_iteration - 1]
    # the kept weights are those of the best iteration: a run stopped there gives them bit for bit
    again = ens2zoo.create("unet", features=3).fit(windows, max_iter=report.best_iteration, patience=1000,
                                                   batch_size=8, seed=0, lr=0.05)
    wa, wb = _weights(model), _weights(again)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_loss_window_judges_the_running_mean(windows):
    k = 4
    model = ens2zoo.create("unet", features=3).fit(windows, max_iter=30, patience=1000, batch_size=8, seed=2,
                                                   lr=0.02, loss_window=k)
    losses = np.array(model.training_report_.losses)
    means = np.convolve(losses, np.ones(k) / k, mode="valid")  # means[i] ends at iteration i + k
    report = model.training_report_
    assert report.best_iteration == int(np.argmin(means)) + k
    assert report.best_loss == pytest.approx(means.min(), rel=1e-12)
    assert model.training_report is model.training_report_  # scikit-learn style alias


def test_warm_start_continues_from_the_current_weights(windows):
    pretrained = ens2zoo.load("ens2-exc-v1")
    before = _weights(pretrained)
    pretrained.fit(windows, max_iter=1, batch_size=8, lr=1e-9, warm_start=True)
    after = _weights(pretrained)
    assert all(torch.allclose(before[k], after[k], atol=1e-6) for k in before)
    fresh = ens2zoo.load("ens2-exc-v1").fit(windows, max_iter=1, batch_size=8, lr=1e-9)
    assert not all(torch.allclose(before[k], v, atol=1e-3) for k, v in _weights(fresh).items())


@pytest.mark.parametrize("loss", ["mse", "eucd"])
def test_sharded_step_matches_the_plain_step(loss):
    from ens2zoo.training.step import ShardedStep, plain_step

    torch.manual_seed(0)
    net = ens2zoo.create("unet", features=4).net
    x, r = torch.randn(64, 96), torch.rand(64, 96)
    s = (torch.rand(64, 96) > 0.9).float()
    fn = get_loss(loss)
    net.zero_grad()
    plain = plain_step(net, x, r, s, fn)
    expected = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    with ShardedStep(net, 3) as step:
        sharded = step(net, x, r, s, fn)
    assert sharded.item() == pytest.approx(plain.item(), rel=1e-6)
    for g, e in zip((p.grad for p in net.parameters()), expected):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-7)


def test_compiled_training_is_deterministic_and_has_the_eager_gradients(windows):
    from ens2zoo.training.step import make_step

    previous = torch.get_num_threads()
    torch.set_num_threads(2)  # two shards, as fit runs on this 2-core machine
    try:
        runs = [ens2zoo.create("unet", features=3).fit(windows, max_iter=2, batch_size=16, seed=5, compile=True)
                for _ in range(2)]
        first, again = (_weights(m) for m in runs)
        assert all(torch.equal(first[k], again[k]) for k in first)
        assert runs[0].training_report.losses == runs[1].training_report.losses

        # one step, compiled and eager: two shards of 8, and the plain step on 8 on one thread
        # (the shape and thread count of a shard: the same compiled graph, compiled once)
        torch.set_num_threads(1)
        torch.manual_seed(0)
        x, r = torch.randn(16, 96) * 0.1, torch.rand(16, 96) * 0.05
        grads = {}
        for shards, compile, batch in ((2, False, 16), (2, True, 16), (1, False, 8), (1, True, 8)):
            net = ens2zoo.create("unet", features=3).net.train()
            net.load_state_dict(runs[0].net.state_dict())
            with make_step(net, shards, compile=compile) as step:
                step(net, x[:batch], r[:batch], None, get_loss("mse"))
            grads[shards, compile] = [p.grad for p in net.parameters()]
    finally:
        torch.set_num_threads(previous)
    for shards in (1, 2):  # the same gradients up to float32 rounding
        for g, e in zip(grads[shards, True], grads[shards, False]):
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-6 * e.abs().max().item())


def test_cli_recipe_may_add_compile():
    import argparse

    from ens2zoo.cli.options import add_training_args, recipe_from_args

    parser = argparse.ArgumentParser()
    add_training_args(parser)
    recipe = recipe_from_args(parser.parse_args(["--recipe", "unet", "--threads", "1", "--compile"]))
    assert recipe.name == "unet" and recipe.config.compile and recipe.config.threads == 1
    assert recipe.config.replace(compile=False, threads=None) == ens2zoo.training.recipes.get_recipe("unet").config


def test_losses_by_name():
    assert {"mse", "eucd", "corr"} <= set(list_losses())
    pred = torch.tensor([[0.0, 1.0, 2.0]])
    rate = torch.tensor([[0.0, 1.0, 2.0]])
    spikes = torch.tensor([[0.0, 1.0, 1.0]])
    assert get_loss("mse")(pred, rate, spikes).item() == 0
    assert get_loss("corr")(pred, rate, spikes).item() == pytest.approx(-1.0)
    assert get_loss("eucd")(pred + 1, rate, spikes).item() == pytest.approx(np.sqrt(3 / 0.025 / 2))
    with pytest.raises(ens2zoo.UnknownNameError, match="unknown loss 'l1'"):
        get_loss("l1")


def test_saved_weights_round_trip(windows, tmp_path):
    model = ens2zoo.create("cnn").fit(windows, max_iter=2, batch_size=8)
    sha = model.save(tmp_path / "cnn.safetensors")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "cnn.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    again = ens2zoo.create("cnn", weights=tmp_path / "cnn.safetensors")
    assert again.sha256 == sha
    x = np.random.default_rng(0).normal(0, 0.1, 120)
    np.testing.assert_array_equal(model.predict(x, 30.0).rate, again.predict(x, 30.0).rate)


def test_cascade_peer_has_cascades_layer_sizes():
    # hand count: conv 1→30 k31, 30→40 k19, 40→50 k5, dense 50→30, out (2 steps × 30)→1
    # steps: 64 −30 = 34 −18 = 16, /2 = 8 −4 = 4, /2 = 2
    expected = (30 * 31 + 30) + (30 * 40 * 19 + 40) + (40 * 50 * 5 + 50) + (50 * 30 + 30) + (2 * 30 + 1)
    model = ens2zoo.create("cascade")
    assert _n_params(model) == expected
    assert model.readout == "centre" and model.preprocessing.window == 64
    assert model.net(torch.zeros(3, 64)).shape == (3, 1)


def _n_params(model):
    return sum(p.numel() for p in model.net.parameters())


def test_centre_readout_networks_learn_the_centre_sample(windows64):
    # the first iteration's loss, recomputed by hand: MSE of the output against each window's centre rate
    from ens2zoo.training.fit import _batch_indices

    seen = []
    model = ens2zoo.create("cascade")
    windows = windows64
    model.fit(windows, max_iter=1, batch_size=64, seed=5, optimizer="adagrad",
              callbacks=[lambda it, loss, state: seen.append(loss)])
    net = ens2zoo.create("cascade").net
    torch.manual_seed(5)
    for m in net.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    net.initialise()
    x, r, _ = windows.batch(_batch_indices(5, 1, len(windows), 64))
    with torch.no_grad():
        expected = torch.mean((net(torch.from_numpy(x)) - torch.from_numpy(r[:, 32:33])) ** 2).item()
    assert seen[0] == pytest.approx(expected, rel=1e-5)


def test_adagrad_runs_resume_like_uninterrupted_ones(windows64, tmp_path):
    windows = windows64
    ckpt = tmp_path / "run.ckpt.safetensors"
    kw = dict(batch_size=32, seed=2, optimizer="adagrad", lr=0.01)
    full = ens2zoo.create("cascade").fit(windows, max_iter=6, **kw)
    ens2zoo.create("cascade").fit(windows, max_iter=3, checkpoint=ckpt, checkpoint_every=3, **kw)
    resumed = ens2zoo.create("cascade").fit(windows, max_iter=6, checkpoint=ckpt, checkpoint_every=3,
                                            resume=True, **kw)
    assert resumed.training_report.losses == full.training_report.losses
    with pytest.raises(ens2zoo.InputError, match="optimizer"):
        ens2zoo.TrainingConfig(optimizer="sgd")


def test_cosine_schedule_anneals_the_learning_rate_to_zero(windows, monkeypatch):
    import importlib

    from ens2zoo.training.loop import cosine_schedule

    fit_module = importlib.import_module("ens2zoo.training.fit")

    schedule = cosine_schedule(0.01, 4)
    # lr · (1 + cos(π (i − 1) / 4)) / 2 at i = 1..4, by hand
    assert [schedule(i) for i in (1, 2, 3, 4)] == pytest.approx([0.01, 0.0085355339, 0.005, 0.0014644661])
    made = []

    def recording(net, config):
        made.append(torch.optim.Adam(net.parameters(), lr=config.lr))
        return made[-1]

    monkeypatch.setattr(fit_module, "make_optimizer", recording)
    ens2zoo.create("mlp").fit(windows, max_iter=4, batch_size=8, lr=0.01, lr_schedule="cosine")
    assert made[-1].param_groups[0]["lr"] == pytest.approx(schedule(4))
    ens2zoo.create("mlp").fit(windows, max_iter=4, batch_size=8, lr=0.01)
    assert made[-1].param_groups[0]["lr"] == 0.01  # constant: the published protocol
    with pytest.raises(ens2zoo.errors.InputError, match="lr_schedule='linear'"):
        ens2zoo.create("mlp").fit(windows, max_iter=4, lr_schedule="linear")
