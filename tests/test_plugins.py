"""Third-party plugins through the ``ens2zoo.models`` entry-point group."""

from __future__ import annotations

import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo import ModelEntry, RegistryError
from ens2zoo.zoo.plugins import ENTRY_POINT_GROUP, discover_plugins
from ens2zoo.zoo.registry import REGISTRY, Registry

FAKE_MODULE = '''
import torch
from torch import nn
from ens2zoo import ModelEntry


class FakeNet(nn.Module):
    """Fake plugin network: a per-sample linear map with a ReLU."""

    def __init__(self, window: int = 96, width: int = 4) -> None:
        super().__init__()
        self.lin = nn.Linear(window, window)

    def forward(self, x):
        return torch.relu(self.lin(x))


def entries():
    return [ModelEntry(name="fakeplug-zoo", architecture="fakenet", hparams={"width": 4},
                       description="from the fake plugin")]
'''


def make_plugin(root: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A minimal installed distribution: ``root/<dist>-0.1.dist-info`` plus top-level modules."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"  # escaped as installers do
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """``tmp_path`` on sys.path (after populating the global registry without it)."""
    ens2zoo.list_architectures()  # the process-wide registry must not see the temporary plugins
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("fakeplug_")]:
        monkeypatch.delitem(sys.modules, name)


# ---------------------------------------------------------------- the installed example plugin

def test_example_plugin_is_registered():
    assert "gru" in ens2zoo.list_architectures()
    assert "gru-example" in ens2zoo.list_models()
    spec = ens2zoo.get_architecture("gru")
    assert "ens2zoo_example_plugin" in spec.source and "ens2zoo-example-plugin" in spec.source
    entry = ens2zoo.get_model_entry("gru-example")
    assert entry.architecture == "gru"
    assert entry.status == "not trained yet"
    assert "plugin" in entry.source
    with pytest.raises(ens2zoo.WeightsError, match="not available"):
        ens2zoo.load("gru-example")


def test_example_plugin_architecture_predicts():
    model = ens2zoo.create("gru", hidden=4)
    assert model.architecture == "gru"
    trace = np.random.default_rng(0).standard_normal((2, 200))
    result = model.predict(trace, frame_rate=10.0, stride=16)
    assert result.rate.shape == (2, 1200)
    assert np.isfinite(result.rate).all() and (result.rate >= 0).all()
    assert result.spikes is not None and result.spikes.shape == (2, 1200)


def test_plugin_architecture_trains_with_fit(ground_truth_dir, tmp_path):
    from ens2zoo.data import TrainingWindows, load_neuron

    path = ground_truth_dir / "DS23-OGB1-m-PV-V1" / "CAttached_Kwan2012_OGB_L23_PV_cell25_mini.mat"
    if not path.is_file():
        path = min((ground_truth_dir / "DS23-OGB1-m-PV-V1").glob("*.mat"))
    windows = TrainingWindows([load_neuron(path)])  # the session's shared cache
    model = ens2zoo.create("gru", hidden=4)
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    assert model.fit(windows, max_iter=3, batch_size=16, patience=10) is model
    report = model.training_report
    assert report.iterations == 3 and len(report.losses) == 3
    assert np.isfinite(report.losses).all()
    assert any(not torch.equal(before[k], v) for k, v in model.net.state_dict().items())
    result = model.predict(windows.trace[:1200], frame_rate=60.0, stride=16)
    assert result.rate.shape == (1, 1200) and np.isfinite(result.rate).all()


# ---------------------------------------------------------------- discovery on a fresh registry

def test_discovery_registers_plugin_architecture_and_entry(plugin_path):
    make_plugin(plugin_path, "fakeplug", {"fakenet": "fakeplug_mod:FakeNet", "fakezoo": "fakeplug_mod:entries"},
                {"fakeplug_mod": FAKE_MODULE})
    registry = Registry()
    registry.populate()
    arch = registry.architectures["fakenet"]
    assert "fakeplug" in arch.source and "fakeplug_mod:FakeNet" in arch.source
    assert arch.description.startswith("Fake plugin network")
    entry = registry.models["fakeplug-zoo"]
    assert entry.architecture == "fakenet" and "fakeplug" in entry.source
    assert entry.status == "not trained yet"
    # the rest is there too: the manifest and the installed example plugin
    assert {"ens2-exc", "ens2-inh", "gru-example"} <= set(registry.models)
    assert "gru" in registry.architectures
    net = arch.builder(**entry.hparams)
    with torch.no_grad():
        assert net(torch.randn(2, 96)).shape == (2, 96)
    # the global registry was not touched
    assert "fakenet" not in ens2zoo.list_architectures()


def test_broken_plugin_warns_and_is_skipped(plugin_path):
    make_plugin(plugin_path, "fakeplug-broken", {"brokenarch": "fakeplug_broken:Net"},
                {"fakeplug_broken": "raise ImportError('fakeplug needs a missing dependency')\n"})
    make_plugin(plugin_path, "fakeplug", {"fakenet": "fakeplug_mod:FakeNet"}, {"fakeplug_mod": FAKE_MODULE})
    registry = Registry()
    with pytest.warns(RuntimeWarning) as record:
        registry.populate()
    messages = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert any("brokenarch" in m and "fakeplug_broken" in m and "missing dependency" in m for m in messages)
    assert "brokenarch" not in registry.architectures
    assert "fakenet" in registry.architectures and "gru" in registry.architectures
    assert {"ens2-exc", "gru-example"} <= set(registry.models)


def test_plugin_clashing_with_builtin_raises(plugin_path):
    make_plugin(plugin_path, "fakeplug-clash", {"unet": "fakeplug_clash:FakeNet"},
                {"fakeplug_clash": FAKE_MODULE})
    registry = Registry()
    registry.architectures.update(REGISTRY.architectures)  # the built-ins, as the global registry has them
    with pytest.raises(RegistryError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        discover_plugins(registry)
    msg = str(info.value)
    assert "'unet'" in msg and "ens2zoo" in msg and "fakeplug_clash" in msg and "fakeplug-clash" in msg
    assert registry.architectures["unet"].builder is REGISTRY.architectures["unet"].builder


def test_plugin_entry_clashing_with_zoo_entry_raises(plugin_path):
    module = FAKE_MODULE + textwrap.dedent('''
        def clash():
            return ModelEntry(name="ens2-exc", architecture="fakenet")
    ''')
    make_plugin(plugin_path, "fakeplug-zooclash", {"fakezoo": "fakeplug_zooclash:clash"},
                {"fakeplug_zooclash": module})
    registry = Registry()
    with pytest.raises(RegistryError) as info:
        registry.populate()
    msg = str(info.value)
    assert "'ens2-exc'" in msg and "ens2zoo" in msg and "fakeplug-zooclash" in msg


def test_plugin_returning_garbage_is_an_error(plugin_path):
    module = "def junk():\n    return [42]\n"
    make_plugin(plugin_path, "fakeplug-junk", {"junk": "fakeplug_junk:junk"}, {"fakeplug_junk": module})
    registry = Registry()
    with pytest.raises(RegistryError, match="int"):
        registry.populate()


def test_plugin_entry_is_a_model_entry():
    # entries a plugin returns keep their fields, only the source is set by discovery
    entry = ens2zoo.get_model_entry("gru-example")
    assert isinstance(entry, ModelEntry)
    assert dict(entry.hparams) == {"hidden": 16}
    assert entry.description.startswith("example plugin entry")
