"""The ``ens2zoo`` command line: the parser and error handling (commands live in one module per group).

Errors on bad input print one line naming the problem and the fix and exit with
status 2 (no traceback unless ``--debug``); no output file is created or truncated.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ens2zoo._version import __version__
from ens2zoo.cli.inference import add_inference_commands
from ens2zoo.cli.plot import add_plot_commands
from ens2zoo.cli.training import add_training_commands
from ens2zoo.errors import Ens2ZooError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ens2zoo",
                                     description="Spike inference from calcium imaging (ENS² model zoo)")
    parser.add_argument("--version", action="version", version=f"ens2zoo {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    add_inference_commands(sub)
    add_training_commands(sub)
    add_plot_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", force=True)
    logging.getLogger("numba").setLevel(logging.WARNING)
    try:
        return args.func(args)
    except (Ens2ZooError, OSError) as exc:
        if args.debug:
            raise
        print(f"ens2zoo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ens2zoo: interrupted; no partial output was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
