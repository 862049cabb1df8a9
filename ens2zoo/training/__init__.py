"""Training every architecture with one protocol (the published ENS² one) and named recipes."""

from ens2zoo.training.config import TrainingConfig
from ens2zoo.training.fit import fit
from ens2zoo.training.loop import FitResult, TrainingReport, init_normal
from ens2zoo.training.losses import get_loss, list_losses, register_loss

__all__ = ["FitResult", "TrainingConfig", "TrainingReport", "fit", "get_loss", "init_normal", "list_losses",
           "register_loss"]
