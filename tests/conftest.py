"""Fixtures for the whole suite (see shared_data.py for where ../shared is found)."""

import os

import pytest
import torch

from shared_data import ground_truth_dir, reference_dir, small_root, suite2p_fixture_dir  # noqa: F401

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one pytest-xdist worker per core: each worker gets one torch thread and one
    # Inductor compile thread, so the two do not fight over the cores (clean clone, 2 cores: 205 s
    # against 247 s for the serial suite in the same state; with the default threads the workers'
    # compiled-network tests took 3-5x longer)
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module's tests (on a shared CPU, multi-threaded small convolutions
    crawl; training determinism is per thread count); the count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
