"""Fixtures for the whole suite (see shared_data.py for where ../shared is found)."""

import pytest
import torch

from shared_data import ground_truth_dir, reference_dir, small_root, suite2p_fixture_dir  # noqa: F401


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module's tests (on a shared CPU, multi-threaded small convolutions
    crawl; training determinism is per thread count); the count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
