"""``ens2zoo plot``: redraw a saved result."""

from __future__ import annotations

import argparse

from ens2zoo.errors import InputError


def _int_list(text: str | None, flag: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{flag} {text!r}: give comma-separated whole numbers, e.g. {flag} 0,3,5") from None


def _cmd_plot(args: argparse.Namespace) -> int:
    from ens2zoo.plotting import plot_saved

    out, rows, rois = plot_saved(args.result, args.output, neurons=_int_list(args.neurons, "--neurons"),
                                 rois=_int_list(args.rois, "--rois"), start=args.start, duration=args.duration)
    drawn = f"rows {', '.join(map(str, rows))}"
    if rois is not None:
        drawn += f" (ROIs {', '.join(map(str, rois))})"
    print(f"drew {drawn}")
    print(f"wrote {out}")
    return 0


def add_plot_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``plot``."""
    p = sub.add_parser("plot", help="draw a saved result (.npz from predict): ΔF/F, rate, spikes, ν per neuron")
    p.add_argument("result", help="result file written by `ens2zoo predict` (.npz)")
    p.add_argument("-o", "--output", required=True, help="figure to write: .png, .pdf or .svg")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--neurons", help="comma-separated rows of the result to draw (default: the first 6)")
    which.add_argument("--rois", help="comma-separated suite2p/NWB ROI numbers to draw (the result's roi_index)")
    p.add_argument("--start", type=float, default=0.0, help="first second to draw (default 0)")
    p.add_argument("--duration", type=float, help="seconds to draw (default: all)")
    p.set_defaults(func=_cmd_plot)
