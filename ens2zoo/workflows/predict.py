"""One input predicted and written: what ``ens2zoo predict`` runs for each output, in this process
(:mod:`ens2zoo.cli.inference`) or as a Dask task (:mod:`ens2zoo.cluster`).

:func:`predict_input` warns about the input (naming the ROIs outside the model's range), predicts,
puts the result on the input's clock (an NWB series' start time; :mod:`ens2zoo.inference.clock`),
and writes it atomically — ``.npz``/``.mat``/``.h5`` (:func:`ens2zoo.io.formats.write_results`), or
``.nwb`` for an NWB input (:func:`ens2zoo.io.nwb.write_nwb`) — with the model's identity
(:func:`model_metadata`); it returns what the summary prints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ens2zoo.errors import InputError
from ens2zoo.inference.result import SpikeResult
from ens2zoo.io.formats import write_results
from ens2zoo.io.inputs import PreparedInput
from ens2zoo.io.plausibility import input_warnings, spike_shortfall
from ens2zoo.model import SpikeModel
from ens2zoo.utils.files import sha256_file
from ens2zoo.workflows.cascade_folder import folder_metadata
from ens2zoo.zoo.entries import zoo_dir
from ens2zoo.zoo.manifest import MANIFEST_NAME

__all__ = ["Predicted", "model_metadata", "predict_input"]


@dataclass(frozen=True)
class Predicted:
    """What :func:`predict_input` did.

    Attributes:
        result: the prediction, on the input's clock.
        output: the file written.
        seconds: time spent in ``predict`` (s).
        label: the input's name in messages.
        roi_index: each row's ROI number (suite2p, NWB), else None.
    """

    result: SpikeResult
    output: Path
    seconds: float
    label: str
    roi_index: np.ndarray | None

    @property
    def spikes(self) -> int:
        """Spikes found in all neurons."""
        return sum(len(e) for e in self.result.events)


def model_metadata(model: SpikeModel) -> dict[str, Any]:
    """The model's identity for a result's metadata.

    A single network's ``sha256`` is its weights' (set by ``predict`` already); a family's is the
    sha256 of the ``manifest.json`` that describes it, with ``members`` listing each member's name
    and weights sha256; a CASCADE folder adds ``model_folder``.
    """
    meta: dict[str, Any] = dict(folder_metadata(model))
    if model.members:
        entry = model.entry
        manifest = Path(entry.base_dir or zoo_dir()) / MANIFEST_NAME if entry is not None else None
        if manifest is not None and manifest.is_file():
            meta["sha256"] = sha256_file(manifest)
        meta["members"] = [{"name": m.record.name, "sha256": m.record.sha256} for m in model.members]
    return meta


def predict_input(item: PreparedInput, model: SpikeModel, output: str | Path, *,
                  predict: Mapping[str, Any] | None = None, plot: str | Path | None = None) -> Predicted:
    """Warn, predict ``item`` with ``model`` and write the result to ``output`` atomically.

    Args:
        item: one input (:func:`ens2zoo.io.inputs.prepare_inputs`).
        model: the model.
        output: ``.npz``, ``.mat``, ``.h5``, or ``.nwb`` (NWB input only).
        predict: options of :meth:`SpikeModel.predict` (``stride``, ``batch_size``, ``nan``, …).
        plot: also draw an overview figure here.

    Raises :class:`InputError` for an input the model refuses; nothing is written then.
    """
    from ens2zoo.io.nwb import write_nwb

    output = Path(output)
    nwb_out = output.suffix.lower() == ".nwb"
    if nwb_out and item.nwb is None:
        raise InputError(f"-o {output}: NWB output needs an NWB input (its session and ROI table); "
                         "write .npz, .mat or .h5 for this input")
    input_warnings(item.dff, item.frame_rate, model, roi_index=item.roi_index)
    start = time.perf_counter()
    result = model.predict(item.dff, item.frame_rate, **dict(predict or {}))
    seconds = time.perf_counter() - start
    if (predict or {}).get("spike_estimator") is None:  # the model's default, not the user's choice
        spike_shortfall(result, roi_index=item.roi_index)
    result = result.with_start_time(item.start_time)
    metadata = {**model_metadata(model), **item.metadata}
    if nwb_out:
        write_nwb(output, result, item.nwb, rows=item.rows, metadata=metadata)
    else:
        write_results(output, result, metadata, traces=item.dff, roi_index=item.roi_index)
    if plot:
        from ens2zoo.plotting import plot_result

        plot_result(plot, item.dff, result, roi_index=item.roi_index)
    return Predicted(result=result, output=output, seconds=seconds, label=item.label, roi_index=item.roi_index)
