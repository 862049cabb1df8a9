"""How re-imaged training copies are specified: parsing, validation, the draw of each copy's ν, and the
time stretch of a copy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ens2zoo.data.neuron import Neuron
from ens2zoo.data.recording import Recording, smooth_counts
from ens2zoo.data.reimage import ReimageSpec, reimage_neurons, stretch
from ens2zoo.errors import InputError


def test_parse_reads_every_field():
    spec = ReimageSpec.parse("rates=7.5,30;noise=1-20;scale=log;copies=4;original=0;seed=2")
    assert spec == ReimageSpec(frame_rates=(7.5, 30.0), noise_levels=(1.0, 20.0), noise_scale="log", copies=4,
                               keep_original=False, seed=2)
    assert ReimageSpec.parse("noise=4").noise_levels == (4.0, 4.0)
    assert ReimageSpec.parse("rates=15;noise=2-3").noise_scale == "linear"
    assert ReimageSpec.parse("stretch=0.8-1.25").stretch == (0.8, 1.25)
    assert ReimageSpec.parse("noise=4").stretch == (1.0, 1.0)


@pytest.mark.parametrize("text, words", [
    ("scale=cubic", "noise scale 'cubic'"),
    ("noise=0-9;scale=log", "must start above ν 0"),
    ("noise=9-1", "must be (low, high)"),
    ("copies", "cannot read 'copies'"),
    ("stretch=1.25-0.8", "time stretch (1.25, 0.8) must be (low, high)"),
    ("stretch=0-2", "time stretch (0.0, 2.0) must be"),
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


FS = 60.0


def _recording(events: np.ndarray, tau: float, n: int, rise: float = 0.05) -> Recording:
    """A clean 60 Hz recording: each event a transient rising with ``rise`` s and decaying with ``tau`` s
    (sample k at (k + 1) / 60 s, as the database's recordings)."""
    t = (np.arange(n) + 1) / FS
    trace = sum((1 - np.exp(-np.clip(t - e, 0, None) / rise)) * np.exp(-np.clip(t - e, 0, None) / tau)
                for e in events)
    counts, _ = np.histogram(events, bins=(np.arange(n + 1) + 0.5) / FS)
    pad = 48
    return Recording(trace=trace.astype(np.float32), spikes=counts.astype(np.int32),
                     rate=smooth_counts(counts, FS, pad)[pad:pad + n].astype(np.float32), event_times=events,
                     frame_rate=30.0, noise_level=1.0, firing_rate=len(events) / (n / FS))


def test_stretch_makes_the_indicator_and_the_firing_faster_with_the_same_transients():
    events = np.array([10.0, 31.0, 55.5, 80.25])
    original = _recording(events, tau=0.5, n=6000)
    fast = stretch(original, 1.25)
    # the neuron 1.25x as fast: transients rising in 40 ms and decaying in 0.4 s at the events' times / 1.25,
    # on 4800 samples
    expected = _recording(events / 1.25, tau=0.4, n=4800, rise=0.04)
    assert len(fast) == 4800 and fast.frame_rate == 37.5
    np.testing.assert_allclose(fast.event_times, events / 1.25)
    np.testing.assert_array_equal(fast.spikes, expected.spikes)  # each spike in the right sample
    np.testing.assert_allclose(fast.rate, expected.rate, atol=1e-6)
    error = np.abs(fast.trace - expected.trace)  # Fourier resampling rings for a few samples at each sharp onset
    assert error.max() < 0.08 and np.mean(error < 0.01) > 0.99
    assert np.corrcoef(fast.trace, expected.trace)[0, 1] > 0.999
    assert fast.firing_rate == pytest.approx(original.firing_rate * 1.25, rel=0.01)
    same = stretch(original, 1.0)
    np.testing.assert_allclose(same.trace, original.trace, atol=1e-6)
    np.testing.assert_array_equal(same.spikes, original.spikes)
    with pytest.raises(InputError, match="stretch factor"):
        stretch(original, 0.0)


def test_copies_are_stretched_only_when_asked_and_by_factors_in_the_range():
    neuron = Neuron(path=Path("DS30-x/cell1.mat"), dataset="DS30-x", noise_level=1.0, firing_rate=0.33,
                    frame_rate=30.0, recordings=[_recording(np.arange(5.0, 95.0, 3.0), 0.3, 6000)])
    plain = ReimageSpec(frame_rates=(30.0,), noise_levels=(2.0, 2.0), copies=20)
    stretched = ReimageSpec(frame_rates=(30.0,), noise_levels=(2.0, 2.0), copies=20, stretch=(0.8, 1.25))
    lengths = [len(r) for r in reimage_neurons([neuron], plain)[0].recordings]
    assert set(lengths) == {6000}
    copies = reimage_neurons([neuron], stretched)[0].recordings[1:]
    factors = np.array([6000 / len(r) for r in copies])
    assert factors.min() >= 0.8 - 1e-3 and factors.max() <= 1.25 + 1e-3 and factors.std() > 0.05
    assert all(r.spikes.sum() == 30 for r in copies)  # every spike kept, none lost at the edges
