"""The networks of the ENS² paper, one file each: plain ``nn.Module`` classes (registered by ``ens2zoo.zoo``)."""

from ens2zoo.architectures.cnn import CNN
from ens2zoo.architectures.lstm import LSTM
from ens2zoo.architectures.mlp import MLP
from ens2zoo.architectures.tcn import DilatedCNN
from ens2zoo.architectures.unet import UNet

__all__ = ["CNN", "LSTM", "MLP", "DilatedCNN", "UNet"]
