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

CASCADE's own published models (a folder of ``config.yaml`` and state dicts, read by
:mod:`ens2zoo.workflows.cascade_folder`) run through :meth:`CascadeNet.forward_trace`, which evaluates
the network on every window of a whole trace at once, and :class:`CascadeEnsemble`, which averages
a noise level's ensemble as CASCADE's ``predict`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
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
        self.steps = steps

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

    def forward_trace(self, x: torch.Tensor, before: int | None = None) -> torch.Tensor:
        """The output of every window of zero-padded traces, computed on the whole trace at once.

        Output ``t`` equals ``forward`` on the window of samples ``t − before … t − before + window − 1``
        (zeros outside the trace), up to float rounding.  The convolutions are shift-equivariant, so
        they run once over the trace; only the two max-poolings depend on where a window starts, and
        a window's start modulo 4 fixes both of them: each of the 4 pooling phases is evaluated once
        and the outputs are interleaved.  About 12× less arithmetic than one forward pass per window
        for CASCADE's sizes.

        Args:
            x: (B, T) ΔF/F traces.
            before: samples of each window before the sample it predicts; ``window // 2`` (default,
                the read-out this class is trained for) or ``int(before_frac · window − 1)`` = 31 for
                CASCADE's own models (frame t from frames t−31 … t+32).

        Returns:
            (B, T) outputs, one per sample (spikes per frame of ``x``).
        """
        before = self.window // 2 if before is None else int(before)
        if not 0 <= before < self.window:
            raise ValueError(f"before={before} must lie in 0 … {self.window - 1}")
        n = x.shape[-1]
        conv1, _, conv2, _, pool1, conv3, _, pool2 = self.features
        h = F.pad(x, (before, self.window - 1 - before)).unsqueeze(1)    # window t starts at padded sample t
        h = torch.relu(conv2(torch.relu(conv1(h))))
        dense = self.dense[0]
        read = self.out.weight.reshape(self.steps, -1).T.unsqueeze(0)   # (1, dense, steps): flatten order
        y = x.new_empty(x.shape[0], n)
        for a in (0, 1):                                                # pool1 pairs start at t ≡ a (mod 2)
            q = torch.relu(conv3(pool1(h[..., a:])))
            for b in (0, 1):                                            # pool2 pairs: (t − a)/2 ≡ b (mod 2)
                first = a + 2 * b                                       # windows t = first + 4k
                count = len(range(first, n, 4))
                if count == 0:
                    continue
                r = pool2(q[..., b:])                                   # (B, c3, steps-grid)
                d = torch.relu(F.conv1d(r, dense.weight.unsqueeze(-1), dense.bias))
                y[:, first::4] = F.conv1d(d, read, self.out.bias)[:, 0, :count]
        return y


class CascadeEnsemble(nn.Module):
    """One noise level of a CASCADE model: the mean of its ensemble over whole traces, negatives set to 0.

    CASCADE's ``predict`` averages the ensemble's outputs and sets negative values to 0
    (``threshold=0``); this module does the same for (B, T) traces, with each network's
    :meth:`CascadeNet.forward_trace` at read-out position ``before``.  ``receptive_half`` (samples
    either side an output depends on) lets the whole-trace read-out evaluate long traces in chunks.

    Args:
        nets: the ensemble (same sizes).
        before: samples of each window before the predicted one (31 for CASCADE's models).
    """

    def __init__(self, nets: Sequence[CascadeNet], before: int) -> None:
        super().__init__()
        if not nets:
            raise ValueError("an ensemble needs at least one network")
        self.nets = nn.ModuleList(nets)
        self.before = int(before)
        self.receptive_half = max(self.before, nets[0].window - 1 - self.before)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.nets[0].forward_trace(x, self.before)
        for net in self.nets[1:]:
            total += net.forward_trace(x, self.before)
        return torch.clamp_min(total / len(self.nets), 0.0)
