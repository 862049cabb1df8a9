"""The built-in architectures, registered under their zoo names."""

from __future__ import annotations

from ens2zoo.architectures.cascade import CascadeNet
from ens2zoo.architectures.cnn import CNN
from ens2zoo.architectures.lstm import LSTM
from ens2zoo.architectures.mlp import MLP
from ens2zoo.architectures.tcn import DilatedCNN
from ens2zoo.architectures.unet import UNet
from ens2zoo.zoo.entries import Architecture

BUILTIN_ARCHITECTURES = (
    Architecture("unet", UNet, "ens2zoo", "ENS² U-Net (Zhou et al.), exact 1-D form"),
    Architecture("mlp", MLP, "ens2zoo", "FCNet: fully connected window→2w→4w→4w→2w→window"),
    Architecture("cnn", CNN, "ens2zoo", "LeNet-style 1-D CNN"),
    Architecture("lstm", LSTM, "ens2zoo", "bidirectional LSTM with a linear read-out"),
    Architecture("tcn", DilatedCNN, "ens2zoo", "dilated 1-D CNN over whole traces (no windows), local standardisation",
                 readout="whole-trace"),
    Architecture("cascade", CascadeNet, "ens2zoo", "CASCADE's network (Rupprecht et al. 2021), a peer: "
                 "64-sample windows, one output at the centre", readout="centre"),
)
