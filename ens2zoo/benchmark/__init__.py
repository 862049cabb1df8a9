"""Benchmarking: evaluation as published, the LODO runner and the published table."""
