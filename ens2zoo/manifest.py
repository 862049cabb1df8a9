"""Maintaining ``zoo_weights/manifest.json``: one record per zoo model.

A record holds the name, architecture, hyper-parameters, preprocessing,
weights file, sha256, training data and settings, and measured metrics.  The
weights' own safetensors header carries the same description, so a record can
be (re)built from the file alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetensors import safe_open

from ens2zoo.atomic import atomic_path
from ens2zoo.registry import MANIFEST_NAME, get_architecture, zoo_dir
from ens2zoo.weights import sha256_file


def weights_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON metadata stored in a safetensors file's header by :meth:`SpikeModel.save`."""
    with safe_open(str(path), framework="pt") as fh:
        return {k: json.loads(v) for k, v in (fh.metadata() or {}).items()}


def read_records(folder: Path | None = None) -> list[dict[str, Any]]:
    path = Path(folder or zoo_dir()) / MANIFEST_NAME
    return json.loads(path.read_text())["models"] if path.is_file() else []


def write_records(records: list[dict[str, Any]], folder: Path | None = None) -> Path:
    path = Path(folder or zoo_dir()) / MANIFEST_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"models": records}, indent=2, sort_keys=False) + "\n")
    return path


def upsert_record(name: str, *, weights: str | os.PathLike | None = None, description: str | None = None,
                  metrics: Mapping[str, Any] | None = None, folder: Path | None = None) -> dict[str, Any]:
    """Add or update zoo record ``name``; with ``weights``, copy its description and hash it."""
    folder = Path(folder or zoo_dir())
    records = read_records(folder)
    record = next((r for r in records if r["name"] == name), None)
    if record is None:
        record = {"name": name}
        records.append(record)
    if weights is not None:
        weights = Path(weights)
        meta = weights_metadata(weights)
        training = dict(meta.get("training", {}))
        defaults = get_architecture(meta["architecture"]).defaults()
        record.update({
            "architecture": meta["architecture"], "hparams": {**defaults, **meta.get("hparams", {})},
            "preprocessing": meta.get("preprocessing", {}),
            "weights": os.path.relpath(weights.resolve(), folder.resolve()),
            "sha256": sha256_file(weights),
            "training_data": training.pop("datasets", []),
            "provenance": {"training": training},
        })
    if description is not None:
        record["description"] = description
    if metrics is not None:
        record["metrics"] = {**record.get("metrics", {}), **metrics}
    write_records(sorted(records, key=lambda r: r["name"]), folder)
    return record
