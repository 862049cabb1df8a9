"""Spike-count calibration: gains fitted per indicator, applied by ``predict(indicator=...)`` and the evaluation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.benchmark.calibration import fit_count_gains
from ens2zoo.benchmark.conditions import Condition, condition_prediction
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
    set_count_calibration(tmp_path, "fam", {"default": 0.9, "gcamp8f": 1.5}, "fitted on fold X")
    model = load_folder(tmp_path)
    assert model.entry.indicators == ("gcamp8f",) and model.count_gain("jGCaMP8f") == 1.5
    write_family(tmp_path, "fam", members)  # same members: the calibration belongs to them and stays
    (record,) = read_records(tmp_path)
    assert record["count_calibration"] == {"default": 0.9, "gcamp8f": 1.5}
    assert record["provenance"]["count_calibration"] == "fitted on fold X"
    torch.manual_seed(3)
    other = tmp_path / "other.safetensors"
    ens2zoo.create("mlp").save(other)
    write_family(tmp_path, "fam", [members[0], {**members[1], "weights": other}])  # new weights: dropped
    assert "count_calibration" not in read_records(tmp_path)[0]
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
