"""A PNG overview of a prediction: ΔF/F, inferred rate and spikes (true spikes when known)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ens2zoo.inference.result import SpikeResult
from ens2zoo.utils.atomic import atomic_path


def plot_result(path: str | os.PathLike, traces: np.ndarray, result: SpikeResult, *,
                true_spikes: Sequence[np.ndarray] | None = None, max_neurons: int = 6,
                max_seconds: float | None = 60.0) -> Path:
    """Write a PNG with one panel per neuron (at most ``max_neurons``, first ``max_seconds`` s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    traces = np.atleast_2d(traces)
    n = min(result.n_neurons, max_neurons)
    t_in = (np.arange(traces.shape[1]) + 1) / result.frame_rate
    end = max_seconds or t_in[-1]
    fig, axes = plt.subplots(n, 1, figsize=(11, 2.2 * n), sharex=True, squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        keep = t_in <= end
        ax.plot(t_in[keep], traces[i, keep], color="0.35", lw=0.8, label="ΔF/F")
        ax.set_ylabel(f"neuron {i}\nΔF/F")
        ax2 = ax.twinx()
        keep60 = result.times <= end
        ax2.plot(result.times[keep60], result.rate[i, keep60] * result.sampling_rate, color="tab:blue",
                 lw=0.9, label="rate (Hz)")
        ax2.set_ylabel("rate (Hz)", color="tab:blue")
        top = ax.get_ylim()[1]
        if result.events:
            ev = result.events[i][result.events[i] <= end]
            ax.vlines(ev, top * 0.92, top, color="tab:red", lw=0.8, label="inferred spikes")
        if true_spikes is not None:
            tv = np.asarray(true_spikes[i])
            tv = tv[tv <= end]
            ax.vlines(tv, top * 0.82, top * 0.9, color="black", lw=0.8, label="true spikes")
        if i == 0:
            ax.legend(loc="upper left", fontsize=8, ncol=3)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(f"{result.model}: {result.n_neurons} neurons, {result.frame_rate:g} Hz input", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)
