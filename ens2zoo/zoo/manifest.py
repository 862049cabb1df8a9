"""The zoo manifest (``manifest.json``): reading AND writing, through one validation.

A record holds the name, architecture, hyper-parameters, preprocessing, weights
file, sha256, training data, the training recipe and its whole
``TrainingConfig`` (under ``provenance.training``), and measured metrics.  A
*family* record has no weights of its own but ``members``, each with its weights,
sha256, the ν range it serves (``noise_range``, %·Hz^-1/2) and the frame-rate and ν
ranges it was trained on.  The weights' own safetensors header carries the same
description, so a record can be (re)built from the file alone
(:func:`upsert_record`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ens2zoo.errors import RegistryError
from ens2zoo.utils.atomic import atomic_path
from ens2zoo.utils.files import safetensors_metadata, sha256_file
from ens2zoo.zoo.entries import FamilyMember, ModelEntry, Preprocessing, zoo_dir

MANIFEST_NAME = "manifest.json"
_REQUIRED = ("name", "architecture")
_MEMBER_FIELDS = set(FamilyMember.__dataclass_fields__)


def entry_from_record(record: Mapping[str, Any], *, base_dir: Path, source: str = "ens2zoo") -> ModelEntry:
    """Validate one manifest record and build its :class:`ModelEntry` (the one validation).

    Raises:
        RegistryError: a required field is missing, a family member is malformed, or a
            single model lacks its sha256.
    """
    record = dict(record)
    missing = [k for k in _REQUIRED if not record.get(k)]
    if missing:
        raise RegistryError(f"manifest record {record.get('name', '?')!r} lacks {', '.join(missing)}")
    members = []
    for m in record.pop("members", []) or []:
        unknown = set(m) - _MEMBER_FIELDS
        if unknown or not m.get("weights") or not m.get("sha256") or not m.get("name"):
            raise RegistryError(f"manifest record {record['name']!r}: member {m.get('name', '?')!r} needs name, "
                                f"weights and sha256 and knows only {sorted(_MEMBER_FIELDS)} (got {sorted(m)})")
        members.append(FamilyMember(**m))
    if record.get("weights") and not record.get("sha256"):
        raise RegistryError(f"manifest record {record['name']!r} has weights but no sha256")
    pre = Preprocessing(**record.pop("preprocessing", {}) or {})
    known = set(ModelEntry.__dataclass_fields__) - {"source", "base_dir"}
    extra = {k: record.pop(k) for k in list(record) if k not in known}
    provenance = dict(record.pop("provenance", {}) or {}, **extra)
    return ModelEntry(preprocessing=pre, provenance=provenance, members=tuple(members), base_dir=str(base_dir),
                      source=source, **record)


def read_records(folder: Path | None = None) -> list[dict[str, Any]]:
    """The raw records of ``folder/manifest.json`` (``[]`` if absent)."""
    path = Path(folder or zoo_dir()) / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        records = json.loads(path.read_text())["models"]
        if not isinstance(records, list):
            raise TypeError("'models' is not a list")
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path} is not a valid zoo manifest ({exc}); restore it from git") from exc
    return records


def read_manifest(folder: Path | None = None, *, source: str = "ens2zoo") -> list[ModelEntry]:
    """Zoo entries described by ``folder/manifest.json`` (none if the file is absent)."""
    folder = Path(folder or zoo_dir())
    return [entry_from_record(r, base_dir=folder, source=source) for r in read_records(folder)]


def write_records(records: list[dict[str, Any]], folder: Path | None = None) -> Path:
    """Validate every record, then write the manifest atomically (sorted by name)."""
    folder = Path(folder or zoo_dir())
    for r in records:
        entry_from_record(r, base_dir=folder)
    path = folder / MANIFEST_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"models": sorted(records, key=lambda r: r["name"])}, indent=2) + "\n")
    return path


def record_from_weights(weights: str | os.PathLike, folder: Path) -> dict[str, Any]:
    """Manifest fields described by a weights file's header (written by ``SpikeModel.save``)."""
    weights = Path(weights)
    meta = safetensors_metadata(weights)
    if "architecture" not in meta:
        raise RegistryError(f"{weights} carries no ens2zoo description (architecture) in its header; "
                            "save it with SpikeModel.save or `ens2zoo train`")
    training = dict(meta.get("training", {}))
    record = {
        "architecture": meta["architecture"], "hparams": meta.get("hparams", {}),
        "preprocessing": meta.get("preprocessing", {}),
        "weights": os.path.relpath(weights.resolve(), folder.resolve()),
        "sha256": sha256_file(weights),
        "training_data": training.pop("datasets", []),
        "provenance": {"training": training},
    }
    recipe = meta.get("recipe")
    if isinstance(recipe, dict):
        record["recipe"] = recipe.get("name")
        record["provenance"]["recipe"] = recipe
    return record


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
        record.update(record_from_weights(weights, folder))
    if description is not None:
        record["description"] = description
    if metrics is not None:
        record["metrics"] = {**record.get("metrics", {}), **metrics}
    write_records(records, folder)
    return record
