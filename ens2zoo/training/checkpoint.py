"""Atomic, pickle-free training checkpoints (safetensors + JSON metadata)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ens2zoo.errors import WeightsError
from ens2zoo.utils.files import safetensors_metadata
from ens2zoo.zoo.weights import read_state_dict, write_safetensors


@dataclass
class TrainingState:
    """Where a run stands: next iteration, best loss so far, iterations since it improved."""

    iteration: int = 0
    best_loss: float = float("inf")
    best_iteration: int = 0
    since_best: int = 0
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def save_checkpoint(path: str | os.PathLike, net: torch.nn.Module, best: dict[str, torch.Tensor],
                    optimizer: torch.optim.Optimizer, state: TrainingState, config: dict) -> None:
    """Write model, best model and Adam state with the run's progress, atomically."""
    tensors = {f"model.{k}": v for k, v in net.state_dict().items()}
    tensors.update({f"best.{k}": v for k, v in best.items()})
    opt = optimizer.state_dict()
    for pid, st in opt["state"].items():
        for k, v in st.items():
            tensors[f"optim.{pid}.{k}"] = v if isinstance(v, torch.Tensor) else torch.tensor(v)
    write_safetensors(tensors, path, {"state": asdict(state), "config": config,
                                      "param_groups": opt["param_groups"]})


def load_checkpoint(path: str | os.PathLike, net: torch.nn.Module,
                    optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], TrainingState, dict]:
    """Restore a checkpoint into ``net`` and ``optimizer``; returns (best state, progress, config)."""
    path = Path(path)
    tensors = read_state_dict(path)
    meta = safetensors_metadata(path)
    if "state" not in meta:
        raise WeightsError(f"{path} is not an ens2zoo training checkpoint (no progress metadata)")
    net.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    opt_state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, pid, name = k.split(".", 2)
            opt_state.setdefault(int(pid), {})[name] = v
    optimizer.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
    return best, TrainingState(**meta["state"]), meta.get("config", {})
