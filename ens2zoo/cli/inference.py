"""``ens2zoo list``, ``predict`` and ``demo``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ens2zoo.cli.options import add_model_args, model_from_args
from ens2zoo.defaults import SPIKE_ESTIMATORS
from ens2zoo.errors import InputError
from ens2zoo.io.dff import DFF_DEFAULTS
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


def _summary(result, elapsed: float, out: Path | None, roi_index=None, label: str | None = None) -> str:
    lines = [f"model {result.model}  ({result.n_neurons} neurons, {result.n_input_frames} frames at "
             f"{result.frame_rate:g} Hz → {result.rate.shape[1]} samples at {result.sampling_rate:g} Hz, "
             f"stride {result.stride}, {elapsed:.2f} s)"]
    if label:
        lines[0] = f"{label}: " + lines[0]
    if result.nan_filled:
        lines.append(f"filled {result.nan_filled} NaN/inf samples by linear interpolation")
    duration = result.n_input_frames / result.frame_rate
    roi_col = roi_index is not None
    lines.append(f"  {'neuron':>6} " + (f"{'roi':>6} " if roi_col else "") +
                 f"{'spikes':>7} {'rate (Hz)':>10} {'ν':>6}")
    nus = result.noise_level if result.noise_level is not None else np.full(result.n_neurons, np.nan)
    for i in range(min(result.n_neurons, 12)):
        n = len(result.events[i]) if result.events else float("nan")
        roi = f"{int(roi_index[i]):>6} " if roi_col else ""
        lines.append(f"  {i:>6} {roi}{n:>7} {n / duration:>10.2f} {nus[i]:>6.2f}")
    if result.n_neurons > 12:
        lines.append(f"  … {result.n_neurons - 12} more")
    lines.append("  (ν: noise level, %·Hz^-1/2; ~1 very good, 3–4 decent, > 5 poor)")
    if out:
        lines.append(f"wrote {out}")
    return "\n".join(lines)


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show ens2zoo's warnings as one line each on stderr (others as Python shows them)."""
    package = str(Path(__file__).resolve().parents[1])
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        seen = set()
        for w in caught:
            text = " ".join(str(w.message).split())
            if str(w.filename).startswith(package) and issubclass(w.category, UserWarning):
                if text not in seen:
                    seen.add(text)
                    print(f"ens2zoo: warning: {text}", file=sys.stderr)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _cmd_predict(args: argparse.Namespace) -> int:
    from ens2zoo.io.inputs import is_pattern

    if args.workers is not None and args.scheduler is None:
        raise InputError("--workers N sizes a local Dask cluster: add --scheduler local")
    with _warnings_to_stderr():
        if args.scheduler is not None or len(args.input) > 1 or is_pattern(args.input[0]):
            return _predict_many(args)
        return _predict(args)


def _prepare_options(args: argparse.Namespace) -> dict:
    return {"frame_rate": getattr(args, "frame_rate", None), "key": args.key, "transpose": args.transpose,
            "input_kind": args.input_kind, "neuropil_key": args.neuropil_key, "all_rois": args.all_rois,
            "min_cell_prob": args.min_cell_prob, "series": args.series, "neuropil": args.neuropil,
            "baseline_window_s": args.baseline_window, "baseline_percentile": args.baseline_percentile,
            "baseline_smoothing_s": args.baseline_smoothing}


def _predict_options(args: argparse.Namespace) -> dict:
    """The options of ``SpikeModel.predict`` (``cluster.PREDICT_OPTIONS``) the command line sets."""
    return {"stride": args.stride, "batch_size": args.batch_size, "nan": args.nan, "noise_level": args.noise_level,
            "compile": args.compile, "indicator": args.indicator, "spike_estimator": args.spike_estimator}


def _model_spec(args: argparse.Namespace):
    """What the workers load: the model the options name (loaded here first, so a bad one fails now)."""
    from ens2zoo.cli.options import model_spec_from_args

    spec = model_spec_from_args(args)
    spec.load()
    return spec


