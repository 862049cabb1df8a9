"""One training step — forward, loss, backward — on one thread or sharded over CPU threads.

On a 2-core CPU the U-Net's small convolutions parallelise poorly inside one
operation (the same finding as for inference, :mod:`ens2zoo.inference.windows`).
:class:`ShardedStep` splits each batch into as many shards as torch has CPU threads
and runs each shard's forward and backward on its own thread with one intra-op thread,
on a replica of the network holding the same weights.  The loss is computed on the
whole batch (so every loss works, separable or not: its gradient with respect to the
outputs is split back onto the shards), and the replicas' gradients are summed in a
fixed order, so a run is deterministic for a given thread count (its weights differ in
the last bits from a run with another thread count).

Networks with stochastic layers (dropout) use the plain step: torch's global random
generator cannot be shared by threads deterministically.

With ``compile=True`` (:func:`make_step`) the networks run compiled by ``torch.compile``
(Inductor): ~1.2× per U-Net step on the CPU (benchmarks/RESULTS.md §9).  Compiled kernels sum
in another order than eager ones, so the weights differ from an eager run in the last bits;
a compiled run is as deterministic as an eager one.  The first step compiles (seconds; the
shards one after the other, since compilation is not meant to run on two threads at once).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from ens2zoo.utils.files import use_inductor_cache

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def plain_step(net: nn.Module, x: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor,
               loss_fn: LossFn) -> torch.Tensor:
    """Forward, loss and backward on the calling thread; gradients land in ``net``."""
    value = loss_fn(net(x), rate, spikes)
    value.backward()
    return value.detach()


def is_stochastic(net: nn.Module) -> bool:
    """True if ``net`` has dropout layers with a non-zero rate (or an LSTM with dropout)."""
    return any((isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0)
               or (isinstance(m, nn.RNNBase) and m.dropout > 0) for m in net.modules())


class ShardedStep:
    """Forward and backward of batch shards on ``shards`` threads, one replica of ``net`` each.

    Use as a context manager (it owns the thread pool and sets torch's intra-op threads to 1
    inside, restoring them after); call it like :func:`plain_step`.  ``compile``: run the
    replicas compiled by ``torch.compile``.
    """

    def __init__(self, net: nn.Module, shards: int, compile: bool = False) -> None:
        if compile:
            use_inductor_cache()
        self.net = net
        self.shards = shards
        self.replicas = [copy.deepcopy(net) for _ in range(shards)]
        self.runners = [torch.compile(r) for r in self.replicas] if compile else self.replicas
        self.warm = not compile  # False until the first call has compiled the replicas
        self.params = list(net.parameters())
        self.buffers = list(net.buffers())

    def __enter__(self) -> ShardedStep:
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.pool = ThreadPoolExecutor(self.shards, thread_name_prefix="ens2zoo-train")
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown()
        torch.set_num_threads(self.threads)

    def _sync(self) -> None:
        with torch.no_grad():
            for replica in self.replicas:
                for p, q in zip(replica.parameters(), self.params):
                    p.copy_(q)
                for b, c in zip(replica.buffers(), self.buffers):
                    b.copy_(c)
                replica.train(self.net.training)

    def __call__(self, net: nn.Module, x: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor,
                 loss_fn: LossFn) -> torch.Tensor:
        self._sync()
        each = self.pool.map if self.warm else map  # the compiling call runs the shards in turn
        self.warm = True
        parts = x.chunk(self.shards)
        outs = list(each(lambda i: self.runners[i](parts[i]), range(len(parts))))
        joined = torch.cat([o.detach() for o in outs]).requires_grad_()
        value = loss_fn(joined, rate, spikes)
        (grad,) = torch.autograd.grad(value, joined)
        grads = grad.split([o.shape[0] for o in outs])

        def backward(i: int) -> list[torch.Tensor | None]:
            replica = self.replicas[i]
            for p in replica.parameters():
                p.grad = None
            outs[i].backward(grads[i])
            return [p.grad for p in replica.parameters()]

        shard_grads = list(each(backward, range(len(outs))))
        for j, p in enumerate(self.params):
            total = None
            for g in shard_grads:  # fixed order: deterministic sum
                if g[j] is not None:
                    total = g[j].clone() if total is None else total.add_(g[j])
            p.grad = total
        return value.detach()


def make_step(net: nn.Module, shards: int,
              compile: bool = False) -> contextlib.AbstractContextManager[Callable[..., torch.Tensor]]:
    """The training step for ``net``: :class:`ShardedStep` over ``shards`` threads if ``shards`` > 1,
    else :func:`plain_step`; ``compile``: with the network compiled by ``torch.compile``."""
    if shards > 1:
        return ShardedStep(net, shards, compile=compile)
    if not compile:
        return contextlib.nullcontext(plain_step)
    use_inductor_cache()
    compiled = torch.compile(net)  # shares net's parameters

    def step(_net: nn.Module, x: torch.Tensor, rate: torch.Tensor, spikes: torch.Tensor,
             loss_fn: LossFn) -> torch.Tensor:
        return plain_step(compiled, x, rate, spikes, loss_fn)

    return contextlib.nullcontext(step)
