"""A slow, obviously-correct mirror of the published ENS² inference pipeline.

Used by the parity tests and as the baseline of the benchmarks.  It follows the
published steps literally: a 2-D U-Net over 1×96 images (Conv2d 3×3), one
materialised window per sample, a Python overlap-add loop and the pure-Python
greedy spike estimator that rebuilds an L×L candidate matrix per added spike.
Nothing here is fast on purpose; nothing in the package's pipeline imports it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import scipy.ndimage
import scipy.signal
import torch
from torch import nn

WINDOW = 96
SAMPLING_RATE = 60.0
SIGMA_FRAMES = 0.025 * SAMPLING_RATE


def _block(c_in: int, f: int, name: str) -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        (name + "conv1", nn.Conv2d(c_in, f, 3, padding=1, bias=False)),
        (name + "norm1", nn.InstanceNorm2d(f)),
        (name + "relu1", nn.LeakyReLU(0.2)),
        (name + "conv2", nn.Conv2d(f, f, 3, padding=1, bias=False)),
        (name + "norm2", nn.InstanceNorm2d(f)),
        (name + "relu2", nn.LeakyReLU(0.2)),
    ]))


class PublishedUNet(nn.Module):
    """The published 2-D layout: 1×96 images, 3×3 kernels, (1,2) pooling."""

    def __init__(self, f: int = 9) -> None:
        super().__init__()
        self.encoder1 = _block(1, f, "enc1")
        self.encoder2 = _block(f, 2 * f, "enc2")
        self.encoder3 = _block(2 * f, 4 * f, "enc3")
        self.bottleneck = _block(4 * f, 8 * f, "bottleneck")
        self.upconv3 = nn.ConvTranspose2d(8 * f, 4 * f, (1, 2), stride=(1, 2))
        self.decoder3 = _block(8 * f, 4 * f, "dec3")
        self.upconv2 = nn.ConvTranspose2d(4 * f, 2 * f, (1, 2), stride=(1, 2))
        self.decoder2 = _block(4 * f, 2 * f, "dec2")
        self.upconv1 = nn.ConvTranspose2d(2 * f, f, (1, 2), stride=(1, 2))
        self.decoder1 = _block(2 * f, f, "dec1")
        self.conv = nn.Conv2d(f, 1, 1)
        self.pool = nn.MaxPool2d((1, 2), (1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.encoder1(x[:, None, None, :])
        e2 = self.encoder2(self.pool(e1))
        e3 = self.encoder3(self.pool(e2))
        b = self.bottleneck(self.pool(e3))
        d3 = self.decoder3(torch.cat((self.upconv3(b), e3), 1))
        d2 = self.decoder2(torch.cat((self.upconv2(d3), e2), 1))
        d1 = self.decoder1(torch.cat((self.upconv1(d2), e1), 1))
        return torch.relu(self.conv(d1))[:, 0, 0, :]


def load_published(path) -> PublishedUNet:
    net = PublishedUNet()
    net.load_state_dict(torch.load(path, weights_only=True), strict=True)
    return net.eval()


def resample_to_60hz(trace: np.ndarray, frame_rate: float) -> np.ndarray:
    n = trace.shape[0]
    t = np.arange(1, n + 1) / frame_rate
    resampled, _ = scipy.signal.resample(trace, round(n * SAMPLING_RATE / frame_rate), t)
    return resampled


def predict_rate(net: nn.Module, trace60: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Stride-1 windows, network, Python overlap-add loop, ÷96 (float64 buffer)."""
    n = trace60.shape[0]
    padded = np.concatenate([np.zeros(WINDOW // 2), trace60, np.zeros(WINDOW // 2)])
    windows = np.zeros((n, WINDOW), dtype=np.float32)
    for j in range(n):
        windows[j] = padded[j:j + WINDOW]
    outputs = []
    with torch.no_grad():
        for s in range(0, n, batch_size):
            outputs.append(net(torch.from_numpy(windows[s:s + batch_size])).numpy())
    out = np.concatenate(outputs)
    buffer = np.zeros(n + WINDOW - 1)
    for j in range(n):
        buffer[j:j + WINDOW] += out[j]
    return buffer[WINDOW // 2:WINDOW // 2 + n] / WINDOW


def _estimate_run(piece: np.ndarray, sigma: float) -> np.ndarray:
    spikes = np.zeros(piece.shape, dtype=np.float32)
    if np.sum(piece) >= 0.5:
        spikes[np.argmax(piece)] = 1
    smoothed = scipy.ndimage.gaussian_filter(spikes, sigma=sigma, mode="constant", cval=0.0)
    loss = np.sum((piece - smoothed) ** 2)
    while True:
        candidates = spikes + np.eye(len(piece), dtype=np.float32)
        cand_smoothed = scipy.ndimage.gaussian_filter(candidates, sigma=(0, sigma), mode="constant", cval=0.0)
        cand_loss = np.sum((piece - cand_smoothed) ** 2, axis=1)
        best = int(np.argmin(cand_loss))
        if cand_loss[best] - loss <= -1e-8:
            spikes, loss = candidates[best], cand_loss[best]
        else:
            return spikes


def estimate_spikes(rate: np.ndarray, sigma: float = SIGMA_FRAMES) -> np.ndarray:
    """The published greedy estimator, state machine and all (500-sample run cap included)."""
    rate = np.array(rate, dtype=np.float32)
    rate[rate < 0.02 / sigma] = 0
    edges = np.diff((rate > 0).astype(np.int8))
    out = np.zeros(rate.shape, dtype=np.float32)
    onset = 0
    for idx in range(len(edges)):
        if edges[idx] == 1:
            onset = idx + 1
        elif edges[idx] == -1:
            if onset > 0:
                out[onset:idx + 1] = _estimate_run(rate[onset:idx + 1], sigma)
        elif idx - onset >= 500 - 1:
            if idx + 1 < len(edges):
                edges[idx + 1] = -1
            if idx + 2 < len(edges):
                edges[idx + 2] = 1
    return out


def spike_times(spikes: np.ndarray) -> np.ndarray:
    frames = np.repeat(np.arange(len(spikes)), spikes.astype(np.int64))
    return (frames + 1) / SAMPLING_RATE


def published_pipeline(net: nn.Module, trace: np.ndarray, frame_rate: float):
    """(rate, spikes, event times) for one neuron, as the published code computes them."""
    rate = predict_rate(net, resample_to_60hz(np.asarray(trace, dtype=np.float64), frame_rate))
    spikes = estimate_spikes(rate)
    return rate, spikes, spike_times(spikes)
