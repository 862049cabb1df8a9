"""Evaluation under recording conditions (frame rate, noise level), family routing, the OASIS peer."""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.conditions import (
    CONDITION_COLUMNS,
    Condition,
    condition_prediction,
    evaluate_conditions,
    parse_conditions,
    reimaged_trace,
    write_condition_csv,
)
from ens2zoo.benchmark.evaluation import COLUMNS, evaluate_model, neuron_prediction, read_csv
from ens2zoo.benchmark.figures import condition_medians, plot_condition_curves
from ens2zoo.benchmark.lodo import run_benchmark
from ens2zoo.cli.main import main
from ens2zoo.data import load_dataset
from ens2zoo.inference.noise import noise_level
from ens2zoo.inference.traces import resample
from ens2zoo.model import Member, SpikeModel
from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.recipes import Recipe
from ens2zoo.zoo.entries import FamilyMember

CONDS = "native,30:4,7.5:8"
STRIDE = 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ds03(small_root):
    return load_dataset(small_root / "DS03-x")


@pytest.fixture(scope="module")
def ds05(small_root):
    return load_dataset(small_root / "DS05-x")


@pytest.fixture(scope="module")
def model():
    return ens2zoo.load("ens2-exc")


@pytest.fixture(scope="module")
def rows(model, ds03):
    return evaluate_conditions(model, [ds03], CONDS, stride=STRIDE)


def _key(row) -> tuple:
    return row["dataset"], row["neuron"], Condition(*(None if math.isnan(row[c]) else row[c]
                                                     for c in ("condition_frame_rate", "condition_noise"))).label


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) for k in a)


# --- the condition parser ---------------------------------------------------------------------------

def test_parse_conditions():
    conds = parse_conditions("native,30:2, 7.5:8 ,NATIVE:1".replace(",NATIVE:1", ""))
    assert [c.label for c in conds] == ["native", "30:2", "7.5:8"]
    assert conds[0].is_native and conds[1] == Condition(30.0, 2.0)
    assert conds[2].columns() == {"condition_frame_rate": 7.5, "condition_noise": 8.0}
    assert all(math.isnan(v) for v in conds[0].columns().values())
    assert parse_conditions(["30:0", Condition(15.0, 4.0)]) == [Condition(30.0, 0.0), Condition(15.0, 4.0)]
    assert parse_conditions("Native") == [Condition()]


@pytest.mark.parametrize("spec, words", [
    ("30:x", ["'30:x'", "RATE:NU"]),
    ("native,30", ["'30'", "RATE:NU"]),
    ("0:2", ["'0:2'", "positive"]),
    ("30:-1", ["'30:-1'", "non-negative"]),
    ("nan:2", ["'nan:2'", "finite"]),
    ("30:2:1", ["'30:2:1'", "RATE:NU"]),
    ("30:2,,7.5:4", ["empty", "RATE:NU"]),
    ("", ["empty"]),
    ("30:2,30.0:2", ["twice", "30:2"]),
])
def test_parse_conditions_refuses_bad_items(spec, words):
    with pytest.raises(ens2zoo.InputError) as info:
        parse_conditions(spec)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


# --- rows ---------------------------------------------------------------------------------------------

def test_rows_have_the_columns_one_per_neuron_and_condition(rows, ds03):
    assert len(rows) == 3 * len(ds03.neurons)
    for row in rows:
        assert tuple(row) == CONDITION_COLUMNS
        assert -100 <= row["corr"] <= 100 and 0 <= row["er50"] <= 100
    labels = [_key(r)[2] for r in rows]
    assert labels == ["native"] * 2 + ["30:4"] * 2 + ["7.5:8"] * 2
    noisy = {_key(r)[1:]: r["corr"] for r in rows}
    for neuron in ds03.neurons:  # more noise, lower frame rate: worse
        assert noisy[(neuron.name, "7.5:8")] < noisy[(neuron.name, "native")]


