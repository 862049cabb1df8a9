"""Check that every committed fold CSV comes back from its committed weights, exactly.

    .venv/bin/python benchmarks/lodo/check_folds.py --data ../shared/ground_truth [--recipes cascade,ens2-nm]
        [--folds DS06,DS09] [--fix] [--upgrade] [--condition-tables] [--tolerance 1e-9]

For each native table ``benchmarks/lodo/<recipe>_lodo_<DSxx>.csv`` it runs what the issue promises anyone
can run,

    ens2zoo evaluate --weights WEIGHTS --data DATA --datasets 'DSxx*' -o FRESH.csv

(exact, stride 1; the architecture read from the weights), where WEIGHTS is
``benchmarks/lodo/weights/<recipe>_lodo_<DSxx>.safetensors``, the family folder
``…/<recipe>_lodo_<DSxx>/``, or the family member trained with ``<recipe>``
(``…/ens2-exc_lodo_<DSxx>/ens2-exc-v1.safetensors`` for ``ens2-v1``); OASIS, which trains on nothing, is
``--model oasis`` (``benchmarks/lodo/oasis_folds.py`` wrote its tables),
and compares the per-neuron correlations.  Prints the largest difference per table; exits 1 if
any table differs by more than ``--tolerance`` (1e-9) points, or, with ``--fix``, replaces such tables with the
fresh exact rows (atomically) and lists them.  Exact means on a CPU like the one that scored the
tables: another CPU's float32 kernels round differently (~1e-7 correlation points on the U-Nets;
benchmarks/RESULTS.md, section 14), which is not a reason to ``--fix``.  ``--upgrade`` replaces a table
written before today's columns (``count``, ``spike_count``), or with some of their cells empty, with the fresh
rows when every value it has agrees to the tolerance, so the table gains the new columns and nothing it held changes.
``--condition-tables`` does the same for ``<recipe>_lodo_<DSxx>_conditions.csv`` (each row's re-imaged recording
has its own seed): their conditions at window stride 4, as ``ens2zoo benchmark --conditions-stride 4`` scored
them, compared per neuron and condition.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import sys
import tempfile
from pathlib import Path

from ens2zoo.benchmark.conditions import row_condition
from ens2zoo.benchmark.evaluation import COLUMNS, read_csv
from ens2zoo.cli.main import main as cli
from ens2zoo.data.groups import lodo_name
from ens2zoo.training.recipes import FAMILY_RECIPES
from ens2zoo.utils.atomic import atomic_path

LODO = Path("benchmarks/lodo")
TABLE = re.compile(r"(.+)_lodo_(DS\d+)\.csv")
CONDITION_TABLE = re.compile(r"(.+)_lodo_(DS\d+)_conditions\.csv")
#: the window stride of the condition tables (benchmark --conditions-stride 4)
CONDITION_STRIDE = 4


def fold_weights(recipe: str, fold: str) -> Path | None:
    """The committed weights of ``recipe``'s fold ``fold`` (a file, a family folder or a member)."""
    weights = LODO / "weights"
    members = [weights / lodo_name(family, fold) / f"{m.name}.safetensors"
               for family in ("ens2-exc", "ens2-inh") for m in FAMILY_RECIPES[family].members if m.recipe == recipe]
    for candidate in (weights / f"{lodo_name(recipe, fold)}.safetensors", weights / lodo_name(recipe, fold),
                      *members):
        if candidate.exists():
            return candidate
    return None


def _corr(rows: list[dict]) -> dict[tuple[str, str], float]:
    """(neuron, condition) → correlation (%) of a table's rows."""
    return {(row["neuron"], row_condition(row).label): row["corr"] for row in rows}


def _conditions(rows: list[dict]) -> str:
    """The conditions of a condition table's rows, in their order (``30:2,30:4,...``)."""
    return ",".join(dict.fromkeys(row_condition(row).label for row in rows))


def _model_args(recipe: str, fold: str) -> list[str] | None:
    """The ``ens2zoo evaluate`` options that give ``recipe``'s model of ``fold`` (OASIS trains on nothing:
    ``--model oasis``); None without committed weights."""
    if recipe == "oasis":
        return ["--model", "oasis"]
    weights = fold_weights(recipe, fold)
    return ["--weights", str(weights)] if weights is not None else None


