"""``ens2zoo list``, ``predict`` and ``demo``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ens2zoo.cli.options import add_model_args, model_from_args
from ens2zoo.zoo.registry import get_architecture, get_model_entry, list_architectures, list_models


def _cmd_list(args: argparse.Namespace) -> int:
    print("Architectures")
    for name in list_architectures():
        spec = get_architecture(name)
        print(f"  {name:<12} {spec.description}  [{spec.source}]")
    print("\nZoo models")
    print(f"  {'name':<12} {'arch':<6} {'status':<16} description")
    for name in list_models():
        e = get_model_entry(name)
        print(f"  {name:<12} {e.architecture:<6} {e.status:<16} {e.description}")
    return 0


def _summary(result, elapsed: float, out: Path | None) -> str:
    lines = [f"model {result.model}  ({result.n_neurons} neurons, {result.n_input_frames} frames at "
             f"{result.frame_rate:g} Hz → {result.rate.shape[1]} samples at {result.sampling_rate:g} Hz, "
             f"stride {result.stride}, {elapsed:.2f} s)"]
    if result.nan_filled:
        lines.append(f"filled {result.nan_filled} NaN/inf samples by linear interpolation")
    duration = result.n_input_frames / result.frame_rate
    lines.append(f"  {'neuron':>6} {'spikes':>7} {'rate (Hz)':>10}")
    for i in range(min(result.n_neurons, 12)):
        n = len(result.events[i]) if result.events else float("nan")
        lines.append(f"  {i:>6} {n:>7} {n / duration:>10.2f}")
    if result.n_neurons > 12:
        lines.append(f"  … {result.n_neurons - 12} more")
    if out:
        lines.append(f"wrote {out}")
    return "\n".join(lines)


def _cmd_predict(args: argparse.Namespace) -> int:
    from ens2zoo.io.formats import OUTPUT_SUFFIXES, read_traces, write_results
    from ens2zoo.utils.files import check_suffix

    source = Path(args.input)
    out = check_suffix(args.output or source.with_name(source.stem + ".ens2zoo.npz"), OUTPUT_SUFFIXES, "output")
    traces = read_traces(args.input, key=args.key, transpose=args.transpose)
    model = model_from_args(args)
    start = time.perf_counter()
    result = model.predict(traces, args.frame_rate, stride=args.stride, batch_size=args.batch_size,
                           progress=args.progress, nan=args.nan, noise_level=args.noise_level)
    elapsed = time.perf_counter() - start
    write_results(out, result, {"input": str(args.input)})
    if args.plot:
        from ens2zoo.plotting import plot_result

        plot_result(args.plot, traces, result)
    print(_summary(result, elapsed, out))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from scipy.ndimage import gaussian_filter1d

    from ens2zoo.io.formats import write_results
    from ens2zoo.plotting import plot_result
    from ens2zoo.simulate import simulate_recording

    sim = simulate_recording(n_neurons=5, duration_s=120.0, frame_rate=30.0, seed=args.seed)
    model = model_from_args(args)
    start = time.perf_counter()
    result = model.predict(sim.dff, sim.frame_rate)
    elapsed = time.perf_counter() - start
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    np.savez(outdir / "demo_input.npz", dff=sim.dff, frame_rate=sim.frame_rate)
    write_results(outdir / "demo_result.npz", result, {"input": "simulated (ens2zoo.simulate)"})
    plot_result(outdir / "demo_plot.png", sim.dff, result, true_spikes=sim.spike_times)
    print("Demo: 5 simulated GCaMP6f-like neurons, 2 min at 30 Hz (ens2zoo.simulate)")
    print(_summary(result, elapsed, outdir / "demo_result.npz"))
    true_n = [len(s) for s in sim.spike_times]
    found = [len(e) for e in result.events]
    print(f"true spikes per neuron {true_n}; inferred {found}")
    sigma = model.preprocessing.smoothing_sigma_s * result.sampling_rate
    edges = np.arange(result.rate.shape[1] + 1) / result.sampling_rate
    corr = [np.corrcoef(gaussian_filter1d(np.histogram(spikes, bins=edges)[0].astype(float), sigma), rate)[0, 1]
            for spikes, rate in zip(sim.spike_times, result.rate)]
    print("correlation of inferred rate with true smoothed spikes: " + ", ".join(f"{c:.2f}" for c in corr))
    print(f"wrote {outdir / 'demo_plot.png'}")
    return 0


def add_inference_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``list``, ``predict`` and ``demo``."""
    sub.add_parser("list", help="list architectures and zoo models").set_defaults(func=_cmd_list)

    p = sub.add_parser("predict", help="infer spikes from a file of ΔF/F traces")
    p.add_argument("input", help=".npy, .npz, .mat, .h5/.hdf5, .csv or .tsv (neurons in rows)")
    p.add_argument("--frame-rate", type=float, help="imaging frame rate in Hz (required)")
    p.add_argument("--key", help="array / variable / dataset path inside .npz, .mat or .h5")
    p.add_argument("--transpose", action="store_true", help="input is frames × neurons")
    p.add_argument("-o", "--output",
                   help="output .npz (default), .mat or .h5; default: INPUT.ens2zoo.npz beside the input")
    p.add_argument("--stride", type=int, default=1, help="window stride (1 = exact; larger = faster, approximate)")
    p.add_argument("--batch-size", type=int, help="windows per forward pass")
    p.add_argument("--nan", choices=("raise", "interpolate"), default="raise",
                   help="NaN/inf samples: refuse (default) or fill by linear interpolation")
    p.add_argument("--noise-level", type=float, metavar="NU",
                   help="route every neuron as if its noise level were NU %%·Hz^-1/2 (families only; "
                        "default: each neuron's measured ν)")
    p.add_argument("--plot", help="also write a PNG overview here")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")
    add_model_args(p)
    p.set_defaults(func=_cmd_predict)

    d = sub.add_parser("demo", help="simulate a recording, infer spikes, write results and a plot")
    d.add_argument("-o", "--output", default="demo_output", help="output folder (default: demo_output)")
    d.add_argument("--seed", type=int, default=0)
    add_model_args(d)
    d.set_defaults(func=_cmd_demo)

