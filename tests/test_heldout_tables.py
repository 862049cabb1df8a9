"""The report's GCaMP8 tables: medians per condition and variant on the same held-out neurons, counts with IQR."""

from __future__ import annotations

import numpy as np

from ens2zoo.benchmark.bootstrap import bootstrap_paired_difference_ci
from ens2zoo.benchmark.conditions import write_condition_csv
from ens2zoo.benchmark.heldout_tables import cascade_published_lines, collect_mouse_folds, gcamp8_lines

DATASETS = ("DS30-GCaMP8f-m-V1", "DS32-GCaMP8s-m-V1")


def _rows(corrs, counts, rate, nu):
    return [{"dataset": DATASETS[i % 2], "neuron": f"n{i}", "condition_frame_rate": rate, "condition_noise": nu,
             "corr": c, "bias": k - 1, "count": k, "spike_count": 0.8 * k, "er50": 100.0 - c}
            for i, (c, k) in enumerate(zip(corrs, counts))]


def test_tables_pool_report_folds_and_split_variants(tmp_path):
    corr_exc = np.array([60.0, 70.0, 80.0, 50.0])
    corr_g8 = corr_exc + np.array([10.0, 12.0, 8.0, 20.0])
    for fold in ("M2", "M3"):
        write_condition_csv(tmp_path / f"ens2-exc_{fold}_conditions.csv",
                            _rows(corr_exc, [2.0, 2.5, 3.0, 1.5], 30.0, 4.0))
        write_condition_csv(tmp_path / f"ens2-gcamp8_{fold}_conditions.csv",
                            _rows(corr_g8, [1.0, 0.9, 1.1, 1.2], 30.0, 4.0))
    # a fold only one model has is left out of the pooled table
    write_condition_csv(tmp_path / "ens2-exc_M4_conditions.csv", _rows([0.0], [9.0], 30.0, 4.0))
    assert set(collect_mouse_folds(tmp_path)) == {"ens2-exc", "ens2-gcamp8"}
    lines = gcamp8_lines(tmp_path, folds=("M2", "M3", "M4"))
    text = "\n".join(lines)
    assert "M2 (4 neurons), M3 (4 neurons)" in text and "missing: M4" in text
    pooled = next(line for line in lines if line.startswith("| 30:4 |"))
    cells = [c.strip() for c in pooled.strip("|").split("|")]
    # pooled over both folds: 8 neurons; medians 65.0 and 76.0 (the same neurons); counts' median and IQR
    assert cells[:5] == ["30:4", "8", "65.0", "76.0", "+11.0"]
    q = np.percentile(np.tile([1.0, 0.9, 1.1, 1.2], 2), [25, 50, 75])
    assert cells[6] == f"{q[1]:.2f} [{q[0]:.2f}, {q[2]:.2f}]"
    # last: the paired-bootstrap interval of the difference, the 8 neurons (fold, dataset, neuron) paired
    strata = [DATASETS[i % 2] for i in range(8)]
    lo, hi = bootstrap_paired_difference_ci(np.tile(corr_g8, 2), np.tile(corr_exc, 2), strata)
    assert cells[-1] == f"[{lo:+.1f}, {hi:+.1f}]" and lo < 11.0 < hi
    # per variant: GCaMP8f holds neurons 0 and 2 of each fold
    f_table = lines[lines.index("### GCaMP8f"):]
    f_row = next(line for line in f_table if line.startswith("| 30:4 |"))
    assert [c.strip() for c in f_row.strip("|").split("|")][:5] == ["30:4", "4", "70.0", "79.0", "+9.0"]
    # the discrete spikes of the first two models: spike_count median [IQR] and er50 median, pooled
    start = next(i for i, line in enumerate(lines) if line.startswith("| condition | neurons | spike_count"))
    spike_table = lines[start:]
    assert spike_table[0].split("|")[3].strip() == "spike_count ens2-exc [IQR]"
    s_row = [c.strip() for c in next(line for line in spike_table if line.startswith("| 30:4 |")).strip("|").split("|")]
    q = np.percentile(np.tile([0.8, 0.72, 0.88, 0.96], 2), [25, 50, 75])
    assert s_row[1] == "8" and s_row[3] == f"{q[1]:.2f} [{q[0]:.2f}, {q[2]:.2f}]"
    assert s_row[4:] == ["35.0", "24.0"]  # 100 − the median correlations


