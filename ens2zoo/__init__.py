"""ens2zoo: spike inference from calcium imaging with the ENS² model zoo."""

from ens2zoo._version import __version__

__all__ = ["__version__"]
