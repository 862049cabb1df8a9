"""The window has one source: an architecture built with window=W predicts (and trains) with windows of W."""

from __future__ import annotations

import numpy as np
import pytest

import ens2zoo
from ens2zoo.errors import InputError
from ens2zoo.inference.traces import resample
from ens2zoo.inference.windows import trace_rate
from ens2zoo.workflows.factory import resolve_hparams
from ens2zoo.zoo.entries import Preprocessing


@pytest.mark.parametrize("arch,window", [("unet", 128), ("unet", 48), ("mlp", 64), ("cnn", 128), ("cnn", 64),
                                         ("lstm", 64)])
def test_predict_uses_the_architecture_window(arch, window):
    model = ens2zoo.create(arch, window=window)
    assert model.preprocessing.window == window == model.hparams["window"]
    x = np.random.default_rng(0).normal(0, 0.1, (2, 300))
    result = model.predict(x, 30.0, spikes=False)
    x60 = resample(x, 30.0, 60.0)
    model.net.eval()  # dropout off, as predict does
    for i in range(2):
        expected = trace_rate(model.net, x60[i], window=window)
        np.testing.assert_array_equal(result.rate[i], expected)


def test_window_from_preprocessing_sets_the_hparam_and_disagreement_is_refused():
    model = ens2zoo.create("mlp", preprocessing=Preprocessing(window=64))
    assert model.hparams["window"] == 64 and model.net.window == 64
    with pytest.raises(InputError, match="disagrees"):
        ens2zoo.create("mlp", window=32, preprocessing=Preprocessing(window=64))


def test_create_and_load_merge_defaults_the_same_way():
    entry = ens2zoo.get_model_entry("ens2-exc")
    spec = ens2zoo.get_architecture(entry.architecture)
    hparams, pre = resolve_hparams(spec, {}, entry.preprocessing)
    assert ens2zoo.load("ens2-exc").hparams == hparams == ens2zoo.create("unet").hparams
    assert pre.window == hparams["window"]


def test_an_unbuildable_window_is_an_input_error():
    with pytest.raises(InputError, match="cannot be built"):
        ens2zoo.create("unet", window=100)  # not divisible by 8
