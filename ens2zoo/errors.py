"""Exception types raised by ens2zoo.

Every error raised on bad input names the problem and the fix in its message,
so that the command-line tool can print it as one line.
"""

from __future__ import annotations


class Ens2ZooError(Exception):
    """Base class of every error ens2zoo raises on purpose."""


class InputError(Ens2ZooError, ValueError):
    """Traces, spike trains, frame rates or files that cannot be used as given."""


class WeightsError(Ens2ZooError):
    """Weights that are missing, corrupt, tampered with or of the wrong shape."""


class UnknownNameError(Ens2ZooError, KeyError):
    """A model or architecture name that the registry does not know."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class RegistryError(Ens2ZooError):
    """Conflicting or malformed registrations (e.g. two plugins claim one name)."""
