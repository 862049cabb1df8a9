"""The registry: architectures, zoo entries, names, weights files and their checks."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo import ModelEntry, RegistryError, UnknownNameError, WeightsError
from ens2zoo.zoo.registry import REGISTRY

BUILTIN = ("unet", "mlp", "cnn", "lstm")


def _n_params(model: ens2zoo.SpikeModel) -> int:
    return sum(p.numel() for p in model.net.parameters())


def _state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


@pytest.fixture
def register(request):
    """Register temporary zoo entries under unique names; remove them afterwards."""
    names: list[str] = []

    def _register(**fields) -> ModelEntry:
        fields.setdefault("name", f"tmp-{request.node.name[:20]}-{uuid.uuid4().hex[:8]}")
        fields.setdefault("architecture", "unet")
        entry = ens2zoo.register_model(ModelEntry(**fields))
        names.append(entry.name)
        return entry

    yield _register
    for name in names:
        REGISTRY.models.pop(name, None)


@pytest.fixture
def tiny_weights(tmp_path: Path) -> tuple[Path, str, ens2zoo.SpikeModel]:
    model = ens2zoo.create("unet", features=3)
    path = tmp_path / "w.safetensors"
    sha = model.save(path)
    return path, sha, model


# ---------------------------------------------------------------- architectures

def test_builtin_architectures_listed():
    names = ens2zoo.list_architectures()
    assert set(BUILTIN) <= set(names)
    assert names == sorted(names)
    assert ens2zoo.list_architectures("u*") == ["unet"]
    assert set(ens2zoo.list_architectures("unet,mlp")) == {"unet", "mlp"}


@pytest.mark.parametrize("arch", BUILTIN)
def test_architecture_maps_window_to_nonnegative_window(arch):
    torch.manual_seed(0)
    net = ens2zoo.create(arch).net.eval()
    x = torch.randn(5, 96) * 3
    with torch.no_grad():
        y = net(x)
    assert y.shape == (5, 96)
    assert torch.isfinite(y).all()
    assert (y >= 0).all()
    spec = ens2zoo.get_architecture(arch)
    assert spec.name == arch and spec.source == "ens2zoo"
    assert spec.defaults().get("window") == 96


def test_hyperparameters_are_arguments():
    assert _n_params(ens2zoo.create("unet", features=5)) < _n_params(ens2zoo.create("unet"))
    assert _n_params(ens2zoo.create("lstm", hidden=8)) < _n_params(ens2zoo.create("lstm"))
    assert _n_params(ens2zoo.create("cnn", width=4)) < _n_params(ens2zoo.create("cnn"))
    mlp = ens2zoo.create("mlp", window=64)
    assert mlp.hparams["window"] == 64
    with torch.no_grad():
        assert mlp.net.eval()(torch.randn(3, 64)).shape == (3, 64)


def test_unknown_architecture_suggests_close_match():
    with pytest.raises(UnknownNameError) as info:
        ens2zoo.create("unnet")
    msg = str(info.value)
    assert "'unnet'" in msg and "unet" in msg.replace("'unnet'", "")
    assert isinstance(info.value, KeyError)  # usable as a KeyError too
    with pytest.raises(UnknownNameError, match="lstm"):
        ens2zoo.get_architecture("lsmt")


# ---------------------------------------------------------------- zoo entries

def test_zoo_models_listed_by_glob():
    assert {"ens2-exc", "ens2-inh"} <= set(ens2zoo.list_models("ens2-*"))
    assert all(n.startswith("ens2-") for n in ens2zoo.list_models("ens2-*"))
    assert set(ens2zoo.list_models("mlp-*,cnn-*")) == {"mlp-exc", "cnn-exc"}
    assert ens2zoo.list_models("no-such-*") == []
    entry = ens2zoo.get_model_entry("ens2-exc")
    assert entry.architecture == "unet"
    assert entry.preprocessing.sampling_rate == 60 and entry.preprocessing.window == 96
    assert entry.status == "available"  # the zoo ships its weights


def test_entries_are_frozen():
    entry = ens2zoo.get_model_entry("ens2-exc")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.preprocessing.window = 10  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.hparams["features"] = 3  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ens2zoo.get_architecture("unet").source = "me"  # type: ignore[misc]


def test_unknown_model_suggests_close_match():
    with pytest.raises(UnknownNameError) as info:
        ens2zoo.load("ens2-exx")
    msg = str(info.value)
    assert "ens2-exx" in msg and "ens2-exc" in msg
    assert "did you mean" in msg
    with pytest.raises(UnknownNameError, match="ens2-inh"):
        ens2zoo.get_model_entry("ens2-ihn")


def test_entry_without_weights_is_not_loadable(register, tmp_path):
    entry = register(weights=None)
    assert entry.status == "not trained yet"
    assert entry.name in ens2zoo.list_models()
    with pytest.raises(WeightsError, match="not available") as info:
        ens2zoo.load(entry.name)
    assert entry.name in str(info.value) and "not trained yet" in str(info.value)

    missing = register(weights=str(tmp_path / "absent.safetensors"), sha256="0" * 64)
    assert missing.status == "weights missing"
    with pytest.raises(WeightsError, match="not available") as info:
        ens2zoo.load(missing.name)
    assert "absent.safetensors" in str(info.value)


def test_relative_weights_resolve_in_base_dir(register, tiny_weights):
    path, sha, _ = tiny_weights
    entry = register(weights=path.name, sha256=sha, hparams={"features": 3}, base_dir=str(path.parent))
    assert entry.weights_path == path
    assert entry.status == "available"


def test_register_twice_conflict_names_both_sources(register):
    name = f"tmp-dup-{uuid.uuid4().hex[:8]}"
    first = register(name=name, architecture="unet", source="package-alpha")
    register(name=name, architecture="unet", source="package-alpha")  # identical again: fine
    with pytest.raises(RegistryError) as info:
        ens2zoo.register_model(ModelEntry(name=name, architecture="mlp", source="package-beta"))
    msg = str(info.value)
    assert name in msg and "package-alpha" in msg and "package-beta" in msg
    assert ens2zoo.get_model_entry(name) == first  # the first one stays


def test_architecture_registered_twice_conflict():
    class Other(torch.nn.Module):
        pass

    with pytest.raises(RegistryError) as info:
        ens2zoo.register_architecture("unet", source="package-gamma")(Other)
    msg = str(info.value)
    assert "'unet'" in msg and "ens2zoo" in msg and "package-gamma" in msg
    assert ens2zoo.get_architecture("unet").builder is not Other


def test_sha256_mismatch_refused(register, tiny_weights):
    path, sha, _ = tiny_weights
    wrong = ("f" if sha[0] != "f" else "e") + sha[1:]
    entry = register(weights=str(path), sha256=wrong, hparams={"features": 3})
    assert entry.status == "available"
    with pytest.raises(WeightsError) as info:
        ens2zoo.load(entry.name)
    assert "sha256" in str(info.value) and wrong in str(info.value) and sha in str(info.value)

    no_sha = register(weights=str(path), sha256=None, hparams={"features": 3})
    with pytest.raises(WeightsError, match="sha256"):
        ens2zoo.load(no_sha.name)


def test_good_entry_loads_and_predicts(register, tiny_weights):
    path, sha, original = tiny_weights
    entry = register(weights=str(path), sha256=sha, hparams={"features": 3})
    model = ens2zoo.load(entry.name)
    assert model.name == entry.name and model.sha256 == sha and model.architecture == "unet"
    assert _state_equal(model.net.state_dict(), original.net.state_dict())
    trace = np.random.default_rng(0).standard_normal(200)
    result = model.predict(trace, frame_rate=10.0, stride=8)
    assert result.rate.shape == (1, 1200)
    assert result.sha256 == sha and result.model == entry.name
    np.testing.assert_allclose(result.rate, original.predict(trace, 10.0, stride=8).rate, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- weights files

def test_create_from_safetensors_and_pt(tmp_path, tiny_weights):
    path, sha, original = tiny_weights
    a = ens2zoo.create("unet", weights=path, features=3)
    assert a.sha256 == sha
    assert _state_equal(a.net.state_dict(), original.net.state_dict())

    pt = tmp_path / "w.pt"
    torch.save(original.net.state_dict(), pt)
    b = ens2zoo.create("unet", weights=pt, features=3)
    assert _state_equal(b.net.state_dict(), original.net.state_dict())
    from ens2zoo.zoo.weights import sha256_file

    assert b.sha256 == sha256_file(pt)


def test_pt_with_pickled_object_refused(tmp_path):
    state = ens2zoo.create("unet", features=3).net.state_dict()
    path = tmp_path / "evil.pt"
    torch.save({**state, "extra": Path("/etc/passwd")}, path)  # a non-tensor, unpickled only by full pickle
    with pytest.raises(WeightsError) as info:
        ens2zoo.create("unet", weights=path, features=3)
    assert "evil.pt" in str(info.value)
    assert "\n" not in str(info.value)

    # plain containers load, but are not a state dict of tensors
    plain = tmp_path / "list.pt"
    torch.save([1, 2, 3], plain)
    with pytest.raises(WeightsError, match="state dict"):
        ens2zoo.create("unet", weights=plain, features=3)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
@pytest.mark.parametrize("seed", range(4))
def test_corrupt_weights_refused(tmp_path, suffix, seed):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(np.random.default_rng(seed).bytes(3000))
    with pytest.raises(WeightsError) as info:
        ens2zoo.create("unet", weights=path)
    assert str(path) in str(info.value)


def test_missing_and_unknown_format_weights(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        ens2zoo.create("unet", weights=tmp_path / "nope.safetensors")
    odd = tmp_path / "w.bin"
    odd.write_bytes(b"xx")
    with pytest.raises(WeightsError, match="format"):
        ens2zoo.create("unet", weights=odd)


def test_wrong_shape_weights_name_architecture(tiny_weights):
    path, _, _ = tiny_weights
    with pytest.raises(WeightsError) as info:
        ens2zoo.create("unet", weights=path, features=9)
    msg = str(info.value)
    assert "'unet'" in msg and "w.safetensors" in msg and "size mismatch" in msg
    with pytest.raises(WeightsError, match="'mlp'"):
        ens2zoo.create("mlp", weights=path)


def test_saved_file_sha256_matches(tiny_weights):
    from ens2zoo.zoo.weights import sha256_file

    path, sha, _ = tiny_weights
    assert sha == sha256_file(path)
    assert len(sha) == 64 and int(sha, 16) >= 0
    assert not [p for p in os.listdir(path.parent) if p.endswith(".part.safetensors")]


def test_published_weights_load_strictly(reference_dir):
    path = reference_dir / "ens2_exc_state_dict.pt"
    model = ens2zoo.create("unet", weights=path)
    reference = torch.load(path, map_location="cpu", weights_only=True)
    assert sum(t.numel() for t in reference.values()) == 145_468  # the published (2-D) count
    state = model.net.state_dict()
    assert state.keys() == reference.keys()  # strict: every published key used, none left random
    for key, ref in reference.items():
        # the published 1×96 "image" convolutions: only the kernels' middle row ever touches data
        expected = ref[:, :, ref.shape[2] // 2, :] if ref.ndim == 4 else ref
        assert torch.equal(state[key], expected), key