def _upgradable(old_rows: list[dict], new_rows: list[dict], tolerance: float) -> bool:
    """Whether the rows of a table lack some of today's columns or values (written before them, or re-scored in
    part: empty cells) and every value they have equals the fresh rows' to ``tolerance``, on the same rows."""
    if not old_rows or len(old_rows) != len(new_rows):
        return False
    if all(row.get(c) is not None for row in old_rows for c in COLUMNS):
        return False
    for a, b in zip(old_rows, new_rows):
        if row_condition(a) != row_condition(b):
            return False
        for c in (c for c in COLUMNS if a.get(c) is not None):
            if c in ("dataset", "neuron"):
                if a[c] != b[c]:
                    return False
            elif b.get(c) is None or not (abs(a[c] - b[c]) <= tolerance or (math.isnan(a[c]) and math.isnan(b[c]))):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--recipes", help="comma-separated recipes to check (default: every table's)")
    parser.add_argument("--folds", help="comma-separated held-out datasets to check (default: every table's)")
    parser.add_argument("--fix", action="store_true", help="replace differing tables with the exact rows")
    parser.add_argument("--upgrade", action="store_true",
                        help="give tables written before the count and spike_count columns (or with empty cells in "
                             "them) the fresh rows, where every value they have agrees to --tolerance")
    parser.add_argument("--condition-tables", action="store_true",
                        help="check the _conditions.csv tables (stride 4) instead of the native ones")
    parser.add_argument("--tolerance", type=float, default=1e-9,
                        help="largest difference (correlation points; with --upgrade, any value) that counts as the "
                             "same (default 1e-9; another CPU's float32 rounding reaches ~1e-6, RESULTS section 14)")
    args = parser.parse_args()
    pattern = CONDITION_TABLE if args.condition_tables else TABLE
    wanted = set(args.recipes.split(",")) if args.recipes else None
    folds = set(args.folds.split(",")) if args.folds else None
    differing, upgraded = [], []
    for table in sorted(LODO.glob("*_lodo_DS*.csv")):
        match = pattern.fullmatch(table.name)
        if not match or (wanted and match[1] not in wanted) or (folds and match[2] not in folds):
            continue
        recipe, fold = match[1], match[2]
        model = _model_args(recipe, fold)
        if model is None:
            print(f"{table.name}: no committed weights", flush=True)
            differing.append(table)
            continue
        old_rows = read_csv(table)
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / table.name
            conditions = (["--conditions", _conditions(old_rows), "--stride", str(CONDITION_STRIDE)]
                          if args.condition_tables else [])
            status = cli(["evaluate", *model, "--data", args.data, "--datasets", f"{fold}*",
                          "-o", str(fresh), "--threads", "1", "--no-progress", *conditions])
            if status != 0:
                raise SystemExit(f"{table.name}: ens2zoo evaluate failed ({status})")
            new_rows = read_csv(fresh)
            old, new = _corr(old_rows), _corr(new_rows)
            worst = max(abs(old[n] - new[n]) for n in new) if old.keys() == new.keys() else float("inf")
            print(f"{table.name}: {len(new)} rows, largest |Δ corr| {worst:.2e} points ({model[-1]})", flush=True)
            if worst > args.tolerance:
                differing.append(table)
                if args.fix:
                    with atomic_path(table) as tmp_table:
                        shutil.copyfile(fresh, tmp_table)
            elif args.upgrade and _upgradable(old_rows, new_rows, args.tolerance):
                upgraded.append(table)
                with atomic_path(table) as tmp_table:
                    shutil.copyfile(fresh, tmp_table)
    if upgraded:
        print("given the count and spike_count columns: " + ", ".join(t.name for t in upgraded))
    if differing:
        print(("replaced with the exact rows: " if args.fix else "differ: ") + ", ".join(t.name for t in differing))
    sys.exit(1 if differing and not args.fix else 0)


if __name__ == "__main__":
    main()
