"""Spike-count calibration: gains fitted per indicator, applied by ``predict(indicator=...)`` and the evaluation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.calibration import MIN_ROWS_PER_KNOT, fit_count_gains, fit_noise_curve
from ens2zoo.benchmark.conditions import Condition, condition_noise_level, condition_prediction
from ens2zoo.benchmark.evaluation import FROM_DATASET, dataset_indicator, neuron_prediction, score_predictions
from ens2zoo.data import load_dataset
from ens2zoo.errors import InputError, RegistryError
from ens2zoo.zoo.entries import ModelEntry, indicator_key

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GAINS = {"default": 0.8, "gcamp8f": 1.7, "GCaMP8s": 0.6}


@pytest.fixture(scope="module")
def calibrated():
    torch.manual_seed(0)
    model = ens2zoo.create("mlp")
    plain = ens2zoo.create("mlp")
    plain.net.load_state_dict(model.net.state_dict())
    model.entry = ModelEntry(name="toy", architecture="mlp", count_calibration=GAINS)
    return model, plain


def test_indicator_keys():
    assert indicator_key("jGCaMP8f") == indicator_key("GCaMP8f") == indicator_key(" gcamp8f ") == "gcamp8f"
    assert indicator_key("OGB1") == "ogb1" and indicator_key("jRGECO1a") == "rgeco1a"


def test_fit_count_gains_is_one_over_the_median_count_per_indicator_and_pooled():
    rows = [{"dataset": "DS30-GCaMP8f-m-V1", "count": c, "condition_frame_rate": 30.0, "condition_noise": 0.0}
            for c in (0.4, 0.5, 0.8)]
    rows += [{"dataset": "DS32-GCaMP8s-m-V1", "count": c, "condition_frame_rate": 30.0, "condition_noise": 0.0}
             for c in (2.0, 1.6)]
    rows += [{"dataset": "DS32-GCaMP8s-m-V1", "bias": 3.0, "condition_frame_rate": 30.0, "condition_noise": 4.0},
             {"dataset": "DS32-GCaMP8s-m-V1", "count": None, "condition_frame_rate": 30.0, "condition_noise": 0.0}]
    assert fit_count_gains(rows, conditions=["30:0"]) == {"default": round(1 / 0.8, 2), "gcamp8f": 2.0,
                                                          "gcamp8s": round(1 / 1.8, 2)}
    # the 30:4 row counts 1 + bias = 4
    assert fit_count_gains(rows)["gcamp8s"] == 0.5
    with pytest.raises(InputError, match="no row with a defined count"):
        fit_count_gains(rows, conditions=["7.5:4"])


def test_fit_noise_curve_is_one_over_the_median_calibrated_count_per_octave_of_nu():
    def row(dataset, count, nu):
        return {"dataset": dataset, "count": count, "noise_level": nu, "condition_frame_rate": 30.0,
                "condition_noise": 4.0}

    gains = {"default": 1.0, "gcamp8f": 2.0, "gcamp8s": 0.5}
    n = MIN_ROWS_PER_KNOT
    # octave of 2 (ν 1.5-2.8): 8f counts 0.6 → calibrated 1.2; octave of 4: 8s counts 1.6 → 0.8
    rows = [row("DS30-GCaMP8f-m-V1", 0.6, nu) for nu in np.linspace(1.6, 2.4, n)]
    rows += [row("DS32-GCaMP8s-m-V1", 1.6, nu) for nu in np.linspace(3.0, 5.0, n)]
    rows += [row("DS32-GCaMP8s-m-V1", 1.0, 8.0)] * (n - 1)  # too few rows for a knot at ν 8
    assert fit_noise_curve(rows, gains) == [(2.0, round(1 / 1.2, 3)), (4.0, 1.25)]
    assert fit_noise_curve(rows[:n] + rows[2 * n:], gains) == []  # one knot is no curve
    with pytest.raises(InputError, match="no ν"):
        fit_noise_curve([{**rows[0], "noise_level": None}], gains)


def test_count_noise_factor_is_linear_in_log_nu_between_knots_and_flat_beyond():
    entry = ModelEntry(name="x", architecture="mlp", count_noise_curve=[(2.0, 0.8), (8.0, 1.2)])
    assert entry.count_noise_factor(1.0) == 0.8 and entry.count_noise_factor(20.0) == 1.2
    assert entry.count_noise_factor(4.0) == pytest.approx(1.0)  # halfway in log ν
    assert entry.count_noise_factor(float("nan")) == 1.0
    assert ModelEntry(name="y", architecture="mlp").count_noise_factor(4.0) == 1.0
    for bad in ([(4.0, 1.0), (2.0, 1.0)], [(2.0, 0.0), (4.0, 1.0)], [(-1.0, 1.0), (4.0, 1.0)]):
        with pytest.raises(RegistryError, match="count_noise_curve"):
            ModelEntry(name="z", architecture="mlp", count_noise_curve=bad)


def test_predict_scales_each_neuron_by_its_nu_factor(calibrated, tmp_path):
    _, plain = calibrated
    curve = [(1.0, 0.5), (4.0, 2.0)]
    noisy = ens2zoo.create("mlp")
    noisy.net.load_state_dict(plain.net.state_dict())
    noisy.entry = ModelEntry(name="toy", architecture="mlp", count_calibration={"default": 0.8},
                             count_noise_curve=curve)
    rng = np.random.default_rng(2)
    traces = rng.normal(0, 1, (2, 900)) * np.array([[0.002], [0.5]])  # ν far below 1 and far above 4
    base = plain.predict(traces, 30.0)
    result = noisy.predict(traces, 30.0)
    assert result.noise_level[0] < 1.0 < 4.0 < result.noise_level[1]
    np.testing.assert_array_equal(result.noise_gain, [0.5, 2.0])
    assert result.count_gain == 0.8
    np.testing.assert_array_equal(result.rate, base.rate * np.float32([[0.8 * 0.5], [0.8 * 2.0]]))
    assert noisy.count_gain(None, result.noise_level[1]) == pytest.approx(1.6)
    from ens2zoo.io.formats import write_results

    with np.load(write_results(tmp_path / "r.npz", result), allow_pickle=False) as f:
        np.testing.assert_array_equal(f["noise_gain"], [0.5, 2.0])


def test_entry_refuses_non_positive_gains():
    with pytest.raises(RegistryError, match="positive"):
        ModelEntry(name="x", architecture="mlp", count_calibration={"default": 0.0})
    with pytest.raises(RegistryError, match="positive"):
        ModelEntry(name="x", architecture="mlp", count_calibration={"gcamp8f": float("nan")})


def test_predict_scales_the_rate_by_the_indicator_gain(calibrated):
    model, plain = calibrated
    rng = np.random.default_rng(1)
    traces = rng.normal(0, 0.05, (2, 600)) + np.repeat([[0.0], [0.2]], 600, axis=1)
    base = plain.predict(traces, 30.0)
    for indicator, gain in (("jGCaMP8f", 1.7), ("gcamp8s", 0.6)):
        result = model.predict(traces, 30.0, indicator=indicator)
        np.testing.assert_array_equal(result.rate, base.rate * np.float32(gain))
        assert result.count_gain == gain and result.indicator == indicator_key(indicator)
    with pytest.warns(UserWarning, match=r"gcamp8f ×1.70, gcamp8s ×0.60.*--indicator gcamp8f\|gcamp8s"):
        pooled = model.predict(traces, 30.0)
    np.testing.assert_array_equal(pooled.rate, base.rate * np.float32(0.8))
    assert pooled.count_gain == 0.8 and pooled.indicator == ""
    with pytest.raises(InputError, match="no spike-count calibration.*gcamp8f, gcamp8s"):
        model.predict(traces, 30.0, indicator="gcamp6f")
    with pytest.raises(InputError, match="leave it out"):
        plain.predict(traces, 30.0, indicator="gcamp6f")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plain.predict(traces, 30.0).count_gain == 1.0  # an uncalibrated model neither warns nor scales


def test_evaluation_applies_the_gain_and_count_scales_with_it(calibrated, small_root):
    model, plain = calibrated
    dataset = load_dataset(small_root / "DS03-x")
    neuron = dataset.neurons[0]
    names = [neuron.name]
    for predict in (lambda m, ind: neuron_prediction(m, neuron, stride=8, indicator=ind),
                    lambda m, ind: condition_prediction(m, neuron, Condition(30.0, 4.0), stride=8, indicator=ind)):
        base, scaled = predict(plain, None), predict(model, "gcamp8f")
        np.testing.assert_allclose(scaled.pred_rate, base.pred_rate * 1.7, rtol=1e-6)
        (b,), (s,) = score_predictions("DS03-x", names, [base]), score_predictions("DS03-x", names, [scaled])
        assert s["count"] == pytest.approx(1.7 * b["count"], rel=1e-6)
        assert s["corr"] == pytest.approx(b["corr"], abs=1e-6)
    assert dataset_indicator(FROM_DATASET, load_dataset(small_root / "DS03-x")) == "x"
    assert dataset_indicator("gcamp8m", dataset) == "gcamp8m" and dataset_indicator(None, dataset) is None


def test_set_count_calibration_is_loaded_and_survives_a_rewrite_of_the_same_members(tmp_path, mlp_family_member):
    from ens2zoo.workflows.factory import load_folder
    from ens2zoo.zoo.manifest import read_records, set_count_calibration, write_family

    members = [{"name": "a", "weights": mlp_family_member, "noise_range": [None, 2.0]},
               {"name": "b", "weights": mlp_family_member, "noise_range": [2.0, None]}]
    write_family(tmp_path, "fam", members, indicators=("gcamp8f",))
    set_count_calibration(tmp_path, "fam", {"default": 0.9, "gcamp8f": 1.5}, "fitted on fold X",
                          [(1.0, 0.5), (4.0, 1.0)])
    model = load_folder(tmp_path)
    assert model.entry.indicators == ("gcamp8f",) and model.count_gain("jGCaMP8f") == 1.5
    assert model.count_gain("jGCaMP8f", 2.0) == pytest.approx(1.5 * 0.75)  # halfway in log ν
    write_family(tmp_path, "fam", members)  # same members: the calibration belongs to them and stays
    (record,) = read_records(tmp_path)
    assert record["count_calibration"] == {"default": 0.9, "gcamp8f": 1.5}
    assert record["count_noise_curve"] == [[1.0, 0.5], [4.0, 1.0]]
    assert record["provenance"]["count_calibration"] == "fitted on fold X"
    torch.manual_seed(3)
    other = tmp_path / "other.safetensors"
    ens2zoo.create("mlp").save(other)
    write_family(tmp_path, "fam", [members[0], {**members[1], "weights": other}])  # new weights: dropped
    assert "count_calibration" not in read_records(tmp_path)[0] and "count_noise_curve" not in read_records(tmp_path)[0]
    with pytest.raises(RegistryError, match="no model 'nope'"):
        set_count_calibration(tmp_path, "nope", {"default": 1.0}, "")


@pytest.fixture()
def mlp_family_member(tmp_path_factory):
    torch.manual_seed(2)
    path = tmp_path_factory.mktemp("m") / "member.safetensors"
    ens2zoo.create("mlp").save(path)
    return path


def test_committed_gains_are_cross_fitted_from_the_other_folds_tables():
    """Each GCaMP8 fold's family is calibrated on the other folds' held-out neurons only (its scores stay
    held out); the zoo's on all five (benchmarks/gcamp8/fit_calibration.py)."""
    import json
    from pathlib import Path

    from ens2zoo.benchmark.evaluation import read_csv
    from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS

    root = Path(__file__).resolve().parents[1]
    results, folds = root / "benchmarks/gcamp8/results", list(GCAMP8_MOUSE_FOLDS)

    def gains(folder: Path) -> dict:
        (record,) = [r for r in json.loads((folder / "manifest.json").read_text())["models"]
                     if r["name"] == "ens2-gcamp8"]
        return record["count_calibration"]

    def fitted(on: list[str]) -> dict:
        rows = [r for f in on for r in read_csv(results / f"ens2-gcamp8-uncalibrated_{f}_conditions.csv")]
        return fit_count_gains(rows, conditions=["30:0", "30:4", "30:8", "7.5:4"])

    for fold in folds:
        assert gains(root / "benchmarks/gcamp8/folds" / fold) == fitted([f for f in folds if f != fold]), fold
    assert gains(root / "zoo_weights") == fitted(folds)


