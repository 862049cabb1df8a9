"""How re-imaged training copies are specified: parsing, validation and the draw of each copy's ν."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ens2zoo.data.reimage import ReimageSpec
from ens2zoo.errors import InputError


def test_parse_reads_every_field():
    spec = ReimageSpec.parse("rates=7.5,30;noise=1-20;scale=log;copies=4;original=0;seed=2")
    assert spec == ReimageSpec(frame_rates=(7.5, 30.0), noise_levels=(1.0, 20.0), noise_scale="log", copies=4,
                               keep_original=False, seed=2)
    assert ReimageSpec.parse("noise=4").noise_levels == (4.0, 4.0)
    assert ReimageSpec.parse("rates=15;noise=2-3").noise_scale == "linear"


@pytest.mark.parametrize("text, words", [
    ("scale=cubic", "noise scale 'cubic'"),
    ("noise=0-9;scale=log", "must start above ν 0"),
    ("noise=9-1", "must be (low, high)"),
    ("copies", "cannot read 'copies'"),
])
def test_bad_specs_are_refused_with_the_reason(text, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ReimageSpec.parse(text)


def test_linear_draws_are_the_uniform_draws_of_before():
    # the linear scale consumes the generator exactly as rng.uniform(low, high) did: training sets are unchanged
    spec = ReimageSpec(noise_levels=(1.0, 20.0))
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert [spec.draw_noise_level(a) for _ in range(50)] == [float(b.uniform(1.0, 20.0)) for _ in range(50)]


@pytest.mark.parametrize("scale, share_below_4", [
    ("linear", (4 - 1) / (20 - 1)),              # 0.158: uniform in ν
    ("log", math.log(4) / math.log(20)),         # 0.463: uniform in log ν, as many copies per octave
])
def test_each_scale_puts_the_expected_share_of_copies_below_nu_4(scale, share_below_4):
    spec = ReimageSpec(noise_levels=(1.0, 20.0), noise_scale=scale)
    rng = np.random.default_rng(0)
    nu = np.array([spec.draw_noise_level(rng) for _ in range(20_000)])
    assert nu.min() >= 1.0 and nu.max() <= 20.0
    assert np.mean(nu < 4.0) == pytest.approx(share_below_4, abs=0.01)
    # and the median: 10.5 on the linear scale, the geometric mean √20 = 4.47 on the log scale
    assert np.median(nu) == pytest.approx(10.5 if scale == "linear" else math.sqrt(20), rel=0.03)


def test_to_dict_records_the_scale():
    assert ReimageSpec(noise_scale="log").to_dict()["noise_scale"] == "log"
