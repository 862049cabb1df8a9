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
from collections.abc import Mapping, Sequence
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
        described = record_from_weights(weights, folder)
        refuse_overrides(described, folder)
        record.update(described)
    if description is not None:
        record["description"] = description
    if metrics is not None:
        record["metrics"] = {**record.get("metrics", {}), **metrics}
    write_records(records, folder)
    return record


def refuse_overrides(record: Mapping[str, Any], folder: Path) -> None:
    """Refuse to register weights trained with a capped recipe (``--max-iter`` on ``--recipe``) in the zoo."""
    overrides = record.get("provenance", {}).get("recipe", {}).get("overrides")
    if overrides and Path(folder).resolve() == zoo_dir().resolve():
        raise RegistryError(f"{record.get('weights')} was trained with recipe {record.get('recipe')!r} changed by "
                            f"{overrides} (a smoke test): the zoo takes only weights trained with the recipe as "
                            "named; retrain without --max-iter")


def write_family(folder: str | os.PathLike, name: str, members: list[dict[str, Any]], *,
                 description: str = "", metrics: Mapping[str, Any] | None = None,
                 flat_guard: bool = True, provenance: Mapping[str, Any] | None = None,
                 indicators: tuple[str, ...] = (), spike_estimator: str = "greedy") -> dict[str, Any]:
    """Write a model family into ``folder``: the members' weights copied in, its record added to the manifest.

    Args:
        folder: the family's folder (created); ``ens2zoo.load_folder(folder)`` loads it.
        name: the family's name.
        members: one dict per member with ``name``, ``weights`` (a file written by
            ``SpikeModel.save``), ``noise_range`` ([low, high) ν it serves, %·Hz^-1/2, ``None`` = open),
            optionally ``frame_rate_range`` ([low, high) Hz it serves; default every rate)
            and optionally ``trained_frame_rates``/``trained_noise_levels`` and ``recipe`` (for
            weights that predate recipes; otherwise read from the weights).  All members must share
            the architecture, hyper-parameters and preprocessing.
        flat_guard: silence flat input stretches (see ``ens2zoo.inference.silence``); on for the zoo.
        provenance: more provenance for the family record (e.g. its family recipe).
        indicators: the indicators of the training data (:func:`~ens2zoo.zoo.entries.indicator_key`).
        spike_estimator: the family's default discrete spike estimator
            (:attr:`~ens2zoo.zoo.entries.Preprocessing.spike_estimator`).

    A count calibration already recorded for the same members (same names and sha256) is kept:
    it belongs to those weights (:func:`set_count_calibration`).

    Returns:
        The record written.

    Raises:
        RegistryError: members differ in architecture or preprocessing, or (in the zoo's folder) a
            member was trained with a capped recipe.
    """
    import shutil

    Preprocessing(spike_estimator=spike_estimator)  # refuses an unknown estimator before anything is written
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    described = []
    for m in members:
        target = folder / f"{m['name']}.safetensors"
        if Path(m["weights"]).resolve() != target.resolve():
            with atomic_path(target) as tmp:
                shutil.copyfile(m["weights"], tmp)
        described.append((m, record_from_weights(target, folder)))
        refuse_overrides(described[-1][1], folder)
    def shape(rec: dict) -> tuple:  # hparams missing from older headers are the architecture's defaults
        pre = {k: v for k, v in rec["preprocessing"].items() if k not in ("flat_guard", "spike_estimator")}
        return rec["architecture"], pre

    first = max((rec for _, rec in described), key=lambda rec: len(rec["hparams"]))
    for m, rec in described:
        clash = any(first["hparams"].get(k) != v for k, v in rec["hparams"].items())
        if shape(rec) != shape(first) or clash:
            raise RegistryError(f"family {name!r}: member {m['name']!r} differs from {described[0][0]['name']!r} "
                                "in architecture, hyper-parameters or preprocessing")
    record = {
        "name": name, "architecture": first["architecture"], "hparams": first["hparams"],
        "preprocessing": {**first["preprocessing"], "flat_guard": flat_guard,
                          **({"spike_estimator": spike_estimator} if spike_estimator != "greedy" else {})},
        "description": description,
        "training_data": sorted({d for _, rec in described for d in rec["training_data"]}),
        "members": [{"name": m["name"], "weights": rec["weights"], "sha256": rec["sha256"],
                     "noise_range": list(m["noise_range"]),
                     **({"frame_rate_range": list(m["frame_rate_range"])}
                        if tuple(m.get("frame_rate_range") or (None, None)) != (None, None) else {}),
                     "recipe": rec.get("recipe") or m.get("recipe"),
                     **{k: list(m[k]) for k in ("trained_frame_rates", "trained_noise_levels") if m.get(k)}}
                    for m, rec in described],
        "provenance": {"members": {m["name"]: rec["provenance"] for m, rec in described}, **(provenance or {})},
        "metrics": dict(metrics or {}),
        **({"indicators": list(indicators)} if indicators else {}),
    }
    records = read_records(folder)
    old = next((r for r in records if r.get("name") == name), {})
    if old.get("count_calibration") and _member_hashes(old) == _member_hashes(record):
        record["count_calibration"] = old["count_calibration"]
        if old.get("count_noise_curve"):
            record["count_noise_curve"] = old["count_noise_curve"]
        record["provenance"]["count_calibration"] = old.get("provenance", {}).get("count_calibration")
    write_records([*(r for r in records if r.get("name") != name), record], folder)
    return record


def _member_hashes(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(m.get("name"), m.get("sha256")) for m in record.get("members", [])]


def set_count_calibration(folder: str | os.PathLike, name: str, gains: Mapping[str, float], note: str,
                          noise_curve: Sequence[tuple[float, float]] = ()) -> dict:
    """Record model ``name``'s count calibration in ``folder``'s manifest (atomically).

    Args:
        gains: gain on the rate per indicator key, ``"default"`` for none given
            (:attr:`~ens2zoo.zoo.entries.ModelEntry.count_calibration`).
        note: how they were fitted (which held-out rows), kept under ``provenance.count_calibration``.
        noise_curve: ``(ν, factor)`` knots of the gain's dependence on ν
            (:attr:`~ens2zoo.zoo.entries.ModelEntry.count_noise_curve`); empty = none (an old curve is removed).
    """
    folder = Path(folder)
    records = read_records(folder)
    record = next((r for r in records if r.get("name") == name), None)
    if record is None:
        raise RegistryError(f"{folder / MANIFEST_NAME} has no model {name!r} to calibrate")
    record["count_calibration"] = dict(gains)
    record.pop("count_noise_curve", None)
    if noise_curve:
        record["count_noise_curve"] = [[float(nu), float(f)] for nu, f in noise_curve]
    record.setdefault("provenance", {})["count_calibration"] = note
    write_records(records, folder)
    return record