def test_committed_nu_curves_are_cross_fitted_from_the_tables_and_their_nu(ground_truth_dir):
    """The ν curves are fitted as the gains are (other folds only; the zoo on all five) on the ν each neuron
    measured under each condition (benchmarks/gcamp8/results/noise_levels.csv, spot-checked here against
    the evaluation's re-imaging)."""
    import json
    from pathlib import Path

    from ens2zoo.benchmark.conditions import parse_conditions, row_condition
    from ens2zoo.benchmark.evaluation import read_csv
    from ens2zoo.data.groups import GCAMP8_MOUSE_FOLDS
    from ens2zoo.data.loader import load_neuron

    root = Path(__file__).resolve().parents[1]
    results, folds = root / "benchmarks/gcamp8/results", list(GCAMP8_MOUSE_FOLDS)
    conditions = ["30:0", "30:4", "30:8", "7.5:4"]
    nus = {(r["dataset"], r["neuron"], row_condition(r).label): r["noise_level"]
           for r in read_csv(results / "noise_levels.csv")}

    def record(folder: Path) -> dict:
        (rec,) = [r for r in json.loads((folder / "manifest.json").read_text())["models"] if r["name"] == "ens2-gcamp8"]
        return rec

    def fitted(on: list[str]) -> list[list[float]]:
        rows = [{**r, "noise_level": nus[r["dataset"], r["neuron"], row_condition(r).label]}
                for f in on for r in read_csv(results / f"ens2-gcamp8-uncalibrated_{f}_conditions.csv")
                if row_condition(r).label in conditions]
        return [list(k) for k in fit_noise_curve(rows, fit_count_gains(rows, conditions=conditions),
                                                 conditions=conditions)]

    for folder, on in [(root / "benchmarks/gcamp8/folds" / f, [g for g in folds if g != f]) for f in folds] + \
            [(root / "zoo_weights", folds)]:
        rec = record(folder)
        assert rec["count_noise_curve"] == fitted(on), folder
        ModelEntry(name="c", architecture="unet", count_noise_curve=rec["count_noise_curve"])  # raises if malformed
    dataset = "DS30-GCaMP8f-m-V1"
    folder = next(ground_truth_dir.glob(dataset))
    for name, label in (("CAttached_jGCaMP8f_471993_2_mini", "30:0"), ("CAttached_jGCaMP8f_471994_2_mini", "7.5:4")):
        neuron = load_neuron(folder / f"{name}.mat")
        (cond,) = parse_conditions(label)
        assert condition_noise_level(dataset, neuron, cond) == pytest.approx(nus[dataset, name, label], rel=1e-9)
