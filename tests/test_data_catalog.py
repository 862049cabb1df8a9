"""ens2zoo.data: dataset folder selection, name parsing and the catalog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ens2zoo.data import catalog, cell_type_of, find_datasets, parse_dataset_name
from ens2zoo.data.catalog import CATALOG_COLUMNS
from ens2zoo.errors import InputError

NAMES = ["DS01-OGB1-m-V1", "DS02-OGB1-2-m-V1", "DS09-GCaMP6f-m-V1",
         "DS10-GCaMP6f-m-V1-neuropil-corrected", "DS18-R-CaMP-m-CA3", "DS21-jGECO1a-m-V1",
         "DS22-OGB1-m-SST-V1", "DS27-GCaMP6f-m-PV-vivo-V1"]


@pytest.fixture
def fake_root(tmp_path) -> Path:
    for name in NAMES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "cell1.mat").write_bytes(b"")
    (tmp_path / "DS05-no-files-zf-pDp").mkdir()  # no .mat: not a dataset
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "other").mkdir()
    return tmp_path


def _names(paths):
    return [p.name for p in paths]


def test_find_datasets_patterns(fake_root):
    assert _names(find_datasets(fake_root)) == NAMES
    assert _names(find_datasets(fake_root, "DS0[2-9]*,DS1*,DS2[01]*")) == NAMES[1:6]
    assert _names(find_datasets(fake_root, " DS09* , DS18*")) == [NAMES[2], NAMES[4]]
    assert find_datasets(fake_root, "DS99*") == []
    assert _names(find_datasets(fake_root, cell_type="inhibitory")) == NAMES[6:]
    assert _names(find_datasets(fake_root, "DS0*,DS2*", cell_type="excitatory")) == \
        [NAMES[0], NAMES[1], NAMES[2], NAMES[5]]
    with pytest.raises(InputError, match="cell_type"):
        find_datasets(fake_root, cell_type="exc")
    with pytest.raises(InputError, match="no such folder"):
        find_datasets(fake_root / "absent")
    with pytest.raises(InputError, match="glob"):
        find_datasets(fake_root, ",")


def test_real_database_selection(ground_truth_dir):
    exc = find_datasets(ground_truth_dir, cell_type="excitatory")
    inh = find_datasets(ground_truth_dir, cell_type="inhibitory")
    assert all(int(p.name[2:4]) <= 21 for p in exc) and len(inh) == 6
    training = find_datasets(ground_truth_dir, "DS0[2-9]*,DS1*,DS2[01]*")
    assert "DS01-OGB1-m-V1" not in _names(training)
    assert set(training) <= set(exc) and len(training) == len(exc) - 1


def test_parse_dataset_names():
    a = parse_dataset_name("DS02-OGB1-2-m-V1")
    assert (a.number, a.indicator, a.species, a.region, a.subtype) == \
        (2, "OGB1-2", "mouse", "V1", None)
    b = parse_dataset_name("DS18-R-CaMP-m-CA3")
    assert (b.indicator, b.region) == ("R-CaMP", "CA3")
    c = parse_dataset_name("DS10-GCaMP6f-m-V1-neuropil-corrected")
    assert (c.region, c.notes) == ("V1", "neuropil-corrected")
    d = parse_dataset_name("DS27-GCaMP6f-m-PV-vivo-V1")
    assert (d.indicator, d.subtype, d.region, d.notes) == ("GCaMP6f", "PV", "V1", "vivo")
    e = parse_dataset_name("DS05-Cal520-zf-pDp")
    assert (e.species, e.region) == ("zebrafish", "pDp")
    assert cell_type_of("DS01-OGB1-m-V1") == "excitatory"
    assert cell_type_of("DS21-jGECO1a-m-V1") == "excitatory"
    assert cell_type_of("DS22-OGB1-m-SST-V1") == "inhibitory"
    assert cell_type_of("DS27-GCaMP6f-m-PV-vivo-V1") == "inhibitory"
    assert cell_type_of("DS30-GCaMP6f-m-V1") is None
    with pytest.raises(InputError, match="DSnn"):
        parse_dataset_name("my-data")


def _write(path: Path, fr: float, n: int, spike_frames) -> None:
    t = 0.1 + np.arange(n) / fr
    trial = {"fluo_time": t[None, :], "fluo_mean": np.sin(t)[None, :],
                 "events_AP": np.array([[t[f] * 1e4] for f in spike_frames])}
    cells = np.empty((1, 1), dtype=object)
    cells[0, 0] = trial
    scipy.io.savemat(path, {"CAttached": cells})


def test_catalog_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("ENS2ZOO_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "gt"
    ds = root / "DS23-OGB1-m-PV-V1"
    ds.mkdir(parents=True)
    _write(ds / "a.mat", 30.0, 900, [100, 200, 300])  # 30 s
    _write(ds / "b.mat", 15.0, 450, [50])              # 30 s
    rows = catalog(root, as_frame=False)
    assert len(rows) == 1 and tuple(rows[0]) == CATALOG_COLUMNS
    row = rows[0]
    assert (row["name"], row["indicator"], row["species"], row["region"], row["cell_type"]) == \
        ("DS23-OGB1-m-PV-V1", "OGB1", "mouse", "V1", "inhibitory")
    assert (row["neurons"], row["recordings"]) == (2, 2)
    assert row["frame_rate"] == pytest.approx(22.5)
    assert row["hours"] == pytest.approx(2 * 29 / 3600, rel=0.01)  # 1 s trimmed from each
    assert row["firing_rate"] == pytest.approx((3 / (0.1 + 899 / 30) + 1 / (0.1 + 449 / 15)) / 2)
    assert np.isfinite(row["noise_level"])
