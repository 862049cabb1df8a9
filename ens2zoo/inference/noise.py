"""CASCADE's standardised noise level ν (Rupprecht et al. 2021).

ν = median(|Δ(ΔF/F)|) · 100 / √(frame rate), in %·Hz^-1/2, with ΔF/F as a fraction
(not in %) and the difference taken between consecutive frames at the recording's
own frame rate.  It is comparable across frame rates: white noise of standard
deviation σ (ΔF/F) gives ν ≈ 0.6745·√2·σ·100/√fr.  Guide (CASCADE): ~1 very good,
3–4 decent, > 5 poor.
"""

from __future__ import annotations

import warnings

import numpy as np

#: median(|a − b|) of two independent N(0, σ²) samples is this times σ (√2 · Φ⁻¹(3/4)).
WHITE_NOISE_MEDIAN_ABS_DIFF = float(np.sqrt(2.0) * 0.6744897501960817)


def noise_level(traces: np.ndarray, frame_rate: float) -> np.ndarray:
    """ν of each trace, %·Hz^-1/2 (NaN samples ignored; NaN for a trace with < 2 frames).

    Args:
        traces: ΔF/F, (frames,) or (neurons × frames).
        frame_rate: Hz of ``traces``.

    Returns:
        float64 array, one ν per neuron (a 0-d array for a 1-D input).
    """
    data = np.asarray(traces)
    if not np.issubdtype(data.dtype, np.floating):  # float32 input stays float32, as the published loader
        data = data.astype(np.float64)
    if data.shape[-1] < 2:
        return np.full(data.shape[:-1], np.nan)
    with np.errstate(all="ignore"):
        diffs = np.abs(np.diff(data, axis=-1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as documented
            median = np.nanmedian(diffs, axis=-1)
    # float32 medians are scaled as the published loader does: × 100 in float32, ÷ √fr in float64
    return np.asarray(median * 100 / np.sqrt(np.float64(frame_rate)), dtype=np.float64)


def white_noise_sigma(nu: float, frame_rate: float) -> float:
    """σ (ΔF/F) of white Gaussian noise whose ν at ``frame_rate`` Hz is ``nu`` %·Hz^-1/2."""
    return float(nu) * np.sqrt(float(frame_rate)) / 100.0 / WHITE_NOISE_MEDIAN_ABS_DIFF
