"""Running the command line in-process, as the tests do."""

from __future__ import annotations

import os

from ens2zoo.cli.main import main


def run_cli(argv: list[str | os.PathLike]) -> int:
    """``ens2zoo ARGV`` in this process (arguments may be paths); its exit status, argparse's included."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        return int(exc.code or 0)