def test_native_rows_are_evaluate_model_rows(rows, model, ds03):
    native = [r for r in rows if _key(r)[2] == "native"]
    expected = evaluate_model(model, [ds03], stride=STRIDE)
    assert len(native) == len(expected)
    for got, exp in zip(native, expected):
        assert {k: got[k] for k in COLUMNS} == exp
        assert math.isnan(got["condition_frame_rate"]) and math.isnan(got["condition_noise"])


def test_rows_are_deterministic_and_independent_of_order_and_split(rows, model, ds03):
    again = evaluate_conditions(model, [ds03], CONDS, stride=STRIDE)
    assert all(_same(a, b) for a, b in zip(rows, again))
    reordered = evaluate_conditions(model, [ds03], "7.5:8,native,30:4", stride=STRIDE)
    one_by_one = [r for neuron in ds03.neurons for cond in ("30:4", "7.5:8", "native")
                  for r in evaluate_conditions(model, [replace(ds03, neurons=[neuron])], cond, stride=STRIDE)]
    by_key = {_key(r): r for r in rows}
    for other in (reordered, one_by_one):
        assert len(other) == len(rows)
        for r in other:
            assert _same(r, by_key[_key(r)])


def test_reimaged_noise_reaches_the_target(ds03, ds05):
    # ν is a median over the trace's frames: on ≥ 1,000 frames with the added noise dominating
    # it lands within a few % of the target (shorter traces scatter more: ~1.2/√frames)
    neuron = ds05.neurons[0]
    rec = neuron.recordings[0]
    for cond in (Condition(30.0, 4.0), Condition(30.0, 8.0), Condition(30.0, 6.0)):
        r = reimaged_trace(ds05.name, neuron, rec, cond)
        assert r.trace.shape[0] == round(len(rec) * cond.frame_rate / 60) >= 1000
        assert r.original_noise_level < cond.noise_level / 4
        assert r.noise_level == pytest.approx(cond.noise_level, rel=0.05)
        assert r.noise_level == pytest.approx(float(noise_level(r.trace, cond.frame_rate)))
    # every recording, every condition: the right shapes, reproducible, never less noisy than asked
    # (up to the median's scatter), and a recording already noisier is kept as it is
    for dataset in (ds03, ds05):
        for neuron in dataset.neurons:
            for rec in neuron.recordings:
                for cond in (Condition(30.0, 4.0), Condition(7.5, 8.0), Condition(15.0, 0.1)):
                    r = reimaged_trace(dataset.name, neuron, rec, cond)
                    assert r.trace.shape[0] == round(len(rec) * cond.frame_rate / 60)
                    assert r.trace60.shape[0] == len(rec)
                    if r.original_noise_level < cond.noise_level:
                        assert r.noise_level == pytest.approx(cond.noise_level, rel=0.5)
                    else:  # no noise added: the resampled trace itself
                        assert r.noise_level == r.original_noise_level
                        np.testing.assert_allclose(r.trace, resample(rec.trace[None].astype(float), 60.0,
                                                                     cond.frame_rate)[0])
                    again = reimaged_trace(dataset.name, neuron, rec, cond)
                    np.testing.assert_array_equal(again.trace, r.trace)


def test_condition_rows_predict_the_reimaged_trace_at_its_rate(model, ds03):
    neuron = ds03.neurons[0]
    cond = Condition(15.0, 4.0)
    got = condition_prediction(model, neuron, cond, stride=STRIDE)
    parts = []
    for rec in neuron.recordings:
        low = reimaged_trace(ds03.name, neuron, rec, cond)
        rate = model.predict(low.trace, 15.0, stride=STRIDE).rate[0]
        parts.append(np.pad(rate[:len(rec)], (0, max(0, len(rec) - rate.shape[0]))))
    np.testing.assert_allclose(got.pred_rate, np.concatenate(parts), rtol=1e-6)
    np.testing.assert_array_equal(got.true_rate, np.concatenate([r.rate for r in neuron.recordings]))


def test_conditions_above_the_data_rate_are_refused(model, ds03):
    with pytest.raises(ens2zoo.InputError, match="exceeds"):
        evaluate_conditions(model, [ds03], "120:2")


# --- family routing -------------------------------------------------------------------------------

