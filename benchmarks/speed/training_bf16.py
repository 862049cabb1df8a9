"""bfloat16 autocast against float32 for one U-Net training step on the CPU (RESULTS §9).

    .venv/bin/python benchmarks/training_bf16.py [--threads 1] [--steps 5] [--rounds 2]

One step = forward (in bf16 under ``torch.autocast`` or in float32), MSE loss in float32,
backward and Adam, batch of 1,024 random 96-sample windows.  The two variants alternate
``--rounds`` times in one process (so a busy machine slows both alike); each prints the median
of ``--steps`` steps after one warm-up step.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import ens2zoo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    net = ens2zoo.create("unet").net.train()
    x, y = torch.randn(1024, 96), torch.rand(1024, 96)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(x)
        ((out.float() - y) ** 2).mean().backward()
        optimizer.step()
        return time.perf_counter() - start

    for _ in range(args.rounds):
        for bf16 in (False, True):
            step(bf16)
            median = statistics.median(step(bf16) for _ in range(args.steps))
            print(f"{'bf16' if bf16 else 'float32':8s} median {median * 1000:.0f} ms")


if __name__ == "__main__":
    main()
