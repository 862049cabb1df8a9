"""Rebuild ``benchmarks/lodo/REPORT.md`` and its figures from the committed per-neuron CSVs alone.

    .venv/bin/python benchmarks/lodo/report.py [FOLDER]      # or: make lodo-report

See :mod:`ens2zoo.benchmark.report`.
"""

import sys

from ens2zoo.benchmark.report import write_report

if __name__ == "__main__":
    print(write_report(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/lodo"))
