"""CASCADE's network (Rupprecht et al. 2021, Nat. Neurosci.), re-implemented in torch as a peer.

Read from CASCADE's paper and its public ``cascade2p/config.py`` and ``utils.py`` (not copied):
a window of 64 samples centred on the frame to infer (``before_frac`` 0.5), three *valid*
1-D convolutions with 30, 40 and 50 filters and kernels 31, 19 and 5 (ReLU), a max-pooling by 2
after the second and the third, a dense layer of 30 ReLU units applied at every remaining time
step, flattened, and one linear output: the rate at the window's centre sample (the registry's
``"centre"`` read-out).  Keras initialises convolutions and dense layers Glorot-uniform with zero
biases; :meth:`CascadeNet.initialise` does the same, and :func:`ens2zoo.training.fit` calls it
instead of the ENS² N(0, 0.02) initialisation.

Differences from CASCADE itself (stated wherever its figures are reported): the window is
64 samples at the zoo's 60 Hz (1.07 s; CASCADE's is 64 frames at the recording's own rate),
and it is trained on the zoo's 60 Hz targets (Gaussian σ 25 ms) so it scores like the others.
"""

from __future__ import annotations

import torch
from torch import nn

#: CASCADE's window, samples (``windowsize`` in its config).
CASCADE_WINDOW = 64


def _valid_length(n: int, kernel: int) -> int:
    return n - kernel + 1


class CascadeNet(nn.Module):
    """Conv(30, k31) → Conv(40, k19) → MaxPool2 → Conv(50, k5) → MaxPool2 → Dense(30) per step → Flatten → Dense(1).

    Input (B, window) ΔF/F windows; output (B, 1): the rate (spikes per 60 Hz frame) at the
    window's centre sample ``window // 2``.  The output is linear, as CASCADE's, so it can go
    slightly below 0 (spike inference only looks at values above its threshold).

    Args:
        window: samples per window (64 in CASCADE).
        filter_sizes: kernel sizes of the three convolutions, samples.
        filter_numbers: output channels of the three convolutions.
        dense_expansion: units of the dense layer applied at each time step.
    """

    def __init__(self, window: int = CASCADE_WINDOW, filter_sizes: tuple[int, int, int] = (31, 19, 5),
                 filter_numbers: tuple[int, int, int] = (30, 40, 50), dense_expansion: int = 30) -> None:
        super().__init__()
        self.window = window
        k1, k2, k3 = (int(k) for k in filter_sizes)
        c1, c2, c3 = (int(c) for c in filter_numbers)
        steps = _valid_length(_valid_length(_valid_length(window, k1), k2) // 2, k3) // 2
        if steps < 1:
            raise ValueError(f"window={window} is too short for kernels {tuple(filter_sizes)}")
        self.features = nn.Sequential(
            nn.Conv1d(1, c1, k1), nn.ReLU(),
            nn.Conv1d(c1, c2, k2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c2, c3, k3), nn.ReLU(), nn.MaxPool1d(2),
        )
        self.dense = nn.Sequential(nn.Linear(c3, dense_expansion), nn.ReLU())
        self.out = nn.Linear(steps * dense_expansion, 1)

    def initialise(self) -> None:
        """Keras's defaults: Glorot-uniform weights, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv1d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x.unsqueeze(1))          # (B, c3, steps)
        h = self.dense(h.transpose(1, 2))          # (B, steps, dense): Keras's Dense on the last axis
        return self.out(h.flatten(1))              # (B, 1)