def test_exact_rows_join_the_report_only_when_every_fold_has_them(tmp_path):
    for fold in ("M2", "M3"):
        for model, corr in (("ens2-exc", [60.0, 70.0]), ("ens2-gcamp8", [75.0, 80.0])):
            write_condition_csv(tmp_path / f"{model}_{fold}_conditions.csv", _rows(corr, [1.0, 1.0], 30.0, 4.0))
    exact = tmp_path / "exact"
    exact.mkdir()
    for model, corr in (("ens2-exc", [61.0, 71.0]), ("ens2-gcamp8", [77.0, 83.0])):
        write_condition_csv(exact / f"{model}_M2_conditions.csv", _rows(corr, [1.0, 1.0], 30.0, 4.0))
    assert not any(line.startswith("Exact rows") for line in gcamp8_lines(tmp_path, folds=("M2", "M3")))
    for model, corr in (("ens2-exc", [62.0, 72.0]), ("ens2-gcamp8", [70.0, 90.0])):
        write_condition_csv(exact / f"{model}_M3_conditions.csv", _rows(corr, [1.0, 1.0], 30.0, 4.0))
    lines = gcamp8_lines(tmp_path, folds=("M2", "M3"))
    start = next(i for i, line in enumerate(lines) if line.startswith("Exact rows"))
    row = next(line for line in lines[start:] if line.startswith("| 30:4 |"))
    # the exact tables' medians over the 4 neurons: ens2-exc 66.5, ens2-gcamp8 80.0
    assert [c.strip() for c in row.strip("|").split("|")][:5] == ["30:4", "4", "66.5", "80.0", "+13.5"]


def test_no_tables_without_common_folds(tmp_path):
    write_condition_csv(tmp_path / "ens2-exc_M2_conditions.csv", _rows([1.0], [1.0], 30.0, 0.0))
    write_condition_csv(tmp_path / "ens2-gcamp8_M3_conditions.csv", _rows([1.0], [1.0], 30.0, 0.0))
    assert gcamp8_lines(tmp_path) == []


