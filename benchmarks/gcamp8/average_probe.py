"""Probe: does averaging networks of different recipes help (an ensemble across designs)?

    .venv/bin/python benchmarks/gcamp8/average_probe.py nm,nm9 [--fold M1]

Each name is a model trained on the fold's GCaMP8 training mice: ``nm``, ``nm9``, ``nm30`` and ``nm7`` the fold's
``folds/<FOLD>/ens2-gcamp8-<name>.safetensors`` (3-network ensembles since session 16: averaging both
averages all six networks), any other name a candidate of ``candidates.sh``
(``candidates/<FOLD>/<name>.safetensors``).  Every network they hold becomes one
:class:`~ens2zoo.architectures.ensemble.Ensemble` (each network weighs the same; its rate is the per-frame
mean of the networks' rates, and its spikes are read off that rate), scored on the fold's held-out mice
at 30:4, 30:8 and 7.5:4 like ``ens2zoo evaluate`` (stride 4), into
``candidates/<FOLD>/avg-<names>_conditions.csv``.  ``nm`` alone reproduces the fold family's rows at
these conditions (every recording there has ν ≥ 1.5), which checks the probe.  ``--ensemble`` trains
networks of one recipe; this probe mixes recipes, for the design of a later session; not a zoo
mechanism."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import ens2zoo
from ens2zoo.architectures.ensemble import Ensemble
from ens2zoo.benchmark.conditions import evaluate_conditions, write_condition_csv
from ens2zoo.data import selected_datasets
from ens2zoo.data.groups import get_fold
from ens2zoo.model import SpikeModel

HERE = Path(__file__).resolve().parent


def weights(fold: str, name: str) -> Path:
    if name in ("nm", "nm9", "nm30", "nm7"):
        return HERE / "folds" / fold / f"ens2-gcamp8-{name}.safetensors"
    return HERE / "candidates" / fold / f"{name}.safetensors"


def averaged(paths: list[Path], name: str) -> SpikeModel:
    """One model whose network is the mean of every network in ``paths``' weights (ensembles opened up)."""
    models = [ens2zoo.create("unet", weights=p) for p in paths]
    nets = [net for m in models for net in (m.net.nets if isinstance(m.net, Ensemble) else [m.net])]
    if len(nets) == 1:
        return models[0]
    return SpikeModel(Ensemble(nets), architecture="unet", hparams=models[0].hparams,
                      preprocessing=models[0].preprocessing, name=name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", help="comma-separated networks to average (nm, nm9, nm30, nm7, or candidate names)")
    p.add_argument("--fold", default="M1")
    p.add_argument("--data", default="../shared/ground_truth")
    args = p.parse_args()
    torch.set_num_threads(1)
    names = args.names.split(",")
    model = averaged([weights(args.fold, n) for n in names], "avg-" + "+".join(names))
    datasets = selected_datasets(args.data, get_fold(args.fold).held_out)
    rows = evaluate_conditions(model, datasets, "30:4,30:8,7.5:4", stride=4, progress=False)
    out = HERE / "candidates" / args.fold / f"avg-{'+'.join(names)}_conditions.csv"
    write_condition_csv(out, rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