def test_native_rows_route_a_family_by_the_original_rate_noise(model, ds05):
    neuron = ds05.neurons[0]
    threshold = 1.0
    assert neuron.noise_level > threshold  # at its original 7.8 Hz
    assert float(noise_level(neuron.recordings[0].trace, 60.0)) < threshold  # its 60 Hz trace looks clean
    torch.manual_seed(3)
    other = ens2zoo.create("unet")  # random weights: visibly another network
    low = FamilyMember("clean", "clean.safetensors", "0" * 64, noise_range=(None, threshold))
    high = FamilyMember("noisy", "noisy.safetensors", "1" * 64, noise_range=(threshold, None))
    family = SpikeModel(model.net, architecture="unet", hparams=model.hparams, preprocessing=model.preprocessing,
                        name="fam", members=[Member(low, model.net), Member(high, other.net)])
    assert family.route([neuron.noise_level]) == [1]
    got = neuron_prediction(family, neuron, stride=STRIDE)
    assert got.member == "noisy"
    np.testing.assert_array_equal(got.pred_rate, neuron_prediction(other, neuron, stride=STRIDE).pred_rate)
    assert not np.allclose(got.pred_rate, neuron_prediction(model, neuron, stride=STRIDE).pred_rate)
    (row,) = evaluate_conditions(family, [ds05], "native", stride=STRIDE)
    (expected,) = evaluate_model(other, [ds05], stride=STRIDE)
    assert {k: row[k] for k in COLUMNS} == expected
    # condition rows: predict routes by the re-imaged trace's own ν (8 at 7.5 Hz → the noisy member)
    noisy = condition_prediction(family, neuron, Condition(7.5, 8.0), stride=STRIDE)
    assert noisy.member == "noisy"


# --- CSV, CLI, LODO, figure -----------------------------------------------------------------------

def test_condition_csv_round_trip_and_figure(rows, tmp_path):
    path = tmp_path / "c.csv"
    write_condition_csv(path, rows)
    back = read_csv(path)
    assert tuple(back[0]) == CONDITION_COLUMNS and len(back) == len(rows)
    assert all(_same(a, b) for a, b in zip(rows, back))
    medians = condition_medians(back)
    assert set(medians) == {None, (30.0, 4.0), (7.5, 8.0)}
    fig = plot_condition_curves({"ens2-exc": path, "again": rows}, tmp_path / "f.png")
    assert fig.stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "f.png"]
    with pytest.raises(ens2zoo.InputError, match="no RATE:NU"):
        plot_condition_curves({"m": [r for r in rows if _key(r)[2] == "native"]}, tmp_path / "g.png")


