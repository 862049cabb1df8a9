"""The ENS² U-Net, as an equivalent 1-D network.

The published network (Zhou et al.) treats a window of 96 samples as a 1×96
image and applies 3×3 convolutions with zero padding.  With an image one pixel
high, the top and bottom kernel rows only ever meet the zero padding, so the
network is exactly a 1-D U-Net whose kernels are the middle rows.  This module
computes that 1-D network: the same numbers with a third of the multiply-adds.

Published state dicts (4-D kernels) load unchanged: ``load_state_dict`` accepts
the published key names and converts each kernel by taking its middle row
(see :func:`published_to_1d`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import torch
from torch import nn

from ens2zoo.defaults import WINDOW


def _block(in_channels: int, features: int, kernel_size: int, name: str) -> nn.Sequential:
    layers = []
    for i, c_in in enumerate((in_channels, features), start=1):
        layers += [
            (f"{name}conv{i}", nn.Conv1d(c_in, features, kernel_size, padding=kernel_size // 2, bias=False)),
            (f"{name}norm{i}", nn.InstanceNorm1d(features)),
            (f"{name}relu{i}", nn.LeakyReLU(0.2, inplace=True)),
        ]
    return nn.Sequential(OrderedDict(layers))


def published_to_1d(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Convert a published (2-D, ``1×k`` image) U-Net state dict to 1-D kernels.

    ``Conv2d`` kernels ``(out, in, k, k)`` keep their middle row; the transposed
    ``(1, 2)`` kernels and the final ``1×1`` kernel drop their unit height.  Tensors
    that are already 1-D-shaped pass through, so converting twice is harmless.
    """
    converted = {}
    for key, tensor in state_dict.items():
        if tensor.ndim == 4:
            tensor = tensor[:, :, tensor.shape[2] // 2, :]
        converted[key] = tensor
    return converted


class UNet(nn.Module):
    """ENS² U-Net over windows of ``window`` samples: (B, window) → (B, window) rates ≥ 0.

    Rates are in spikes per frame at the model's sampling rate (60 Hz for the zoo).

    Args:
        window: samples per window; must be divisible by 8 (three poolings).
        features: channels of the first encoder block (9 in the paper, ≈150 K weights).
        kernel_size: odd convolution kernel length (3 in the paper).
    """

    def __init__(self, window: int = WINDOW, features: int = 9, kernel_size: int = 3) -> None:
        super().__init__()
        if window % 8:
            raise ValueError(f"window={window} must be divisible by 8 (three 2× poolings)")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size={kernel_size} must be odd")
        f = features
        self.window = window
        self.encoder1 = _block(1, f, kernel_size, "enc1")
        self.encoder2 = _block(f, 2 * f, kernel_size, "enc2")
        self.encoder3 = _block(2 * f, 4 * f, kernel_size, "enc3")
        self.bottleneck = _block(4 * f, 8 * f, kernel_size, "bottleneck")
        self.upconv3 = nn.ConvTranspose1d(8 * f, 4 * f, kernel_size=2, stride=2)
        self.decoder3 = _block(8 * f, 4 * f, kernel_size, "dec3")
        self.upconv2 = nn.ConvTranspose1d(4 * f, 2 * f, kernel_size=2, stride=2)
        self.decoder2 = _block(4 * f, 2 * f, kernel_size, "dec2")
        self.upconv1 = nn.ConvTranspose1d(2 * f, f, kernel_size=2, stride=2)
        self.decoder1 = _block(2 * f, f, kernel_size, "dec1")
        self.conv = nn.Conv1d(f, 1, kernel_size=1)
        self.pool = nn.MaxPool1d(2)
        self._register_load_state_dict_pre_hook(self._accept_published_layout)

    @staticmethod
    def _accept_published_layout(state_dict, prefix, *args, **kwargs) -> None:
        for key, tensor in published_to_1d({k: state_dict[k] for k in state_dict if k.startswith(prefix)}).items():
            state_dict[key] = tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        enc1 = self.encoder1(x.unsqueeze(1))
        enc2 = self.encoder2(self.pool(enc1))
        enc3 = self.encoder3(self.pool(enc2))
        bottleneck = self.bottleneck(self.pool(enc3))
        dec3 = self.decoder3(torch.cat((self.upconv3(bottleneck), enc3), dim=1))
        dec2 = self.decoder2(torch.cat((self.upconv2(dec3), enc2), dim=1))
        dec1 = self.decoder1(torch.cat((self.upconv1(dec2), enc1), dim=1))
        return torch.relu(self.conv(dec1)).squeeze(1)
