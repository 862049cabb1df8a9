"""The zoo's own weights: every shipped model loads by name (sha256 checked) and predicts sensibly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

import ens2zoo
from ens2zoo.simulate import simulate_recording
from ens2zoo.training.recipes import FAMILY_RECIPES
from ens2zoo.zoo.entries import zoo_dir
from ens2zoo.zoo.manifest import read_manifest

SHIPPED = [e.name for e in read_manifest(zoo_dir())]


def test_zoo_lists_the_paper_models():
    assert {"ens2-exc", "ens2-exc-v1", "ens2-inh", "ens2-inh-v1", "mlp-exc", "cnn-exc", "lstm-exc"} <= set(SHIPPED)
    for cells in ("exc", "inh"):
        family = ens2zoo.get_model_entry(f"ens2-{cells}")
        recipe = FAMILY_RECIPES[f"ens2-{cells}"]
        # the family recipe's three members: v1, noise-matched, high-noise
        assert [m.name for m in family.members] == [m.name for m in recipe.members] and len(recipe.members) == 3
        assert [m.recipe for m in family.members] == [m.recipe for m in recipe.members]
        ranges = [m.noise_range for m in family.members]
        assert ranges[0] == (None, 1.5) and ranges[-1][1] is None and all(
            a[1] == b[0] for a, b in itertools.pairwise(ranges))
        v1, nm = family.members[:2]  # the noise-matched member was trained on ν up to 9 and at 7.5 Hz
        assert nm.trained_noise_levels[1] == 9.0 > v1.trained_noise_levels[1] and nm.trained_frame_rates[0] == 7.5
        # the high-noise member: ν up to 20, serving from 9
        assert family.members[2].trained_noise_levels[1] == 20.0 and ranges[2] == (9.0, None)


@pytest.fixture(scope="module")
def recording():
    return simulate_recording(n_neurons=3, duration_s=60.0, frame_rate=30.0, seed=5)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_and_predicts(name, recording):
    entry = ens2zoo.get_model_entry(name)
    assert entry.status == "available" and entry.training_data
    assert any("all" in m for m in entry.metrics.values()), f"{name}: no measured figure in its manifest record"
    for sha, prov in ([(m.sha256, entry.provenance["members"][m.name]) for m in entry.members] or
                      [(entry.sha256, entry.provenance)]):
        runs = prov["training"].get("networks", [prov["training"]])  # an ensemble: each network's run
        assert len(sha) == 64 and all(run["iterations"] > 0 for run in runs)
    model = ens2zoo.load(name)
    result = model.predict(recording.dff, recording.frame_rate)
    assert result.rate.shape == (3, 3600) and (result.rate >= 0).all()
    # the rate tracks the simulated spikes (smoothed like the training targets)
    edges = np.arange(3601) / 60.0
    for spikes, rate in zip(recording.spike_times, result.rate):
        truth = gaussian_filter1d(np.histogram(spikes, edges)[0].astype(float), 1.5)
        assert np.corrcoef(truth, rate)[0, 1] > 0.5, name
    # the spikes are the model's estimator's (ens2-gcamp8: as many as the rate sums to, chosen on mouse fold M1)
    assert result.spike_estimator == ("count" if name == "ens2-gcamp8" else "greedy"), name
    if result.spike_estimator == "count":
        np.testing.assert_array_equal(result.spikes.sum(axis=1), np.floor(result.rate.astype(np.float64).sum(axis=1)
                                                                          + 0.5))
    if name.endswith("-exc"):  # the simulation mimics excitatory neurons; interneuron models fire more
        total = sum(len(e) for e in result.events)
        true_total = sum(len(s) for s in recording.spike_times)
        assert 0.3 * true_total < total < 3 * true_total, name
