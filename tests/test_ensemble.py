"""Ensembles: networks trained alike from different seeds, predicting with the mean of their outputs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from ens2zoo.architectures.ensemble import Ensemble, ensemble_size
from ens2zoo.architectures.mlp import MLP
from ens2zoo.cli.main import main
from ens2zoo.errors import InputError
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.fit import outputs_constant
from ens2zoo.training.recipes import Recipe, same_recipe
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.workflows.factory import create
from ens2zoo.workflows.runner import ensemble_part, part_recipe, train_and_save
from ens2zoo.zoo.weights import read_state_dict, write_safetensors

TINY = {"features": 3}
TINY_CONFIG = TrainingConfig(max_iter=3, batch_size=32, loss_window=2)


def test_ensemble_outputs_the_mean_of_its_networks():
    torch.manual_seed(0)
    nets = [MLP(dropout=0.0).eval() for _ in range(3)]
    x = torch.randn(5, 96)
    with torch.no_grad():
        expected = (nets[0](x) + nets[1](x) + nets[2](x)) / 3
        assert torch.allclose(Ensemble(nets)(x), expected, atol=1e-7)
    with pytest.raises(ValueError, match="at least two"):
        Ensemble(nets[:1])


def test_ensemble_size_reads_the_state_dict_keys():
    assert ensemble_size(MLP().state_dict()) == 1
    assert ensemble_size(Ensemble([MLP(), MLP(), MLP()]).state_dict()) == 3
    assert ensemble_size({"nets.0.w": 0, "nets.2.w": 0}) == 1  # not numbered 0 … n−1: not an ensemble
    assert ensemble_size({"nets.0.w": 0, "other": 0}) == 1
    assert ensemble_size({}) == 1


def test_a_weights_file_holding_an_ensemble_predicts_the_mean_rate_per_frame(tmp_path):
    members = [create("unet", **TINY) for _ in range(2)]
    for seed, m in enumerate(members):
        torch.manual_seed(seed)
        for p in m.net.parameters():
            torch.nn.init.normal_(p, 0.0, 0.3)
    path = tmp_path / "two.safetensors"
    write_safetensors(Ensemble([m.net for m in members]).state_dict(), path)
    ensemble = create("unet", weights=path, **TINY)
    assert isinstance(ensemble.net, Ensemble) and len(ensemble.net.nets) == 2
    traces = np.random.default_rng(1).normal(0, 0.2, (3, 400)).astype(np.float32)
    rates = [m.predict(traces, 30.0, spikes=False).rate for m in members]
    got = ensemble.predict(traces, 30.0, spikes=False).rate
    assert got.shape == rates[0].shape
    np.testing.assert_allclose(got, (rates[0] + rates[1]) / 2, rtol=1e-5, atol=1e-7)
    assert not np.allclose(rates[0], rates[1])  # the two networks differ: the test can fail


def test_fit_trains_one_network_and_the_config_checks_the_count():
    with pytest.raises(InputError, match="ensemble=0"):
        TrainingConfig(ensemble=0)
    with pytest.raises(InputError, match="fit trains one network"):
        create("unet", **TINY).fit(np.zeros((1, 10)), config=TrainingConfig(ensemble=2))


def test_weights_of_one_network_match_a_recipe_of_one_not_of_three():
    recipe = Recipe("x", "unet", config=TINY_CONFIG)
    recorded = recipe.to_dict()
    recorded["config"].pop("ensemble")  # written before ensembles existed
    assert same_recipe(recorded, recipe)
    assert not same_recipe(recorded, Recipe("x", "unet", config=TINY_CONFIG.replace(ensemble=3)))
    three = Recipe("x", "unet", config=TINY_CONFIG.replace(ensemble=3, seed=5))
    assert part_recipe(three, 2).config == TINY_CONFIG.replace(seed=7)
    assert part_recipe(three, 2, attempt=1).config == TINY_CONFIG.replace(seed=10)  # disjoint from the others


def test_train_and_save_trains_each_seed_keeps_finished_parts_and_saves_the_mean(small_root, tmp_path, caplog,
                                                                                  monkeypatch):
    import ens2zoo.workflows.runner as runner

    monkeypatch.setattr(runner, "outputs_constant", lambda net, window: False)  # 3 iterations: maybe not yet
    folders = [small_root / "DS03-x"]
    recipe = Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(ensemble=2, seed=4))
    out = tmp_path / "ens.safetensors"
    # network 0 trained on its own first (an interrupted ensemble run): the ensemble keeps it
    train_and_save(folders, ensemble_part(out, 0), part_recipe(recipe, 0), log_interval=0)
    kept = ensemble_part(out, 0).stat().st_mtime_ns
    alone = tmp_path / "seed5.safetensors"
    train_and_save(folders, alone, Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(seed=5)), log_interval=0)
    with caplog.at_level(logging.INFO, logger="ens2zoo"):
        model, sha = train_and_save(folders, out, recipe, log_interval=0, keep_checkpoint=True)
    assert "ensemble network 1/2: kept" in caplog.text and ensemble_part(out, 0).stat().st_mtime_ns == kept
    state = read_state_dict(out)
    for k, part in enumerate((ensemble_part(out, 0), alone)):  # network 1 = seed 5 trained alone, bit for bit
        for name, tensor in read_state_dict(part).items():
            assert torch.equal(state[f"nets.{k}.{name}"], tensor), (k, name)
    meta = safetensors_metadata(out)
    assert meta["recipe"]["config"]["ensemble"] == 2 and meta["training"]["seed"] == 4
    assert [n["seed"] for n in meta["training"]["networks"]] == [4, 5]
    assert all(n["iterations"] == 3 for n in meta["training"]["networks"])
    assert isinstance(model.net, Ensemble) and model.sha256 == sha
    # without keep_checkpoint the parts go once the ensemble is written; the ensemble loads by itself
    train_and_save(folders, out, recipe, log_interval=0)
    assert not ensemble_part(out, 0).exists() and not ensemble_part(out, 1).exists()
    assert isinstance(create("unet", weights=out, **TINY).net, Ensemble)


def test_cli_train_ensemble(small_root, tmp_path, capsys):
    out = tmp_path / "e.safetensors"
    args = ["train", "--arch", "unet", "--hparam", "features=3", "--data", str(small_root), "--datasets", "DS03*",
            "--max-iter", "2", "--batch-size", "32", "--log-every", "0", "--ensemble", "2", "-o", str(out)]
    assert main(args) == 0
    assert safetensors_metadata(out)["recipe"]["config"]["ensemble"] == 2
    assert ensemble_size(read_state_dict(out)) == 2 and sorted(p.name for p in tmp_path.iterdir()) == [out.name]
    assert main([*args[:-4], "--ensemble", "0", "-o", str(tmp_path / "f.safetensors")]) == 2
    assert "ensemble=0" in capsys.readouterr().err


def test_outputs_constant_finds_a_network_that_learned_nothing():
    net = create("unet", **TINY).net
    assert not outputs_constant(net, 96)
    for p in net.parameters():
        torch.nn.init.zeros_(p)
    assert outputs_constant(net, 96)


def test_an_ensemble_network_that_learned_nothing_is_replaced_by_the_next_seed(small_root, tmp_path, monkeypatch,
                                                                                caplog):
    import ens2zoo.workflows.runner as runner

    calls = []

    def dead_once(net, window):  # the second network's first seed "learned nothing"
        calls.append(1)
        return len(calls) == 2

    monkeypatch.setattr(runner, "outputs_constant", dead_once)
    monkeypatch.setattr(runner, "_constant_at_start", lambda recipe, device: False)  # this test: after training
    folders = [small_root / "DS03-x"]
    recipe = Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(ensemble=2, seed=4))
    out = tmp_path / "ens.safetensors"
    with caplog.at_level(logging.WARNING, logger="ens2zoo"):
        train_and_save(folders, out, recipe, log_interval=0)
    assert "(seed 5) gives a constant output" in caplog.text
    meta = safetensors_metadata(out)
    assert [n["seed"] for n in meta["training"]["networks"]] == [4, 7]  # seed 5 + 2 networks
    assert meta["training"]["discarded"] == [{"network": 1, "seed": 5, "reason": "constant output"}]
    alone = tmp_path / "seed7.safetensors"
    train_and_save(folders, alone, Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(seed=7)), log_interval=0)
    state = read_state_dict(out)
    assert all(torch.equal(state[f"nets.1.{k}"], v) for k, v in read_state_dict(alone).items())
    # a part kept from an earlier run with the second seed is recognised as network 1
    calls.clear()
    monkeypatch.setattr(runner, "outputs_constant", lambda net, window: False)
    import shutil
    shutil.copy(alone, ensemble_part(out, 1))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ens2zoo"):
        train_and_save(folders, out, recipe, log_interval=0)
    assert f"ensemble network 2/2: kept {ensemble_part(out, 1)}" in caplog.text
    assert [n["seed"] for n in safetensors_metadata(out)["training"]["networks"]] == [4, 7]


def test_an_ensemble_keeps_its_last_seed_when_none_learns(small_root, tmp_path, monkeypatch, caplog):
    import ens2zoo.workflows.runner as runner

    monkeypatch.setattr(runner, "outputs_constant", lambda net, window: True)
    monkeypatch.setattr(runner, "SEED_TRIES", 2)
    recipe = Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(ensemble=2, max_iter=1))
    out = tmp_path / "e.safetensors"
    with caplog.at_level(logging.WARNING, logger="ens2zoo"):
        train_and_save([small_root / "DS03-x"], out, recipe, log_interval=0)
    assert "ensemble network 1/2 learned nothing with any of the seeds [0, 2]" in caplog.text
    meta = safetensors_metadata(out)["training"]
    assert [n["seed"] for n in meta["networks"]] == [2, 3] and [d["seed"] for d in meta["discarded"]] == [0, 1]


def test_a_single_network_that_learned_nothing_is_kept_with_a_warning(small_root, tmp_path, monkeypatch, caplog):
    import ens2zoo.workflows.runner as runner

    monkeypatch.setattr(runner, "outputs_constant", lambda net, window: True)
    out = tmp_path / "one.safetensors"
    with caplog.at_level(logging.WARNING, logger="ens2zoo"):
        train_and_save([small_root / "DS03-x"], out, Recipe("tiny", "unet", TINY, TINY_CONFIG), log_interval=0)
    assert f"{out} gives a constant output: the network learned nothing" in caplog.text
    assert ensemble_size(read_state_dict(out)) == 1 and "networks" not in safetensors_metadata(out)["training"]


def test_seeds_whose_initial_network_is_dead_are_skipped_before_training(small_root, tmp_path, caplog):
    from ens2zoo.training.loop import seeded_init

    def dead_at_start(seed: int) -> bool:
        net = create("unet", **TINY).net
        seeded_init(net, seed)
        return outputs_constant(net, 96)

    # this tiny U-Net's initial output is constant (0 for any input) for seeds 1-6, not for 0, 7 and 8
    assert [s for s in range(9) if dead_at_start(s)] == [1, 2, 3, 4, 5, 6]
    recipe = Recipe("tiny", "unet", TINY, TINY_CONFIG.replace(ensemble=3, max_iter=1))
    out = tmp_path / "e.safetensors"
    with caplog.at_level(logging.INFO, logger="ens2zoo"):
        train_and_save([small_root / "DS03-x"], out, recipe, log_interval=0)
    meta = safetensors_metadata(out)["training"]
    assert [n["seed"] for n in meta["networks"]] == [0, 7, 8]  # network 1: seeds 1, 4, 7; network 2: 2, 5, 8
    assert [(d["network"], d["seed"], d["reason"]) for d in meta["discarded"]] == [
        (1, 1, "constant output at initialisation"), (1, 4, "constant output at initialisation"),
        (2, 2, "constant output at initialisation"), (2, 5, "constant output at initialisation")]
    assert caplog.text.count("training unet") == 3  # the dead seeds were never trained
