"""Training every architecture with one protocol (the published ENS² one)."""

from ens2zoo.training.fit import TrainingReport, fit, init_normal
from ens2zoo.training.losses import get_loss, list_losses, register_loss

__all__ = ["TrainingReport", "fit", "get_loss", "init_normal", "list_losses", "register_loss"]
