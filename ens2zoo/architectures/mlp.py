"""The paper's fully connected network (FCNet)."""

from __future__ import annotations

import itertools

import torch
from torch import nn

from ens2zoo.defaults import WINDOW


class MLP(nn.Module):
    """FCNet: window → 2w → 4w → 4w → 2w → window, LeakyReLU(0.2), dropout, ReLU output.

    With the paper's ``width=32`` and ``window=96``: 96→64→128→128→64→96.
    Output: rates ≥ 0 in spikes per frame, shape (B, window).

    Args:
        window: samples per window (at the model's 60 Hz; 96 = 1.6 s).
        width: hidden units of the first layer are 2·width (units, dimensionless).
        dropout: drop probability (0–1) before the last two layers, while training.
    """

    def __init__(self, window: int = WINDOW, width: int = 32, dropout: float = 0.5) -> None:
        super().__init__()
        self.window = window
        sizes = [window, 2 * width, 4 * width, 4 * width, 2 * width]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            if i >= 3:  # dropout before the last two layers, as published
                layers.append(nn.Dropout(dropout))
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        layers += [nn.Dropout(dropout), nn.Linear(sizes[-1], window), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
