"""An ensemble: several networks of one architecture whose outputs are averaged.

CASCADE predicts with the mean of five networks trained alike from different seeds; an
:class:`Ensemble` does the same for any zoo architecture.  Its outputs are the mean of its
networks' outputs for the same input, so for every read-out (overlap-add windows, centre
samples, whole traces) its rate is the per-frame mean of the networks' rates.

Its state dict holds each network's tensors under ``nets.<k>.``; :func:`ensemble_size` reads the
number of networks from those keys, so a weights file says by itself whether it is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch
from torch import nn

_NET_KEY = re.compile(r"^nets\.(\d+)\.")


class Ensemble(nn.Module):
    """The mean of ``nets``' outputs (same architecture and hyper-parameters, same output shape).

    Args:
        nets: the networks (at least two).
    """

    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        if len(nets) < 2:
            raise ValueError(f"an ensemble averages at least two networks, got {len(nets)}")
        self.nets = nn.ModuleList(nets)
        halves = [getattr(net, "receptive_half", None) for net in nets]
        if all(h is not None for h in halves):  # whole-trace networks: the widest receptive field
            self.receptive_half = max(halves)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.nets[0](x)
        for net in self.nets[1:]:
            total = total + net(x)
        return total / len(self.nets)


def ensemble_size(keys: Iterable[str]) -> int:
    """Networks in an ensemble's state dict (its keys all ``nets.<k>.…``, k = 0 … n−1); 1 for any other."""
    keys = list(keys)
    found = [_NET_KEY.match(k) for k in keys]
    if not keys or not all(found):
        return 1
    indices = {int(m.group(1)) for m in found}
    return len(indices) if indices == set(range(len(indices))) and len(indices) > 1 else 1

