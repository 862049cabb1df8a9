"""A bidirectional LSTM over the window with a linear read-out."""

from __future__ import annotations

import torch
from torch import nn

from ens2zoo.defaults import WINDOW


class LSTM(nn.Module):
    """Bidirectional LSTM (``hidden`` units per direction) over the window's samples,
    then a per-sample Linear(2·hidden → 1) and ReLU.

    Output: rates ≥ 0 in spikes per frame, shape (B, window).

    Args:
        window: samples per window (at the model's 60 Hz; 96 = 1.6 s).
        hidden: LSTM units per direction.
        layers: stacked LSTM layers.
    """

    def __init__(self, window: int = WINDOW, hidden: int = 64, layers: int = 1) -> None:
        super().__init__()
        self.window = window
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.readout = nn.Linear(2 * hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x.unsqueeze(-1))
        return torch.relu(self.readout(h)).squeeze(-1)
