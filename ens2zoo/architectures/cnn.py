"""The paper's LeNet-style 1-D convolutional network."""

from __future__ import annotations

import torch
from torch import nn

from ens2zoo.defaults import WINDOW


def _conv_length(n: int, kernel: int, stride: int = 1) -> int:
    return (n - kernel) // stride + 1


class CNN(nn.Module):
    """LeNet-style CNN: Conv1d(1→2w, k, stride 2) → LReLU → AvgPool2 → Conv1d(2w→4w, k) → LReLU →
    AvgPool2 → Conv1d(4w→4w, rest) → LReLU → Linear(4w→4w) → LReLU → Dropout → Linear(4w→window) → ReLU.

    With the paper's ``width=14``, ``kernel_size=3`` and ``window=96`` the last
    convolution has kernel 10 and collapses time to one sample.
    Output: rates ≥ 0 in spikes per frame, shape (B, window).

    Args:
        window: samples per window (at the model's 60 Hz; 96 = 1.6 s); the last kernel spans what is left.
        width: channels of the first convolution are 2·width.
        kernel_size: samples per kernel of the first two convolutions.
        dropout: drop probability (0–1) before the last layer, while training.
    """

    def __init__(self, window: int = WINDOW, width: int = 14, kernel_size: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.window = window
        rest = _conv_length(window, kernel_size, 2) // 2
        rest = _conv_length(rest, kernel_size) // 2
        if rest < 1:
            raise ValueError(f"window={window} is too short for kernel_size={kernel_size}")
        c1, c2 = 2 * width, 4 * width
        self.features = nn.Sequential(
            nn.Conv1d(1, c1, kernel_size, stride=2), nn.LeakyReLU(0.2), nn.AvgPool1d(2),
            nn.Conv1d(c1, c2, kernel_size), nn.LeakyReLU(0.2), nn.AvgPool1d(2),
            nn.Conv1d(c2, c2, rest), nn.LeakyReLU(0.2), nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(c2, c2), nn.LeakyReLU(0.2), nn.Dropout(dropout),
                                  nn.Linear(c2, window), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.unsqueeze(1)))
