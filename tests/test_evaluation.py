"""Per-neuron benchmark evaluation, CSV output, and the ``evaluate`` / ``benchmark`` commands."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.evaluation import (
    COLUMNS,
    evaluate_model,
    format_value,
    neuron_prediction,
    summarize,
    write_csv,
)
from ens2zoo.benchmark.lodo import dataset_number
from ens2zoo.cli.main import main
from ens2zoo.data import load_dataset
from ens2zoo.inference.spikes import estimate_spikes
from ens2zoo.metrics import evaluate

from shared_data import DS03_FILES, DS05_FILES

METRICS = ("corr", "vrd", "vpd", "er50", "error", "bias", "count", "spike_count")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def published_unet(reference_dir):
    return ens2zoo.create("unet", weights=reference_dir / "ens2_exc_state_dict.pt")


@pytest.fixture(scope="module")
def ds03(small_root):
    return load_dataset(small_root / "DS03-x")


@pytest.fixture(scope="module")
def ds03_rows(published_unet, ds03):
    return evaluate_model(published_unet, [ds03])


def _published_style(model, neuron):
    """Independent re-implementation of the published read-out of one neuron.

    All windows of all recordings (each zero-padded by half a window) are stacked
    and overlap-added as one sequence; spikes are estimated on the concatenation.
    """
    window, half = 96, 48
    segs = []
    for rec in neuron.recordings:
        padded = np.concatenate([np.zeros(half, np.float32), rec.trace.astype(np.float32),
                                 np.zeros(half, np.float32)])
        segs.append(np.stack([padded[t:t + window] for t in range(len(rec))]))
    windows = np.concatenate(segs)
    model.net.eval()
    with torch.no_grad():
        out = np.concatenate([model.net(torch.from_numpy(windows[i:i + 4096])).double().numpy()
                              for i in range(0, len(windows), 4096)])
    n = len(windows)
    acc = np.zeros(n + window - 1)
    for i in range(n):
        acc[i:i + window] += out[i]
    pred_rate = acc[half:half + n] / window
    true_rate = np.concatenate([r.rate for r in neuron.recordings])
    counts = estimate_spikes(pred_rate, 60.0).astype(np.int64)
    pred_events = np.repeat(np.arange(1, n + 1), counts) / 60.0  # the published clock: sample k at (k + 1)/60 s
    true_events, elapsed = [], 0.0
    for rec in neuron.recordings:
        true_events.append(rec.event_times + elapsed)
        elapsed += len(rec) / 60.0
    return pred_rate, true_rate, pred_events, np.concatenate(true_events)


def test_rows_have_the_columns_and_sane_values(ds03_rows, ds03):
    assert len(ds03_rows) == len(ds03.neurons) == 2
    for row, neuron in zip(ds03_rows, ds03.neurons):
        assert tuple(row) == COLUMNS
        assert row["dataset"] == "DS03-x"
        assert row["neuron"] == neuron.name
        assert -100 < row["corr"] <= 100
        assert 0 <= row["er50"] <= 100
        assert row["vrd"] > 0 and row["vpd"] >= 0
    assert len(ds03.neurons[0].recordings) > 1  # boundaries are exercised


def test_metrics_equal_an_independent_published_recomputation(ds03_rows, ds03, published_unet):
    for row, neuron in zip(ds03_rows, ds03.neurons):
        pred_rate, true_rate, pred_events, true_events = _published_style(published_unet, neuron)
        assert true_events.size == sum(int(r.spikes.sum()) for r in neuron.recordings)
        expected = evaluate(pred_rate, true_rate, pred_events, true_events, 60.0)
        for col in METRICS:
            assert row[col] == pytest.approx(expected[col], rel=1e-5, abs=1e-6), col
        # the library's own arrays agree with the independent ones
        got = neuron_prediction(published_unet, neuron)
        np.testing.assert_allclose(got.pred_rate, pred_rate, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(got.true_rate, true_rate)
        # ens2zoo's clock puts sample k at k/60 s: predicted and true events both 1/60 s earlier
        np.testing.assert_allclose(got.pred_events, pred_events - 1 / 60, atol=1e-12)
        np.testing.assert_allclose(got.true_events, true_events - 1 / 60, atol=1e-12)


def test_summarize_gives_medians(ds03_rows):
    extra = dict(ds03_rows[0], dataset="DS99-y")
    summary = summarize([*ds03_rows, extra])
    assert [s["dataset"] for s in summary] == ["DS03-x", "DS99-y"]
    assert summary[0]["neurons"] == 2 and summary[1]["neurons"] == 1
    for col in METRICS:
        assert summary[0][col] == pytest.approx(np.median([r[col] for r in ds03_rows]))
        assert summary[1][col] == pytest.approx(extra[col])


def test_format_value_marks_missing_figures():
    assert format_value(66.04) == "66.0" and format_value(3, "d") == "3" and format_value(0.645, ".2f") == "0.65"
    assert format_value(None) == format_value(float("nan")) == format_value(np.float64("inf")) == "—"


class _Exploding(Mapping):
    def __getitem__(self, key):
        raise RuntimeError("boom")

    def __iter__(self):
        return iter(COLUMNS)

    def __len__(self):
        return len(COLUMNS)

    def get(self, key, default=None):
        raise RuntimeError("boom")


def test_write_csv_is_atomic_with_header(ds03_rows, tmp_path):
    path = tmp_path / "metrics.csv"
    write_csv(path, ds03_rows)
    with open(path, newline="") as fh:
        table = list(csv.reader(fh))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == 1 + len(ds03_rows)
    assert float(table[1][2]) == pytest.approx(ds03_rows[0]["corr"])
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_csv(path, [ds03_rows[0], _Exploding()])
    assert path.read_bytes() == before  # an interrupted write leaves the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]  # no temporary left


def test_dataset_number():
    assert dataset_number("DS09") == 9
    assert dataset_number("ds5") == 5
    assert dataset_number("DS21-jGECO1a-m-V1") == 21
    with pytest.raises(ens2zoo.InputError):
        dataset_number("V1")


@pytest.fixture(scope="module")
def mlp_weights(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "mlp.safetensors"
    ens2zoo.create("mlp").save(path)
    return path


def test_cli_evaluate_writes_the_table(small_root, mlp_weights, tmp_path, capsys):
    out = tmp_path / "metrics.csv"
    rc = main(["evaluate", "--arch", "mlp", "--weights", str(mlp_weights), "--data", str(small_root),
               "--datasets", "DS03*", "-o", str(out)])
    assert rc == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert [r["dataset"] for r in rows] == ["DS03-x", "DS03-x"]
    assert [r["neuron"] for r in rows] == [Path(f).stem for f in DS03_FILES]
    assert "DS03-x" in capsys.readouterr().out


def test_cli_evaluate_refuses_a_non_csv_output(small_root, mlp_weights, tmp_path):
    out = tmp_path / "metrics.txt"
    assert main(["evaluate", "--arch", "mlp", "--weights", str(mlp_weights), "--data", str(small_root),
                 "-o", str(out)]) == 2
    assert not out.exists()


def _published_medians(reference_dir, number):
    with open(reference_dir / "published_lodo_metrics.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if float(r["dset"]) == number]
    return len(rows), {m: float(np.median([float(r[m]) for r in rows])) for m in ("corr", "er50", "vpd")}


def test_cli_benchmark_end_to_end_and_resume(small_root, reference_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ENS2ZOO_SHARED", str(reference_dir.parent))
    out = tmp_path / "results"
    args = ["benchmark", "--arch", "mlp", "--lodo", "DS05", "--data", str(small_root),
            "--training-datasets", "DS03*", "--max-iter", "3", "--patience", "3", "--batch-size", "64",
            "--log-every", "0", "--seed", "1", "-o", str(out)]
    assert main(args) == 0
    weights = out / "mlp_lodo_DS05.safetensors"
    per_neuron = out / "mlp_lodo_DS05.csv"
    assert weights.is_file() and per_neuron.is_file()
    assert not Path(f"{weights}.ckpt.safetensors").exists()
    with open(per_neuron, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(DS05_FILES)
    assert rows[0]["dataset"] == "DS05-x"
    with open(out / "summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert len(summary) == 1
    s = summary[0]
    assert s["dataset"] == "DS05" and int(s["neurons"]) == 1
    assert float(s["corr"]) == pytest.approx(float(rows[0]["corr"]))
    n_pub, pub = _published_medians(reference_dir, 5)
    assert int(s["published_neurons"]) == n_pub == 5
    for m in ("corr", "er50", "vpd"):
        assert float(s[f"published_{m}"]) == pytest.approx(pub[m])
    assert "DS05" in capsys.readouterr().out

    # a second run reuses the weights and the table; without the published CSV its columns are empty
    mtime = weights.stat().st_mtime_ns
    monkeypatch.setenv("ENS2ZOO_SHARED", str(tmp_path / "nowhere"))
    assert main(args) == 0
    assert weights.stat().st_mtime_ns == mtime
    text = capsys.readouterr().err
    assert "not retraining" in text and "not re-evaluating" in text
    with open(out / "summary.csv", newline="") as fh:
        s2 = next(csv.DictReader(fh))
    assert s2["published_corr"] == "" and s2["published_neurons"] == ""
    assert float(s2["corr"]) == pytest.approx(float(s["corr"]))
    assert not math.isnan(float(s2["corr"])) or math.isnan(float(s["corr"]))
    assert os.listdir(out) and not [p for p in os.listdir(out) if ".part" in p]


def test_cli_train_end_to_end_with_zoo_name(small_root, tmp_path, capsys):
    out = tmp_path / "zoo" / "tiny.safetensors"
    args = ["train", "--arch", "unet", "--hparam", "features=3", "--data", str(small_root), "--datasets", "DS03*",
            "--max-iter", "3", "--batch-size", "32", "--loss-window", "2", "--log-every", "0", "--seed", "4",
            "-o", str(out), "--zoo-name", "tiny-exc"]
    assert main(args) == 0
    assert "registered tiny-exc" in capsys.readouterr().out
    from ens2zoo.utils.files import safetensors_metadata, sha256_file
    from ens2zoo.workflows.factory import load_entry
    from ens2zoo.zoo.manifest import read_manifest

    (entry,) = read_manifest(out.parent)
    assert entry.name == "tiny-exc" and entry.sha256 == sha256_file(out) and entry.training_data == ("DS03-x",)
    training = entry.provenance["training"]
    assert training["loss_window"] == 2 and training["max_iter"] == 3 and training["iterations"] == 3
    assert entry.provenance["recipe"]["architecture"] == "unet" and entry.hparams["features"] == 3
    meta = safetensors_metadata(out)
    assert meta["training"]["batch_size"] == 32 and set(meta["training"]) >= {"reimage", "hours", "patience"}
    model = load_entry(entry)  # sha256 verified
    assert model.predict(np.zeros(300) + np.random.default_rng(0).normal(0, 0.1, 300), 30.0).rate.shape == (1, 600)
    assert not list(out.parent.glob("*.ckpt.*"))


def test_cli_train_recipe_fixes_its_settings(small_root, tmp_path, capsys):
    args = ["train", "--recipe", "ens2-nm", "--lr", "0.01", "--data", str(small_root), "-o",
            str(tmp_path / "w.safetensors")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--recipe ens2-nm fixes the training settings" in err and "--lr" in err


@pytest.mark.parametrize(("command", "names", "message"), [
    ("train", "--recipe=ens2-v1,ens2-nm", "train takes one --recipe or --arch"),
    ("benchmark", "--recipe=unet,unet", "--recipe unet,unet names one twice"),
    ("benchmark", "--recipe=unet,ens2-nm", "--recipe unet fixes the training settings"),  # each one is checked
])
def test_cli_several_recipes_only_for_benchmark(command, names, message, small_root, tmp_path, capsys):
    where = ["-o", str(tmp_path / "w.safetensors")] if command == "train" else ["--lodo", "DS03", "-o", str(tmp_path)]
    assert main([command, names, "--data", str(small_root), *where,
                 *(["--lr", "0.01"] if "ens2-nm" in names and command == "benchmark" else [])]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_demo_writes_results_and_plot(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "correlation of inferred rate with true smoothed spikes" in out
    corr = [float(c) for c in out.split("true smoothed spikes: ")[1].splitlines()[0].split(", ")]
    assert len(corr) == 5 and np.median(corr) > 0.5
    with np.load(tmp_path / "demo" / "demo_result.npz") as z:
        assert z["rate"].shape == (5, 7200) and "true_event_times" in z.files
    assert (tmp_path / "demo" / "demo_plot.png").stat().st_size > 10_000


def test_fold_weights_are_reused_only_with_the_same_recipe(tmp_path):
    import torch

    from ens2zoo.benchmark.lodo import check_recipe
    from ens2zoo.errors import InputError
    from ens2zoo.training.recipes import get_recipe
    from ens2zoo.zoo.weights import write_safetensors

    recipe = get_recipe("ens2-v1")
    record = recipe.to_dict()
    del record["config"]["optimizer"]  # weights written before the setting existed: its default applies
    record["config"]["threads"] = 1  # threads and compile change the speed, not the weights
    record["config"]["compile"] = True
    path = tmp_path / "w.safetensors"
    write_safetensors({"x": torch.zeros(1)}, path, {"recipe": record})
    check_recipe(path, recipe)
    with pytest.raises(InputError, match="ens2-nm"):
        check_recipe(path, get_recipe("ens2-nm"))
    record["config"]["optimizer"] = "adagrad"
    write_safetensors({"x": torch.zeros(1)}, path, {"recipe": record})
    with pytest.raises(InputError, match="not with recipe"):
        check_recipe(path, recipe)


def test_weights_written_before_new_settings_take_their_defaults(tmp_path):
    import torch

    from ens2zoo.benchmark.lodo import check_recipe
    from ens2zoo.errors import InputError
    from ens2zoo.training.recipes import get_recipe
    from ens2zoo.zoo.weights import write_safetensors

    recipe = get_recipe("ens2-gcamp8-nm")
    record = recipe.to_dict()
    del record["config"]["lr_schedule"], record["config"]["reimage"]["noise_scale"]  # added later
    path = tmp_path / "w.safetensors"
    write_safetensors({"x": torch.zeros(1)}, path, {"recipe": record})
    check_recipe(path, recipe)  # kept: the defaults (constant, linear) are how they were trained
    record["config"]["reimage"]["noise_scale"] = "log"
    write_safetensors({"x": torch.zeros(1)}, path, {"recipe": record})
    with pytest.raises(InputError, match="not with recipe"):
        check_recipe(path, recipe)


def test_cli_evaluate_scores_the_spike_estimator_asked_for(small_root, mlp_weights, tmp_path, capsys):
    tables = {}
    for estimator in ("greedy", "count"):
        out = tmp_path / f"{estimator}.csv"
        assert main(["evaluate", "--arch", "mlp", "--weights", str(mlp_weights), "--data", str(small_root),
                     "--datasets", "DS03*", "--spike-estimator", estimator, "-o", str(out)]) == 0
        with open(out, newline="") as fh:
            tables[estimator] = list(csv.DictReader(fh))
    capsys.readouterr()
    from ens2zoo.data import load_dataset

    true = {n.name: sum(len(r.event_times) for r in n.recordings)
            for n in load_dataset(small_root / "DS03-x", progress=None).neurons}
    for greedy, count in zip(tables["greedy"], tables["count"]):
        assert greedy["corr"] == count["corr"] and greedy["count"] == count["count"]  # the same rate
        # Σ spikes = round(Σ rate) per neuron: within half a spike of it
        n_true = true[count["neuron"]]
        assert abs(float(count["spike_count"]) - float(count["count"])) * n_true <= 0.5 + 1e-9
    assert [r["spike_count"] for r in tables["greedy"]] != [r["spike_count"] for r in tables["count"]]
