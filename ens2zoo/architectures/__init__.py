"""Built-in architectures; importing this package registers them."""

from ens2zoo.architectures.cnn import CNN
from ens2zoo.architectures.lstm import LSTM
from ens2zoo.architectures.mlp import MLP
from ens2zoo.architectures.unet import UNet
from ens2zoo.registry import register_architecture

register_architecture("unet", description="ENS² U-Net (Zhou et al.), exact 1-D form")(UNet)
register_architecture("mlp", description="FCNet: fully connected 96→64→128→128→64→96")(MLP)
register_architecture("cnn", description="LeNet-style 1-D CNN")(CNN)
register_architecture("lstm", description="bidirectional LSTM with a linear read-out")(LSTM)

__all__ = ["CNN", "LSTM", "MLP", "UNet"]
