"""Inference: trace checks and resampling, windows (the one engine), spikes, noise level, result."""
