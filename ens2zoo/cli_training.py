"""``ens2zoo train``, ``evaluate`` and ``benchmark`` (filled in by the training work)."""

from __future__ import annotations

import argparse


def add_training_commands(sub: argparse._SubParsersAction) -> None:
    """Register the training-related sub-commands."""