def test_cli_evaluate_conditions(small_root, tmp_path, capsys):
    out = tmp_path / "m.csv"
    rc = main(["evaluate", "--model", "ens2-exc", "--data", str(small_root), "--datasets", "DS03*",
               "--stride", str(STRIDE), "--conditions", "native,15:4", "-o", str(out)])
    assert rc == 0
    with open(out, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert tuple(table[0]) == CONDITION_COLUMNS and len(table) == 4
    assert [r["condition_frame_rate"] for r in table] == ["nan", "nan", "15.0", "15.0"]
    assert any(line.split()[:2] == ["DS03-x", "15:4"] for line in capsys.readouterr().out.splitlines())
    bad = tmp_path / "bad.csv"
    assert main(["evaluate", "--data", str(small_root), "--conditions", "30:x", "-o", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "'30:x'" in err and "RATE:NU" in err and not bad.exists()


def test_benchmark_writes_condition_tables_and_resumes(small_root, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("ENS2ZOO_SHARED", str(tmp_path / "nowhere"))
    recipe = Recipe("mlp", "mlp", {}, TrainingConfig(max_iter=3, patience=3, batch_size=64, seed=1))
    out = tmp_path / "results"
    kwargs = dict(training_datasets="DS03*", stride=STRIDE, log_interval=0, conditions="native,15:4")
    run_benchmark(small_root, ["DS05"], out, recipe, **kwargs)
    native = read_csv(out / f"{recipe.name}_lodo_DS05.csv")
    conds = read_csv(out / f"{recipe.name}_lodo_DS05_conditions.csv")
    assert tuple(native[0]) == COLUMNS and len(native) == 1
    assert tuple(conds[0]) == CONDITION_COLUMNS and len(conds) == 1 and conds[0]["condition_frame_rate"] == 15.0
    with caplog.at_level(logging.INFO, logger="ens2zoo"):
        run_benchmark(small_root, ["DS05"], out, recipe, **kwargs)
    assert "not re-evaluating the conditions" in caplog.text
    assert all(_same(a, b) for a, b in zip(conds, read_csv(out / f"{recipe.name}_lodo_DS05_conditions.csv")))


def test_benchmark_scores_native_rows_at_stride_and_conditions_at_conditions_stride(small_root, tmp_path,
                                                                                      monkeypatch):
    from ens2zoo.benchmark import lodo

    monkeypatch.setenv("ENS2ZOO_SHARED", str(tmp_path / "nowhere"))
    used = {}
    for name in ("evaluate_model", "evaluate_conditions"):
        real = getattr(lodo, name)
        monkeypatch.setattr(lodo, name, lambda *a, _real=real, _name=name, **k: used.setdefault(_name, k["stride"])
                            and _real(*a, **k))
    recipe = Recipe("mlp", "mlp", {}, TrainingConfig(max_iter=3, patience=3, batch_size=64, seed=1))
    run_benchmark(small_root, ["DS05"], tmp_path / "results", recipe, training_datasets="DS03*", stride=1,
                  log_interval=0, conditions="native,15:4", conditions_stride=4)
    assert used == {"evaluate_model": 1, "evaluate_conditions": 4}  # the paper's rows stay exact


# --- the OASIS peer -------------------------------------------------------------------------------

def test_spread_to_rate_preserves_totals():
    from ens2zoo.benchmark.oasis import spread_to_rate

    x = np.random.default_rng(0).random(75)
    for rate, n_out in ((7.5, 600), (30.0, 150), (60.0, 75), (120.0, 38)):
        out = spread_to_rate(x, rate, n_out)
        assert out.shape == (n_out,) and out.sum() == pytest.approx(x.sum())
        assert (out >= -1e-12).all()
    np.testing.assert_allclose(spread_to_rate(x, 60.0, 75), x)


def test_oasis_finds_simulated_spikes():
    pytest.importorskip("oasis")
    from ens2zoo.benchmark.oasis import OASIS
    from ens2zoo.data.recording import smooth_counts
    from ens2zoo.simulate import simulate_recording

    sim = simulate_recording(n_neurons=3, duration_s=60.0, frame_rate=30.0, seed=2)
    result = OASIS().predict(sim.dff, 30.0)
    assert result.rate.shape == (3, 3600) and result.spikes.shape == (3, 3600)
    assert result.model == "oasis" and result.sampling_rate == 60.0
    for i in range(3):
        counts = np.histogram(sim.spike_times[i], bins=np.arange(3601) / 60.0)[0]
        truth = smooth_counts(counts, 60.0, 0)
        assert np.corrcoef(result.rate[i], truth)[0, 1] > 0.7
        n_true = counts.sum()
        assert 0.5 * n_true < result.spikes[i].sum() < 2 * n_true
        np.testing.assert_allclose(result.events[i], np.repeat(np.arange(3600), result.spikes[i]) / 60.0)


def test_oasis_is_scored_like_a_model(ds03):
    pytest.importorskip("oasis")
    from ens2zoo.benchmark.oasis import OASIS

    peer_rows = evaluate_conditions(OASIS(), [ds03], "native,30:4")
    assert len(peer_rows) == 4 and all(tuple(r) == CONDITION_COLUMNS for r in peer_rows)
    assert all(np.isfinite(r["corr"]) and r["corr"] > 0 for r in peer_rows)
    again = evaluate_conditions(OASIS(), [ds03], "30:4,native")
    by_key = {_key(r): r for r in peer_rows}
    assert all(_same(r, by_key[_key(r)]) for r in again)
