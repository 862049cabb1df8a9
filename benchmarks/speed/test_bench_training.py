"""U-Net training speed on the CPU: forward, backward and the whole step, published-style vs ens2zoo.

    ENS2ZOO_SHARED=../shared .venv/bin/python -m pytest benchmarks/test_bench_training.py --benchmark-enable

Batch of 1,024 windows of 96 samples (the published protocol), torch's default thread
count (2 on the project machine).  "published-style" is the step the published code
runs: one forward and one backward on the whole batch with torch's intra-op threads.
"ens2zoo" is :class:`ens2zoo.training.step.ShardedStep`: the batch split into one shard
per thread, each shard's forward and backward on its own thread (one intra-op thread),
gradients summed in a fixed order.  The Adam update is the same in both and timed in
the whole step.  "ens2zoo compiled" (whole step only) is the same sharded step with each
shard's replica compiled by Inductor (``TrainingConfig.compile``, ``--compile``), compiled
before the timing.
"""

from __future__ import annotations

import pytest
import torch

from ens2zoo.architectures.unet import UNet
from ens2zoo.training.losses import get_loss
from ens2zoo.training.step import ShardedStep, plain_step

BATCH = 1024
MSE = get_loss("mse")


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 96, generator=g) * 0.1
    return x, torch.rand(BATCH, 96, generator=g) * 0.05, torch.zeros(BATCH, 96)


def _net():
    torch.manual_seed(0)
    return UNet().train()


def _forward(net, x):
    return net(x)


@pytest.mark.benchmark(group="U-Net training: forward (1,024 windows)")
def test_forward_published_style(benchmark, batch):
    net = _net()
    benchmark.pedantic(_forward, args=(net, batch[0]), rounds=10, warmup_rounds=2)


@pytest.mark.benchmark(group="U-Net training: forward (1,024 windows)")
def test_forward_ens2zoo(benchmark, batch):
    net = _net()
    with ShardedStep(net, torch.get_num_threads()) as step:
        step._sync()
        parts = batch[0].chunk(step.shards)
        benchmark.pedantic(lambda: list(step.pool.map(lambda i: step.replicas[i](parts[i]), range(len(parts)))),
                           rounds=10, warmup_rounds=2)


@pytest.mark.benchmark(group="U-Net training: backward (1,024 windows)")
def test_backward_published_style(benchmark, batch):
    net = _net()
    x, r, _ = batch

    def setup():
        return (MSE(net(x), r, None),), {}

    benchmark.pedantic(lambda value: value.backward(), setup=setup, rounds=10, warmup_rounds=2)


@pytest.mark.benchmark(group="U-Net training: backward (1,024 windows)")
def test_backward_ens2zoo(benchmark, batch):
    net = _net()
    x, r, _ = batch
    with ShardedStep(net, torch.get_num_threads()) as step:
        parts, targets = x.chunk(step.shards), r.chunk(step.shards)

        def setup():
            outs = list(step.pool.map(lambda i: step.replicas[i](parts[i]), range(len(parts))))
            return (outs,), {}

        def backward(outs):
            grads = [2 * (o - t) / r.numel() for o, t in zip(outs, targets)]
            list(step.pool.map(lambda i: outs[i].backward(grads[i].detach()), range(len(outs))))

        benchmark.pedantic(backward, setup=setup, rounds=10, warmup_rounds=2)


def _steps(step, net, optimizer, batch, n=5):
    for _ in range(n):
        optimizer.zero_grad(set_to_none=True)
        step(net, *batch, MSE)
        optimizer.step()


@pytest.mark.benchmark(group="U-Net training: 5 whole steps (forward, backward, Adam)")
def test_step_published_style(benchmark, batch):
    net = _net()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    benchmark.pedantic(_steps, args=(plain_step, net, opt, batch), rounds=4, warmup_rounds=1)


@pytest.mark.benchmark(group="U-Net training: 5 whole steps (forward, backward, Adam)")
def test_step_ens2zoo(benchmark, batch):
    net = _net()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    with ShardedStep(net, torch.get_num_threads()) as step:
        benchmark.pedantic(_steps, args=(step, net, opt, batch), rounds=4, warmup_rounds=1)


@pytest.mark.benchmark(group="U-Net training: 5 whole steps (forward, backward, Adam)")
def test_step_ens2zoo_compiled(benchmark, batch):
    net, eager = _net(), _net()
    with ShardedStep(eager, torch.get_num_threads()) as reference:
        reference(eager, *batch, MSE)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    with ShardedStep(net, torch.get_num_threads(), compile=True) as step:
        step(net, *batch, MSE)  # compiles (forward and backward), outside the timing
        for p, q in zip(net.parameters(), eager.parameters()):  # same gradients up to float32 rounding
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-3, atol=1e-3 * q.grad.abs().max().item())
        benchmark.pedantic(_steps, args=(step, net, opt, batch), rounds=4, warmup_rounds=1)
