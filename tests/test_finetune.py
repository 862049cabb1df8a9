"""Fine-tuning: a training run that starts from trained weights (``TrainingConfig.init_weights``)."""

from __future__ import annotations

import pytest
import torch

from ens2zoo.architectures.ensemble import Ensemble
from ens2zoo.cli.main import main
from ens2zoo.errors import InputError
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.recipes import Recipe
from ens2zoo.utils.files import safetensors_metadata, sha256_file
from ens2zoo.workflows.factory import create, load_member
from ens2zoo.workflows.runner import initial_model, train_and_save
from ens2zoo.zoo.registry import get_model_entry
from ens2zoo.zoo.weights import read_state_dict, write_safetensors

TINY = {"features": 3}
TINY_CONFIG = TrainingConfig(max_iter=3, batch_size=32, loss_window=2)


def _max_change(a: dict, b: dict) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def test_a_run_with_init_weights_starts_from_them_and_records_them(small_root, tmp_path):
    folders = [small_root / "DS03-x"]
    start = tmp_path / "start.safetensors"
    train_and_save(folders, start, Recipe("tiny", "unet", TINY, TINY_CONFIG), log_interval=0)
    # a learning rate of 1e-12: one Adam step moves each weight by ~1e-12, so the result is where the run started
    still = TINY_CONFIG.replace(max_iter=1, lr=1e-12, seed=3)
    tuned, scratch = tmp_path / "tuned.safetensors", tmp_path / "scratch.safetensors"
    train_and_save(folders, tuned, Recipe("ft", "unet", TINY, still.replace(init_weights=str(start))), log_interval=0)
    train_and_save(folders, scratch, Recipe("ft", "unet", TINY, still), log_interval=0)
    assert _max_change(read_state_dict(tuned), read_state_dict(start)) < 1e-6
    assert _max_change(read_state_dict(scratch), read_state_dict(start)) > 1e-2  # a random start: the test can fail
    training = safetensors_metadata(tuned)["training"]
    assert training["init_weights"] == str(start) and training["init_sha256"] == sha256_file(start)
    assert "init_sha256" not in safetensors_metadata(scratch)["training"]


def test_an_ensemble_fine_tunes_every_network_from_the_same_weights(small_root, tmp_path, monkeypatch):
    import ens2zoo.workflows.runner as runner

    monkeypatch.setattr(runner, "outputs_constant", lambda net, window: False)
    start = tmp_path / "start.safetensors"
    train_and_save([small_root / "DS03-x"], start, Recipe("tiny", "unet", TINY, TINY_CONFIG), log_interval=0)
    config = TINY_CONFIG.replace(max_iter=1, lr=1e-12, ensemble=2, init_weights=str(start))
    out = tmp_path / "ens.safetensors"
    train_and_save([small_root / "DS03-x"], out, Recipe("ft", "unet", TINY, config), log_interval=0)
    state, begun = read_state_dict(out), read_state_dict(start)
    for k in range(2):
        assert _max_change({n: state[f"nets.{k}.{n}"] for n in begun}, begun) < 1e-6


def test_load_member_gives_one_network_of_a_zoo_family_with_its_checked_hash():
    member = next(m for m in get_model_entry("ens2-exc").members if m.name == "ens2-exc-nm")
    model = load_member("ens2-exc-nm")
    assert model.sha256 == member.sha256 and not model.members and model.architecture == "unet"
    family = create("unet", weights=get_model_entry("ens2-exc").resolve(member.weights))
    for name, tensor in family.net.state_dict().items():
        assert torch.equal(model.net.state_dict()[name], tensor)
    with pytest.raises(InputError, match="family of 3 networks: name one of its members"):
        load_member("ens2-exc")


def test_init_weights_must_be_one_network_of_the_recipes_architecture(tmp_path):
    with pytest.raises(InputError, match="same architecture and hyper-parameters"):
        initial_model(Recipe("wide", "unet", {"features": 13}, TrainingConfig(init_weights="ens2-exc-nm")))
    two = tmp_path / "two.safetensors"
    write_safetensors(Ensemble([create("unet", **TINY).net, create("unet", **TINY).net]).state_dict(), two)
    with pytest.raises(InputError, match="an ensemble"):
        initial_model(Recipe("tiny", "unet", TINY, TrainingConfig(init_weights=str(two))))


def test_cli_train_init_weights(small_root, tmp_path, capsys):
    start, out = tmp_path / "start.safetensors", tmp_path / "out.safetensors"
    base = ["train", "--arch", "unet", "--hparam", "features=3", "--data", str(small_root), "--datasets", "DS03*",
            "--max-iter", "2", "--batch-size", "32", "--log-every", "0"]
    assert main([*base, "-o", str(start)]) == 0
    assert main([*base, "--init-weights", str(start), "-o", str(out)]) == 0
    assert safetensors_metadata(out)["training"]["init_sha256"] == sha256_file(start)
    assert main([*base, "--init-weights", "ens2-exc-nm", "-o", str(tmp_path / "bad.safetensors")]) == 2
    assert "same architecture and hyper-parameters" in capsys.readouterr().err
