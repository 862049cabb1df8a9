"""A dilated 1-D CNN (temporal convolutional network) that reads a whole trace in one pass.

``DilatedCNN`` maps a (B, T) batch of ΔF/F traces at 60 Hz to (B, T) non-negative rates
(spikes per 60 Hz frame) for any T: every layer is a centred (non-causal) convolution
with zero padding, so there are no windows and no overlap-add (read-out ``"whole-trace"``).

**Normalisation** (done inside ``forward``, no window needed): each sample is
standardised by a *local* mean and standard deviation computed over a centred moving
window of ``norm_window`` samples (the ENS² U-Net's instance norm sees 96-sample
windows; its overlap-added output at sample t depends on samples t−95 … t+95):

    m(t)  = mean of x over t ± h,           h = norm_window // 2
    v(t)  = mean of (x − m)² over t ± h
    x̃(t)  = (x(t) − m(t)) / √(v(t) + floor²)

Near the ends of the trace the means are over the samples that exist
(``count_include_pad=False``).  Chosen over a per-trace (global) robust standardisation
because it is strictly local: a trace and any sub-trace longer than the receptive field
give the same output except within one receptive field of the sub-trace's ends, and slow
drifts or changes of noise level along a long recording are followed as the teacher's
per-window normalisation follows them.  ``floor`` (ΔF/F units) keeps a flat stretch
from being divided by zero, and the rate is multiplied by the gate v/(v + floor²), so
an all-zero or constant input gives exactly zero rate (and the network does not blow up
on zero variance); for real recordings (noise SD ≫ ``floor``) the gate is ≈ 1.

**Receptive field.**  Stem convolution (kernel k), then one residual layer per dilation
d (kernel k, dilation d), then two 1×1 convolutions: the convolutional receptive field
is ``1 + (k − 1)·(1 + Σ dilations)`` samples; with the defaults (k = 3, dilations
1, 2, 4, 8, 16, 32, 1, 2, 4, 8) that is 159 samples = 2.65 s at 60 Hz, centred
(79 samples either side).  The normalisation adds ``2·(norm_window // 2)`` samples either
side (through the mean and the variance), so a perturbation of one sample can move
outputs up to ``receptive_half`` = 79 + 96 = 175 samples away (most of the influence is
within the convolutional ±79).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_DILATIONS = (1, 2, 4, 8, 16, 32, 1, 2, 4, 8)


class DilatedCNN(nn.Module):
    """Dilated residual 1-D CNN over whole traces, with local standardisation.

    Args:
        channels: feature channels of every hidden layer (count).
        dilations: one residual layer per entry; its dilation in samples (at 60 Hz).
        kernel_size: kernel of the stem and of every dilated layer, samples (odd).
        norm_window: samples of the centred moving window of the local mean and SD (odd
            values keep it centred; even ones are rounded up to the next odd number).
        floor: SD floor of the local standardisation, ΔF/F units (a fraction).

    Input (B, T) ΔF/F at 60 Hz, any T ≥ 1; output (B, T) rates ≥ 0 in spikes per frame (in
    evaluation mode; in training mode the output layer leaks with slope 0.01 below 0).
    """

    def __init__(self, channels: int = 32, dilations: Sequence[int] = DEFAULT_DILATIONS, kernel_size: int = 3,
                 norm_window: int = 97, floor: float = 1e-3) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size={kernel_size} must be odd (centred convolutions)")
        if channels < 1 or not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError("channels must be ≥ 1 and dilations a non-empty list of positive integers")
        if norm_window < 1 or not floor > 0:
            raise ValueError("norm_window must be ≥ 1 sample and floor > 0")
        self.channels = int(channels)
        self.dilations = tuple(int(d) for d in dilations)
        self.kernel_size = int(kernel_size)
        self.norm_half = int(norm_window) // 2
        self.floor = float(floor)
        half = self.kernel_size // 2
        self.stem = nn.Conv1d(1, channels, kernel_size, padding=half)
        self.layers = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=d * half) for d in self.dilations)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.out = nn.Conv1d(channels, 1, 1)

    @property
    def conv_half(self) -> int:
        """Samples either side that the convolutions see (receptive field = 2·conv_half + 1)."""
        return (self.kernel_size // 2) * (1 + sum(self.dilations))

    @property
    def receptive_half(self) -> int:
        """Samples either side that can influence an output, normalisation included."""
        return self.conv_half + 2 * self.norm_half

    def _local_mean(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm_half
        if h == 0:
            return x
        return F.avg_pool1d(x, 2 * h + 1, stride=1, padding=h, count_include_pad=False)

    def normalise(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, T) → standardised trace and gate in [0, 1), both (B, 1, T)."""
        centred = x - self._local_mean(x)
        var = self._local_mean(centred * centred)
        floor2 = self.floor * self.floor
        return centred * torch.rsqrt(var + floor2), var / (var + floor2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.normalise(x.unsqueeze(1).float())
        h = self.stem(x)
        for conv in self.layers:
            h = h + conv(F.leaky_relu(h, 0.1))
        h = self.mix(F.leaky_relu(h, 0.1))
        z = self.out(F.leaky_relu(h, 0.1))
        # training: a small negative slope keeps gradients flowing (a plain ReLU output dies under Adam);
        # evaluation: exact zeros below threshold, as the teacher's ReLU gives
        rate = (F.leaky_relu(z, 0.01) if self.training else F.relu(z)) * gate
        return rate.squeeze(1)
