"""A small, documented simulator of calcium-imaging recordings (for the demo and tests).

Spikes are drawn as a Poisson process (optionally bursty: each event is a
burst of 1 + Poisson(mean_burst − 1) spikes a few ms apart).  Each spike adds a
double-exponential indicator transient

    ΔF/F(t) += amplitude · (exp(−t/τ_decay) − exp(−t/τ_rise)) / peak,   t ≥ 0,

normalised so one spike peaks at ``amplitude``.  Gaussian noise of standard
deviation ``noise`` (ΔF/F units) is added per frame.  Defaults resemble GCaMP6f
at 30 Hz: τ_rise = 50 ms, τ_decay = 400 ms, 0.15 ΔF/F per spike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedRecording:
    """ΔF/F (neurons × frames) at ``frame_rate`` Hz with the true spike times (seconds)."""

    dff: np.ndarray
    frame_rate: float
    spike_times: list[np.ndarray]
    params: dict


def simulate_recording(n_neurons: int = 5, duration_s: float = 120.0, frame_rate: float = 30.0, *,
                       firing_rate: float = 1.0, mean_burst: float = 1.5, tau_rise: float = 0.05,
                       tau_decay: float = 0.4, amplitude: float = 0.15, noise: float = 0.02,
                       seed: int = 0) -> SimulatedRecording:
    """Simulate ``n_neurons`` ΔF/F traces.

    Args:
        firing_rate: burst onsets per second (Hz) for each neuron.
        mean_burst: mean spikes per burst (1 = plain Poisson).
        tau_rise, tau_decay: indicator rise and decay time constants, seconds.
        amplitude: ΔF/F peak of one spike's transient.
        noise: standard deviation of the additive Gaussian noise, ΔF/F.
    """
    if tau_rise <= 0 or tau_decay <= tau_rise:
        raise ValueError("need 0 < tau_rise < tau_decay")
    rng = np.random.default_rng(seed)
    n_frames = round(duration_s * frame_rate)
    frame_times = np.arange(1, n_frames + 1) / frame_rate
    t_peak = np.log(tau_decay / tau_rise) * tau_rise * tau_decay / (tau_decay - tau_rise)
    peak = np.exp(-t_peak / tau_decay) - np.exp(-t_peak / tau_rise)
    dff = np.empty((n_neurons, n_frames))
    trains = []
    for i in range(n_neurons):
        onsets = np.sort(rng.uniform(0, duration_s, rng.poisson(firing_rate * duration_s)))
        sizes = 1 + rng.poisson(max(mean_burst - 1.0, 0.0), onsets.size)
        bursts = [t + 0.008 * np.arange(k) for t, k in zip(onsets, sizes)]
        spikes = np.concatenate(bursts) if bursts else np.zeros(0)
        spikes = np.sort(spikes[spikes < duration_s])
        lag = frame_times[None, :] - spikes[:, None]
        after = np.clip(lag, 0, None)
        kernel = np.where(lag >= 0, np.exp(-after / tau_decay) - np.exp(-after / tau_rise), 0.0)
        dff[i] = amplitude / peak * kernel.sum(axis=0) + rng.normal(0, noise, n_frames)
        trains.append(spikes)
    params = dict(n_neurons=n_neurons, duration_s=duration_s, frame_rate=frame_rate, firing_rate=firing_rate,
                  mean_burst=mean_burst, tau_rise=tau_rise, tau_decay=tau_decay, amplitude=amplitude,
                  noise=noise, seed=seed)
    return SimulatedRecording(dff=dff, frame_rate=frame_rate, spike_times=trains, params=params)