def test_cascade_published_lines_compare_per_dataset_and_condition(tmp_path):
    rows = {"cascade-published": ([40.0, 50.0, 60.0], [2.0, 2.4, 3.0]),
            "ens2-exc": ([55.0, 65.0, 75.0], [1.0, 1.2, 1.5])}
    for model, (corrs, counts) in rows.items():
        write_condition_csv(tmp_path / f"{model}_DS02_conditions.csv", _rows(corrs, counts, 30.0, 0.0)
                            + _rows(corrs, counts, 30.0, 4.0))
    lines = cascade_published_lines(tmp_path)
    row = next(line for line in lines if line.startswith("| DS02 30:0 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:5] == ["DS02 30:0", "3", "50.0", "65.0", "+15.0"]
    assert cells[5] == "2.40 [2.20, 2.70]" and cells[6] == "1.20 [1.10, 1.35]"
    assert any(line.startswith("| DS02 30:4 |") for line in lines)
    assert not any("30:8" in line for line in lines if line.startswith("| DS02"))  # no rows: no line
    assert cascade_published_lines(tmp_path / "nothing") == []


def test_high_noise_lines_pool_the_folds_each_family_has(tmp_path):
    from ens2zoo.benchmark.heldout_tables import high_noise_lines

    for fold, base in (("DS04", 10.0), ("DS09", 30.0)):
        for model, gain in (("ens2-exc-nm", 0.0), ("ens2-exc", 4.0)):
            write_condition_csv(tmp_path / f"{model}_lodo_{fold}_conditions.csv",
                                _rows([base + gain, base + 2 + gain], [1.0, 2.0], 30.0, 12.0)
                                + _rows([base / 2 + gain, base / 2 + gain], [1.0, 1.0], 30.0, 20.0))
    write_condition_csv(tmp_path / "ens2-exc_lodo_DS06_conditions.csv", _rows([99.0], [1.0], 30.0, 12.0))
    lines = high_noise_lines(tmp_path)
    assert "### ens2-exc: folds DS04, DS09" in lines  # DS06 has no noise-matched table: left out
    row = next(line for line in lines if line.startswith("| 30:12 |"))
    assert [c.strip() for c in row.strip("|").split("|")][:5] == ["30:12", "4", "21.0", "25.0", "+4.0"]
    fold = next(line for line in lines if line.startswith("| DS09 |"))
    assert [c.strip() for c in fold.strip("|").split("|")] == ["DS09", "31.0", "35.0", "15.0", "19.0"]
    assert high_noise_lines(tmp_path / "none") == []


def test_variant_fold_lines_compare_on_the_report_folds_neurons_of_the_variant(tmp_path):
    from ens2zoo.benchmark.heldout_tables import gcamp8_variant_lines

    # report folds M2, M3: neurons n0..n3 each, DS30 holds n0 and n2 of each fold
    for fold, shift in (("M2", 0.0), ("M3", 4.0)):
        write_condition_csv(tmp_path / f"ens2-exc_{fold}_conditions.csv",
                            _rows([50.0 + shift, 0.0, 60.0 + shift, 0.0], [2.0, 9.0, 3.0, 9.0], 30.0, 4.0))
        write_condition_csv(tmp_path / f"ens2-gcamp8-uncalibrated_{fold}_conditions.csv",
                            _rows([80.0 + shift, 0.0, 90.0 + shift, 0.0], [1.0, 9.0, 1.2, 9.0], 30.0, 4.0))
    # the variant fold scored every DS30 neuron; the fold's neurons are named as in the mouse folds
    variant = _rows([70.0, 0.0, 72.0, 0.0, 99.0], [0.5, 0.0, 0.7, 0.0, 0.6], 30.0, 4.0)
    variant[4]["neuron"] = "selection-fold neuron"  # a DS30 neuron of M1: not a report-fold neuron, left out
    write_condition_csv(tmp_path / "ens2-gcamp8-uncalibrated_DS30_conditions.csv", variant)
    lines = gcamp8_variant_lines(tmp_path, folds=("M2", "M3"))
    assert "### DS30 held out" in lines
    row = next(line for line in lines if line.startswith("| 30:4 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # 2 DS30 neurons (n0, n2) × 2 folds share names: 4 mouse-fold rows of 80/90/84/94 → 87.0; the variant
    # fold's rows for n0 and n2 → 71.0; ens2-exc 50/60/54/64 → 57.0
    assert cells[:6] == ["30:4", "4", "87.0", "71.0", "57.0", "-16.0"]
    assert gcamp8_variant_lines(tmp_path / "none") == []

    # a family trained another way (its own mouse-fold tables) is set beside its own mouse folds, not another's
    for fold, shift in (("M2", 0.0), ("M3", 4.0)):
        write_condition_csv(tmp_path / f"ens2-gcamp8-one-network_{fold}_conditions.csv",
                            _rows([60.0 + shift, 0.0, 70.0 + shift, 0.0], [1.0, 9.0, 1.2, 9.0], 30.0, 4.0))
    write_condition_csv(tmp_path / "ens2-gcamp8-one-network_DS30_conditions.csv", variant)
    lines = gcamp8_variant_lines(tmp_path, folds=("M2", "M3"))
    titles = [line for line in lines if line.startswith("## ")]
    assert [t.split("(")[-1] for t in titles] == ["`ens2-gcamp8-one-network`)", "`ens2-gcamp8-uncalibrated`)"]
    first = lines[:lines.index(titles[1])]
    row = next(line for line in first if line.startswith("| 30:4 |"))
    assert [c.strip() for c in row.strip("|").split("|")][:6] == ["30:4", "4", "67.0", "71.0", "57.0", "+4.0"]