def _outcome_line(outcome) -> tuple[str, bool]:
    """(line, to stderr) for one input's outcome."""
    if outcome.status == "done":
        where = f" on {outcome.worker}" if outcome.worker else ""
        return (f"done    {outcome.label} → {outcome.output}  ({outcome.neurons} neurons, {outcome.spikes} spikes, "
                f"{outcome.seconds:.1f} s{where})"), False
    if outcome.status == "skipped":
        return f"skipped {outcome.label}: {outcome.output} exists (--overwrite redoes it)", False
    return f"ens2zoo: failed: {outcome.label}: {outcome.error}", True


def _predict_many(args: argparse.Namespace) -> int:
    """Several inputs (or globs, or --scheduler): one task per output, failures reported, a summary."""
    from tqdm.auto import tqdm

    from ens2zoo.cluster import open_client, run_inputs

    if args.output is not None:
        raise InputError("-o names one output file: with several inputs use --output-dir DIR (or leave both out to "
                         "write each result beside its input)")
    if args.plot:
        raise InputError("--plot writes one figure: leave it out with several inputs and draw each result with "
                         "`ens2zoo plot RESULT -o FIG.png`")
    spec = _model_spec(args)
    predict = _predict_options(args)

    def report(outcome) -> None:
        line, err = _outcome_line(outcome)
        tqdm.write(line, file=sys.stderr if err else sys.stdout)
        for message in outcome.warnings:
            tqdm.write(f"ens2zoo: warning: {outcome.label}: {message}", file=sys.stderr)

    with open_client(args.scheduler, args.workers) as client:
        result = run_inputs(args.input, model=spec, output_dir=args.output_dir, fmt=args.format,
                            prepare=_prepare_options(args), predict=predict, overwrite=args.overwrite,
                            client=client, progress=args.progress, report=report)
    print(result.summary())
    for outcome in result.failed:
        print(f"  failed: {outcome.label}: {outcome.error}", file=sys.stderr)
    return 2 if result.failed else 0


def _predict(args: argparse.Namespace) -> int:
    """One input (one result per suite2p plane), in this process; the names come from ``plan_input``."""
    from dataclasses import replace

    from ens2zoo.io.formats import OUTPUT_SUFFIXES
    from ens2zoo.io.inputs import check_distinct_outputs, plan_input, prepare_inputs
    from ens2zoo.utils.files import check_suffix
    from ens2zoo.workflows.predict import predict_input

    (path,) = args.input
    if args.format is not None and args.output is not None:
        raise InputError("-o FILE names the output and its format: leave out --format (or -o)")
    if args.output is not None and args.output_dir is not None:
        raise InputError("give either -o FILE or --output-dir DIR, not both")
    if args.output is not None:
        check_suffix(args.output, (*OUTPUT_SUFFIXES, ".nwb"), "output")
    if args.plot and args.output_dir:
        raise InputError("--plot writes one figure: leave it out with --output-dir and draw each result with "
                         "`ens2zoo plot RESULT -o FIG.png`")
    units = plan_input(path, output_dir=args.output_dir, fmt=args.format, series=args.series)
    if len(units) > 1 and (args.output is not None or args.plot):
        flag = "-o names one file" if args.output is not None else "--plot writes one figure"
        raise InputError(f"{flag} but the input holds {len(units)} planes "
                         f"({', '.join(u.label for u in units)}): use --output-dir DIR, and draw each result "
                         "with `ens2zoo plot RESULT -o FIG.png`")
    if args.output is not None:
        units = [replace(units[0], output=Path(args.output))]
    check_distinct_outputs(units)
    inputs = []
    for unit in units:  # every input is read (and refused) before any prediction
        (item,) = prepare_inputs(unit.source, **_prepare_options(args))
        inputs.append(item)
    model = model_from_args(args)
    options = {**_predict_options(args), "progress": args.progress}
    for item, unit in zip(inputs, units):
        done = predict_input(item, model, unit.output, predict=options, plot=args.plot)
        print(_summary(done.result, done.seconds, unit.output, item.roi_index,
                       item.label if len(inputs) > 1 else None))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from scipy.ndimage import gaussian_filter1d

    from ens2zoo.io.formats import write_results
    from ens2zoo.plotting import plot_result
    from ens2zoo.simulate import simulate_recording

    sim = simulate_recording(n_neurons=5, duration_s=120.0, frame_rate=30.0, seed=args.seed)
    # the simulator puts frame f at (f + 1)/frame_rate; the outputs' clock at f/frame_rate
    true_spikes = [s - 1 / sim.frame_rate for s in sim.spike_times]
    model = model_from_args(args)
    start = time.perf_counter()
    result = model.predict(sim.dff, sim.frame_rate)
    elapsed = time.perf_counter() - start
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    np.savez(outdir / "demo_input.npz", dff=sim.dff, frame_rate=sim.frame_rate)
    write_results(outdir / "demo_result.npz", result, {"input": "simulated (ens2zoo.simulate)"}, traces=sim.dff,
                  true_events=true_spikes)
    plot_result(outdir / "demo_plot.png", sim.dff, result, true_spikes=true_spikes)
    print("Demo: 5 simulated GCaMP6f-like neurons, 2 min at 30 Hz (ens2zoo.simulate)")
    print(_summary(result, elapsed, outdir / "demo_result.npz"))
    true_n = [len(s) for s in true_spikes]
    found = [len(e) for e in result.events]
    print(f"true spikes per neuron {true_n}; inferred {found}")
    sigma = model.preprocessing.smoothing_sigma_s * result.sampling_rate
    edges = (np.arange(result.rate.shape[1] + 1) - 0.5) / result.sampling_rate  # sample j's bin centred on j/60
    corr = [np.corrcoef(gaussian_filter1d(np.histogram(spikes, bins=edges)[0].astype(float), sigma), rate)[0, 1]
            for spikes, rate in zip(true_spikes, result.rate)]
    print("correlation of inferred rate with true smoothed spikes: " + ", ".join(f"{c:.2f}" for c in corr))
    print(f"wrote {outdir / 'demo_plot.png'}")
    return 0


