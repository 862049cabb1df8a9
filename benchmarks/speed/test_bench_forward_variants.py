"""Ways of running the U-Net forward on the CPU, and the machine's matrix-multiply ceiling.

    ENS2ZOO_SHARED=../shared .venv/bin/python -m pytest benchmarks/test_bench_forward_variants.py --benchmark-enable

These back the "what was tried" part of RESULTS.md section 1: 12,288 windows of
real-looking ΔF/F, batch 1,024, published excitatory weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ens2zoo.architectures.unet import UNet
from ens2zoo.benchmark.reference import load_published, resample_to_60hz
from ens2zoo.simulate import simulate_recording

N_WINDOWS = 12_288
BATCH = 1024
GROUP = "U-Net forward variants: 12,288 windows, batch 1,024"


@pytest.fixture(scope="module")
def windows():
    x60 = resample_to_60hz(simulate_recording(1, 210.0, 30.0, seed=2).dff[0], 30.0)
    w = np.lib.stride_tricks.sliding_window_view(np.pad(x60, 48), 96)[:N_WINDOWS]
    return torch.from_numpy(w.astype(np.float32))


@pytest.fixture(scope="module")
def nets(reference_dir):
    path = reference_dir / "ens2_exc_state_dict.pt"
    one_d = UNet()
    one_d.load_state_dict(torch.load(path, weights_only=True))
    return one_d.eval(), load_published(path)


def _batches(net, x):
    with torch.inference_mode():
        return [net(x[s:s + BATCH]) for s in range(0, len(x), BATCH)]


@pytest.mark.benchmark(group=GROUP)
def test_published_2d(benchmark, nets, windows):
    benchmark.pedantic(_batches, args=(nets[1], windows), rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group=GROUP)
def test_published_2d_channels_last(benchmark, nets, windows):
    net = nets[1].to(memory_format=torch.channels_last)
    benchmark.pedantic(_batches, args=(net, windows), rounds=3, warmup_rounds=1)
    nets[1].to(memory_format=torch.contiguous_format)


@pytest.mark.benchmark(group=GROUP)
def test_1d_intra_op_threads(benchmark, nets, windows):
    benchmark.pedantic(_batches, args=(nets[0], windows), rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group=GROUP)
def test_1d_batches_on_a_thread_pool(benchmark, nets, windows):
    from ens2zoo.inference.windows import cpu_batch_pool

    def run():
        with cpu_batch_pool(torch.device("cpu")) as pool, torch.inference_mode():
            def one(s):
                with torch.inference_mode():
                    return nets[0](windows[s:s + BATCH])
            return list((pool.map if pool else map)(one, range(0, len(windows), BATCH)))

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group=GROUP)
def test_1d_torch_compile(benchmark, nets, windows):
    compiled = torch.compile(nets[0], dynamic=False)
    out = _batches(compiled, windows)  # compiles (not timed)
    ref = _batches(nets[0], windows)
    assert max(float((a - b).abs().max()) for a, b in zip(out, ref)) < 1e-5
    benchmark.pedantic(_batches, args=(compiled, windows), rounds=3, warmup_rounds=0)


@pytest.mark.benchmark(group="sgemm ceiling: (49,152 × 216) @ (216 × 72), 1.53 GFLOP")
def test_matmul_ceiling(benchmark):
    a = torch.randn(4096 * 12, 216)
    w = torch.randn(216, 72)
    benchmark.pedantic(lambda: a @ w, rounds=20, warmup_rounds=2)
