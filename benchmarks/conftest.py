import sys
from pathlib import Path

# the slow published-style references live in the test tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import ground_truth_dir, reference_dir  # noqa: F401