def add_inference_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``list``, ``predict`` and ``demo``."""
    sub.add_parser("list", help="list architectures and zoo models").set_defaults(func=_cmd_list)

    p = sub.add_parser("predict", help="infer spikes from ΔF/F traces, a suite2p folder or an NWB file",
                       description="Inputs: an array file of ΔF/F (or raw fluorescence with --input-kind raw), "
                                   "a suite2p plane folder or suite2p root (one result per plane), or an NWB file. "
                                   "Several inputs (or globs) run one task each — here, one after another, or on "
                                   "a Dask cluster with --scheduler — skip those whose output is complete, report "
                                   "failures without stopping, and end with a summary (exit status 2 if any failed).")
    p.add_argument("input", nargs="+",
                   help=".npy, .npz, .mat, .h5/.hdf5, .csv or .tsv (neurons in rows); a suite2p folder; or .nwb; "
                        "several, or quoted globs ('data/*.npy')")
    # no default: suite2p and NWB inputs carry their own rate (absent attribute = not given)
    p.add_argument("--frame-rate", type=float, default=argparse.SUPPRESS,
                   help="imaging frame rate in Hz (required for array files; overrides suite2p's fs / NWB's rate)")
    p.add_argument("--key", help="array / variable / dataset path inside .npz, .mat or .h5")
    p.add_argument("--transpose", action="store_true", help="input is frames × neurons")
    p.add_argument("-o", "--output",
                   help="output .npz (default), .mat, .h5, or .nwb (NWB input only); default: beside the input "
                        "(INPUT.ens2zoo.npz; a suite2p plane folder's PLANE/ens2zoo.npz)")
    p.add_argument("--output-dir", help="write each result here as <session>_<plane>.ens2zoo.npz "
                                        "(array files: <name>.ens2zoo.npz; NWB: <name>_<series>.ens2zoo.npz)")
    p.add_argument("--format", choices=("npz", "mat", "h5"),
                   help="result format when the names are derived (beside the input or --output-dir; default npz)")
    c = p.add_argument_group("many inputs (Dask: pip install 'ens2zoo[dask]')")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="run one task per input on the Dask cluster at ADDRESS (tcp://host:8786), or 'local' to "
                        "start one here with --workers processes")
    c.add_argument("--workers", type=int, metavar="N",
                   help="with --scheduler local: worker processes, one thread each (default: one per CPU core)")
    c.add_argument("--overwrite", action="store_true",
                   help="several inputs: redo those whose output exists and is complete (default: skip them)")
    g = p.add_argument_group("raw fluorescence → ΔF/F (suite2p, NWB Fluorescence, --input-kind raw)")
    g.add_argument("--input-kind", choices=("dff", "raw"), default="dff",
                   help="array files: ΔF/F (default) or raw fluorescence (ΔF/F is computed)")
    g.add_argument("--neuropil-key", help="raw array files: the array holding the neuropil traces")
    g.add_argument("--neuropil", type=float, default=DFF_DEFAULTS["neuropil"],
                   help=f"neuropil coefficient (default {DFF_DEFAULTS['neuropil']:g})")
    g.add_argument("--baseline-window", type=float, default=DFF_DEFAULTS["baseline_window_s"],
                   help=f"running-percentile baseline window, seconds (default {DFF_DEFAULTS['baseline_window_s']:g})")
    g.add_argument("--baseline-percentile", type=float, default=DFF_DEFAULTS["baseline_percentile"],
                   help=f"baseline percentile (default {DFF_DEFAULTS['baseline_percentile']:g})")
    g.add_argument("--baseline-smoothing", type=float, default=DFF_DEFAULTS["baseline_smoothing_s"],
                   help="σ in seconds of the Gaussian smoothing the trace before its percentile is taken "
                        f"(default {DFF_DEFAULTS['baseline_smoothing_s']:g}; 0: none, as ens2zoo < 0.2)")
    g.add_argument("--all-rois", action="store_true", help="suite2p: every ROI, not only cells")
    g.add_argument("--min-cell-prob", type=float, metavar="P",
                   help="suite2p: ROIs with classifier probability ≥ P (instead of iscell's label)")
    g.add_argument("--series", help="NWB: the RoiResponseSeries to use where there are several")
    p.add_argument("--stride", type=int, default=1, help="window stride (1 = exact; larger = faster, approximate)")
    p.add_argument("--batch-size", type=int, help="windows per forward pass")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="evaluate windows with the torch.compile'd network (1.3–1.4× on the CPU, ~7 s to "
                        "compile per process; default: only for inputs of ≥ 1,000,000 windows)")
    p.add_argument("--nan", choices=("raise", "interpolate"), default="raise",
                   help="NaN/inf samples: refuse (default) or fill by linear interpolation")
    p.add_argument("--noise-level", type=float, metavar="NU",
                   help="route every neuron as if its noise level were NU %%·Hz^-1/2 (families only; "
                        "default: each neuron's measured ν)")
    p.add_argument("--indicator", metavar="NAME",
                   help="the recording's calcium indicator (e.g. gcamp8f, gcamp8m, gcamp8s for ens2-gcamp8): "
                        "scales the rate by the model's spike-count calibration for it (default: the model's "
                        "pooled gain)")
    p.add_argument("--spike-estimator", choices=SPIKE_ESTIMATORS,
                   help="how the rate becomes discrete spikes: greedy (ENS²'s published estimator; finds fewer "
                        "spikes than the rate sums to on noisy or slow recordings) or count (round(Σ rate) spikes "
                        "per neuron); default: the model's")
    p.add_argument("--plot", help="also write a PNG overview here (one input only)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")
    add_model_args(p)
    p.set_defaults(func=_cmd_predict)

    d = sub.add_parser("demo", help="simulate a recording, infer spikes, write results and a plot")
    d.add_argument("-o", "--output", default="demo_output", help="output folder (default: demo_output)")
    d.add_argument("--seed", type=int, default=0)
    add_model_args(d)
    d.set_defaults(func=_cmd_demo)

