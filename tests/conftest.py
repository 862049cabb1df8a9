"""Fixtures for the whole suite (see shared_data.py for where ../shared is found)."""

from shared_data import ground_truth_dir, reference_dir, small_root  # noqa: F401
