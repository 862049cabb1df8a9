"""Two figures of RESULTS.md section 8, reproducible:

    ENS2ZOO_SHARED=../shared .venv/bin/python benchmarks/conditions/ds01_checks.py

1. an ensemble (mean of the outputs of ``ens2-exc-v1`` and ``ens2-exc-nm``) against each
   network alone on DS01's recordings as they are (median corr % and ER50 %, stride 4);
2. how many samples of the ground truth's 60 Hz traces the silence guard would mark flat.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

import ens2zoo
from ens2zoo.benchmark.evaluation import evaluate_model
from ens2zoo.data import find_datasets, load_dataset
from ens2zoo.inference.silence import flat_frames


class Mean(nn.Module):
    """The mean of several networks' window outputs (overlap-add is linear: the mean of their rates)."""

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(net(x) for net in self.nets) / len(self.nets)


def main() -> None:
    root = Path(os.environ.get("ENS2ZOO_SHARED", "../shared")) / "ground_truth"
    v1 = ens2zoo.load("ens2-exc-v1")
    nm = ens2zoo.create("unet", weights=v1.entry.resolve("ens2-exc-nm.safetensors"))
    ensemble = ens2zoo.create("unet")
    ensemble.net = Mean([v1.net, nm.net])
    ds01 = [load_dataset(f) for f in find_datasets(root, "DS01*")]
    for label, model in (("ens2-exc-v1", v1), ("ens2-exc-nm", nm), ("mean of both", ensemble)):
        rows = evaluate_model(model, ds01, stride=4)
        print(f"DS01 {label}: corr {np.median([r['corr'] for r in rows]):.1f} %, "
              f"ER50 {np.median([r['er50'] for r in rows]):.1f} %")
    flat = total = 0
    for folder in find_datasets(root, "*"):
        for neuron in load_dataset(folder).neurons:
            for rec in neuron.recordings:
                total += len(rec)
                flat += int(flat_frames(rec.trace, rec.sampling_rate).sum())
    print(f"silence guard: {flat} of {total} ground-truth samples marked flat")


if __name__ == "__main__":
    main()
