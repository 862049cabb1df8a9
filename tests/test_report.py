"""The LODO report: bootstrap intervals against exact cases, and the report from hand-made CSVs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ens2zoo.benchmark.bootstrap import bootstrap_difference_ci, bootstrap_median_ci, bootstrap_paired_difference_ci
from ens2zoo.benchmark.evaluation import write_csv
from ens2zoo.benchmark.report import write_report


def test_constant_values_give_a_point_interval():
    assert bootstrap_median_ci([3.0] * 7, n_boot=200) == (3.0, 3.0)


def test_interval_matches_the_exact_bootstrap_distribution():
    # all 27 resamples of [1, 2, 3]: median 1 in 7, 2 in 13, 3 in 7 of them
    medians = [np.median(s) for s in itertools.product([1.0, 2.0, 3.0], repeat=3)]
    assert medians.count(1.0) == 7 and medians.count(3.0) == 7
    lo, hi = bootstrap_median_ci([1.0, 2.0, 3.0], n_boot=4000, seed=1)
    assert (lo, hi) == (1.0, 3.0)  # 7/27 = 26 % of the mass at each end: both tails reach them
    lo, hi = bootstrap_median_ci([1.0, 2.0, 3.0], n_boot=4000, seed=1, level=0.4)  # 30th–70th percentiles
    assert (lo, hi) == (2.0, 2.0)


def test_strata_keep_their_sizes():
    # every stratified resample of two constant strata is the data itself (sizes kept): a point interval
    values = [1.0] * 3 + [10.0] * 4
    strata = ["a"] * 3 + ["b"] * 4
    assert bootstrap_median_ci(values, strata, n_boot=300) == (10.0, 10.0)
    # unstratified, the mixture varies and so does the median
    lo, hi = bootstrap_median_ci(values, n_boot=300)
    assert lo == 1.0 and hi == 10.0


def test_difference_interval_of_shifted_samples():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 60)
    lo, hi = bootstrap_difference_ci(a + 5.0, ["x"] * 60, a, ["x"] * 60, n_boot=2000)
    assert lo < 5.0 < hi and hi - lo < 2.0


def test_paired_interval_of_a_constant_shift_is_the_shift():
    # every resample takes both values of each neuron drawn: median(a + 5) − median(a) = 5 in all of them
    a = np.random.default_rng(0).normal(70, 10, 40)
    assert bootstrap_paired_difference_ci(a + 5.0, a, n_boot=500) == pytest.approx((5.0, 5.0))


def test_paired_interval_draws_the_resamples_of_the_median_interval():
    # against zeros the paired difference is the median of the resample: the exact distribution of [1, 2, 3]
    assert bootstrap_paired_difference_ci([1.0, 2.0, 3.0], [0.0] * 3, n_boot=4000, seed=1) == (1.0, 3.0)
    assert bootstrap_paired_difference_ci([1.0, 2.0, 3.0], [0.0] * 3, n_boot=4000, seed=1, level=0.4) == (2.0, 2.0)
    values, strata = [1.0] * 3 + [10.0] * 4, ["a"] * 3 + ["b"] * 4
    assert bootstrap_paired_difference_ci(values, [0.0] * 7, strata, n_boot=300) == (10.0, 10.0)


def test_pairing_narrows_the_interval_of_correlated_scores():
    # two models on the same 60 neurons: the neurons differ by far more than the models do
    rng = np.random.default_rng(1)
    base = rng.normal(70, 10, 60)
    new = base + 1.0 + rng.normal(0, 0.5, 60)
    lo, hi = bootstrap_paired_difference_ci(new, base, n_boot=2000)
    ilo, ihi = bootstrap_difference_ci(new, ["x"] * 60, base, ["x"] * 60, n_boot=2000)
    assert lo < 1.0 < hi and hi - lo < (ihi - ilo) / 3


def test_paired_interval_refuses_unpaired_or_nan_values():
    with pytest.raises(ValueError, match="equally long"):
        bootstrap_paired_difference_ci([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        bootstrap_paired_difference_ci([1.0, float("nan")], [1.0, 2.0])


def test_nan_is_refused():
    with pytest.raises(ValueError, match="finite"):
        bootstrap_median_ci([1.0, float("nan")])


def test_report_from_hand_made_csvs(tmp_path):
    # two folds of the unet and the published table: medians and the difference by hand
    write_csv(tmp_path / "unet_lodo_DS02.csv", [{"dataset": "DS02-x", "neuron": f"n{i}", "corr": c, "er50": 40.0}
                                                for i, c in enumerate([60.0, 70.0, 80.0])])
    write_csv(tmp_path / "unet_lodo_DS03.csv", [{"dataset": "DS03-x", "neuron": "m", "corr": 50.0, "er50": 30.0}])
    published = tmp_path / "published.csv"
    published.write_text("dset,neuron,corr,er50\n2.0,1.0,65.0,45\n2.0,2.0,75.0,45\n2.0,3.0,85.0,45\n"
                         "3.0,1.0,55.0,35\n4.0,1.0,99.0,10\n")
    path = write_report(tmp_path, published_path=published)
    text = path.read_text()
    assert "| DS02 | 3 | 75.0 | 70.0 |" in text and "| DS03 | 1 | 55.0 | 50.0 |" in text
    # pooled over DS02+DS03 (DS04 is not one of unet's folds): ours median 65, published 70, −5
    row = next(line for line in text.splitlines() if line.startswith("| unet | 2 | 4 |"))
    assert "65.00" in row and "70.00" in row and "-5.00" in row
    assert (tmp_path / "lodo_boxplots.png").stat().st_size > 0
    # spike counts: count from 1 + bias; spike_count only where a table has it ("—" when none does)
    assert "| unet | 2 | 4 | — | — |" in text
    write_csv(tmp_path / "unet_lodo_DS03.csv", [{"dataset": "DS03-x", "neuron": "m", "corr": 50.0, "er50": 30.0,
                                                 "bias": -0.5, "count": 0.5, "spike_count": 0.25}])
    text = write_report(tmp_path, published_path=published).read_text()
    assert "| unet | 2 | 4 | 0.50 [0.50, 0.50] | 0.25 [0.25, 0.25] |" in text


def test_targets_are_judged_only_on_all_19_folds(tmp_path):
    from ens2zoo.benchmark.report import EXCITATORY_FOLDS, PUBLISHED_OVERALL

    published = tmp_path / "published.csv"
    published.write_text("dset,neuron,corr,er50\n2.0,1.0,65.0,45\n")
    for fold in EXCITATORY_FOLDS:  # unet +0.5 and ens2-exc +0.65 points above the published overall median
        for model, corr in (("unet", 69.85), ("ens2-exc", 70.0)):
            write_csv(tmp_path / f"{model}_lodo_{fold}.csv", [{"dataset": f"{fold}-x", "neuron": "n", "corr": corr,
                                                                  "er50": 40.0}])
    text = write_report(tmp_path, published_path=published).read_text()
    assert PUBLISHED_OVERALL["corr"] == 69.35
    assert "| `unet` within 1 point of 69.35 | 19 | 69.85 (+0.50) | yes |" in text
    assert "| `ens2-exc` ≥ 70.35 (published + 1) | 19 | 70.00 (+0.65) | **no** |" in text
    (tmp_path / "ens2-exc_lodo_DS21.csv").unlink()
    text = write_report(tmp_path, published_path=published).read_text()
    assert "| `ens2-exc` ≥ 70.35 (published + 1) | 18 | — | not judged: folds missing |" in text


def test_peers_are_pooled_only_over_all_their_folds(tmp_path):
    published = tmp_path / "published.csv"
    published.write_text("dset,neuron,corr,er50\n3.0,1.0,65.0,45\n")
    rows = {"DS03": [50.0, 70.0, 80.0], "DS04": [60.0]}
    for model in ("unet", "mlp"):
        for fold, corrs in rows.items():
            write_csv(tmp_path / f"{model}_lodo_{fold}.csv", [{"dataset": f"{fold}-x", "neuron": f"n{i}", "corr": c,
                                                               "er50": 40.0} for i, c in enumerate(corrs)])
    write_csv(tmp_path / "cascade_lodo_DS04.csv", [{"dataset": "DS04-x", "neuron": "n", "corr": 90.0, "er50": 40.0}])
    text = write_report(tmp_path, published_path=published).read_text()
    assert "| held out | unet | cascade | mlp |" in text
    assert "| DS04 | 60.0 | 90.0 | 60.0 |" in text and "| DS03 | 70.0 | — | 70.0 |" in text
    assert "| pooled (2 folds) | 65.0 | — (1 of 2 folds) | 65.0 |" in text  # median of 50, 70, 80, 60


def test_resampled_medians_equal_the_obvious_per_resample_loop():
    """The vectorised bootstrap consumes the generator as a loop of per-stratum draws does: same medians."""
    from ens2zoo.benchmark.bootstrap import _boot_medians

    rng = np.random.default_rng(5)
    values = rng.normal(size=40)
    strata = list(rng.choice(["DS02", "DS09", "DS21", "DS04"], size=40))  # interleaved, uneven strata
    labels = np.asarray(strata)
    groups = [np.flatnonzero(labels == s) for s in dict.fromkeys(strata)]
    slow_rng, want = np.random.default_rng(0), []
    for _ in range(500):
        pick = np.concatenate([g[slow_rng.integers(0, g.size, g.size)] for g in groups])
        want.append(np.median(values[pick]))
    assert np.array_equal(_boot_medians(values, strata, 500, np.random.default_rng(0)), np.array(want))


def test_condition_table_adds_counts_of_the_models_that_have_them_in_every_row(tmp_path):
    from ens2zoo.benchmark.conditions import write_condition_csv

    def rows(fold, corrs, counts=None):
        return [{"dataset": f"{fold}-x", "neuron": f"n{i}", "condition_frame_rate": 30.0, "condition_noise": 4.0,
                 "corr": c, "er50": 40.0, **({"count": counts[i], "spike_count": counts[i] / 2} if counts else {})}
                for i, c in enumerate(corrs)]
    for fold in ("DS22", "DS23"):
        write_condition_csv(tmp_path / f"ens2-v1_lodo_{fold}_conditions.csv", rows(fold, [50.0, 60.0]))
    write_condition_csv(tmp_path / "ens2-inh_lodo_DS22_conditions.csv", rows("DS22", [70.0, 80.0], [1.0, 2.0]))
    write_condition_csv(tmp_path / "ens2-inh_lodo_DS23_conditions.csv", rows("DS23", [90.0], [4.0]))
    write_csv(tmp_path / "unet_lodo_DS02.csv", [{"dataset": "DS02-x", "neuron": "n", "corr": 60.0, "er50": 40.0}])
    published = tmp_path / "published.csv"
    published.write_text("dset,neuron,corr,er50\n2.0,1.0,65.0,45\n")
    text = write_report(tmp_path, published_path=published).read_text()
    table = text[text.index("## Recording conditions, inhibitory folds"):]
    assert "| condition | ens2-v1 | ens2-inh | count ens2-inh | spike_count ens2-inh |" in table
    # pooled over DS22 and DS23: corr medians 55.0 and 80.0; counts 1, 2, 4 → 2.00, spike_counts → 1.00
    assert "| 30:4 | 55.0 | 80.0 | 2.00 | 1.00 |" in table
    # the inhibitory native tables get their spike-count table too
    write_csv(tmp_path / "ens2-inh_lodo_DS22.csv", [{"dataset": "DS22-x", "neuron": f"n{i}", "corr": 50.0,
                                                     "er50": 40.0, "count": k, "spike_count": k / 4}
                                                    for i, k in enumerate([1.0, 2.0, 3.0])])
    text = write_report(tmp_path, published_path=published).read_text()
    counts = text[text.index("Spike counts on the inhibitory folds"):]
    assert "| ens2-inh | 1 | 3 | 2.00 [1.50, 2.50] | 0.50 [0.38, 0.62] |" in counts
    # a row without a count leaves the model's count columns out
    write_condition_csv(tmp_path / "ens2-inh_lodo_DS23_conditions.csv", rows("DS23", [90.0]))
    table = write_report(tmp_path, published_path=published).read_text()
    assert "| condition | ens2-v1 | ens2-inh |\n" in table and "| 30:4 | 55.0 | 80.0 |\n" in table
