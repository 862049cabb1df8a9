import sys
from pathlib import Path

# the slow published-style references and the ../shared fixtures live in the test tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from shared_data import ground_truth_dir, reference_dir  # noqa: F401
