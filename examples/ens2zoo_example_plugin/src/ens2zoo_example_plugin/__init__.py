"""An example ens2zoo plugin.

Two entry points in the ``ens2zoo.models`` group (see pyproject.toml):

* ``gru`` names an ``nn.Module`` class: it becomes architecture ``"gru"``,
  trainable and usable with ``ens2zoo.create("gru")`` / ``fit`` / ``predict``
  like any built-in one.
* ``example-zoo`` names a callable returning zoo entries; here one entry,
  ``gru-example``, whose weights are not shipped (``load`` says so clearly).
"""

from __future__ import annotations

import torch
from torch import nn

from ens2zoo import ModelEntry


class GRU(nn.Module):
    """Bidirectional GRU over the window with a per-sample linear read-out (rates ≥ 0)."""

    def __init__(self, window: int = 96, hidden: int = 16) -> None:
        super().__init__()
        self.window = window
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=True)
        self.readout = nn.Linear(2 * hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(x.unsqueeze(-1))
        return torch.relu(self.readout(h)).squeeze(-1)


def zoo_entries() -> list[ModelEntry]:
    return [ModelEntry(name="gru-example", architecture="gru", hparams={"hidden": 16},
                       description="example plugin entry (weights not shipped)")]
