"""End to end on a real suite2p plane with known spikes (``$ENS2ZOO_SHARED/suite2p_fixture``, see its README).

One ``ens2zoo predict --all-rois`` on ``plane0`` (32 ROIs, 25 simulated neurons, 30 Hz, 120 s); ROIs are
matched one-to-one to the neurons (Hungarian assignment on centre distance, ≤ 4 px) and scored against
the truth per matched ROI: the rate against the true spikes binned at 60 Hz (sample j's bin centred on
j/60 s) and smoothed by σ 25 ms; the raster delay of each neuron (its row y is sampled y/Ly of a frame
after the frame starts) is taken off the true spike times.  ``pytest -s`` prints the figures
(``benchmarks/RESULTS.md`` section 14).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from cli_run import run_cli
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import linear_sum_assignment

import ens2zoo
from ens2zoo.inference.spikes import estimate_spikes
from ens2zoo.io.safe_pickle import load_npy
from ens2zoo.zoo.entries import zoo_dir

SIGMA_SAMPLES = 1.5  # 25 ms at 60 Hz
MAX_LAG = 12


def _lag(rate: np.ndarray, truth: np.ndarray) -> int:
    """Shift L (samples) maximising corr(rate[t + L], truth[t]); L > 0: the rate is late."""
    core = slice(MAX_LAG, len(truth) - MAX_LAG)
    xc = [np.corrcoef(rate[MAX_LAG + L:len(truth) - MAX_LAG + L], truth[core])[0, 1]
          for L in range(-MAX_LAG, MAX_LAG + 1)]
    return int(np.argmax(xc)) - MAX_LAG


@pytest.fixture(scope="module")
def scored(suite2p_fixture_dir, tmp_path_factory):
    """(per matched ROI figures, the result file's arrays)."""
    plane = suite2p_fixture_dir / "plane0"
    out = tmp_path_factory.mktemp("fixture") / "plane0.ens2zoo.npz"
    assert run_cli(["predict", plane, "--all-rois", "-o", out]) == 0
    with np.load(out, allow_pickle=False) as f:
        res = {k: f[k] for k in f.files}
    truth = np.load(suite2p_fixture_dir / "ground_truth.npz")
    stat = load_npy(plane / "stat.npy")
    spks = np.load(plane / "spks.npy")
    fs, ly = float(truth["fs"]), int(truth["Ly"])
    roi = res["roi_index"]
    centres = np.array([stat[k]["med"] for k in roi], dtype=np.float64)
    dist = np.hypot(*(centres[:, None, :] - truth["centres"][None]).transpose(2, 0, 1))
    rows, neurons = linear_sum_assignment(dist)
    keep = dist[rows, neurons] <= 4
    rows, neurons = rows[keep], neurons[keep]
    t = res["rate"].shape[1]
    figures = []
    for i, n in zip(rows, neurons):
        spikes = truth["spike_times"][truth["spike_offsets"][n]:truth["spike_offsets"][n + 1]]
        seen = spikes - truth["centres"][n, 0] / ly / fs  # raster delay: row y is sampled y/Ly of a frame late
        j = np.rint(seen * 60).astype(np.int64)
        counts = np.bincount(j[(j >= 0) & (j < t)], minlength=t).astype(np.float64)
        true_rate = gaussian_filter1d(counts, SIGMA_SAMPLES)
        rate = res["rate"][i].astype(np.float64)
        s2p = gaussian_filter1d(np.repeat(spks[roi[i]] / 2.0, 2)[:t], SIGMA_SAMPLES)  # split to 60 Hz
        ours, true_dff = res["dff"][i], truth["dff"][n]
        figures.append({
            "roi": int(roi[i]), "neuron": int(n), "distance": float(dist[i, n]),
            "corr": float(np.corrcoef(rate, true_rate)[0, 1]),
            "suite2p_corr": float(np.corrcoef(s2p, true_rate)[0, 1]),
            "count": float(rate.sum() / counts.sum()),
            "true_spikes": float(counts.sum()),
            "spike_count": float(res["spikes"][i].sum() / counts.sum()),
            # the same rate's spikes by the count-preserving estimator (--spike-estimator count)
            "counted": float(estimate_spikes(res["rate"][i], estimator="count").sum() / counts.sum()),
            "lag": _lag(rate, true_rate),
            "rest": float(np.median(ours[true_dff < 0.02])),
            "scale": float(np.polyfit(true_dff, ours, 1)[0]),
            "nu": float(res["noise_level"][i]),
        })
    return figures, res


def _median(figures: list[dict], key: str) -> float:
    return float(np.median([f[key] for f in figures]))


def test_all_neurons_match_an_roi(scored):
    figures, res = scored
    assert len(figures) == 25 and len({f["roi"] for f in figures}) == 25
    assert res["roi_index"].size >= 25


def test_figures(scored):
    """The measured figures (printed with -s), each against its target; see RESULTS section 14."""
    figures, _ = scored
    print("\nroi neuron  dist   corr  suite2p  count spikes  lag   rest  scale     ν")
    for f in figures:
        print(f"{f['roi']:>3} {f['neuron']:>6} {f['distance']:5.2f} {f['corr']:6.3f} {f['suite2p_corr']:8.3f} "
              f"{f['count']:6.2f} {f['spike_count']:6.2f} {f['lag']:>4} {f['rest']:+6.3f} {f['scale']:6.3f} "
              f"{f['nu']:5.2f}")
    beats = np.mean([f["corr"] > f["suite2p_corr"] for f in figures])
    print(f"median: corr {_median(figures, 'corr'):.3f}, suite2p spks {_median(figures, 'suite2p_corr'):.3f} "
          f"(ens2zoo better on {beats:.0%}), count {_median(figures, 'count'):.3f}, spike_count "
          f"{_median(figures, 'spike_count'):.3f} (--spike-estimator count {_median(figures, 'counted'):.3f}), lag "
          f"{_median(figures, 'lag'):g} samples, ΔF/F at rest {_median(figures, 'rest'):+.3f}, scale "
          f"{_median(figures, 'scale'):.3f}, ν {_median(figures, 'nu'):.2f}")
    assert _median(figures, "corr") >= 0.45
    assert 0.8 <= _median(figures, "count") <= 1.25
    for f in figures:  # round(Σ rate) spikes per ROI: within half a spike of the rate's count
        assert abs(f["counted"] - f["count"]) * f["true_spikes"] <= 0.5 + 1e-6
    assert abs(_median(figures, "lag")) <= 1
    assert abs(_median(figures, "rest")) <= 0.05
    assert 0.9 <= _median(figures, "scale") <= 1.1
    assert beats >= 0.8


def test_frame_sums_and_clock(scored):
    """Per input frame: frame f holds samples 2f and 2f + 1 (30 Hz); times on the outputs' clock."""
    _, res = scored
    rate, spikes = res["rate"], res["spikes"]
    n = res["rate_input"].shape[1]
    assert n == 3600 and rate.shape[1] == 7200
    np.testing.assert_allclose(res["rate_input"], rate.reshape(-1, n, 2).sum(axis=2), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(res["spikes_input"], spikes.reshape(-1, n, 2).sum(axis=2))
    np.testing.assert_allclose(res["times"], np.arange(7200) / 60.0)
    assert float(res["start_time"]) == 0.0
    for i in range(rate.shape[0]):
        events = res["event_times"][res["event_offsets"][i]:res["event_offsets"][i + 1]]
        np.testing.assert_allclose(events, np.repeat(np.arange(7200), spikes[i]) / 60.0)


def test_family_identity_and_recipe(scored):
    """A family's sha256 is its manifest's, with its members; the ΔF/F recipe names its method."""
    _, res = scored
    assert str(res["model"]) == "ens2-exc"
    manifest = zoo_dir() / "manifest.json"
    assert str(res["sha256"]) == hashlib.sha256(manifest.read_bytes()).hexdigest()
    members = json.loads(str(res["members"]))
    assert [m["name"] for m in members] == [m.name for m in ens2zoo.get_model_entry("ens2-exc").members]
    assert len(members) >= 2 and all(len(m["sha256"]) == 64 for m in members)
    recipe = json.loads(str(res["dff_recipe"]))
    assert recipe["baseline_smoothing_s"] == 0.3 and "smoothed" in recipe["baseline_method"]
