"""CASCADE's own ``cascade.predict`` (CascadeTorch) against ens2zoo on the same model folder, in one run.

Input: 100 simulated neurons × 10 minutes at 30 Hz (GCaMP6f-like ΔF/F from ``ens2zoo.simulate``, with
white noise added so that ν spans about 1–10 and every noise level of the model is used); the model
folder ``$ENS2ZOO_SHARED/cascade_reference/Global_EXC_30Hz_smoothing25ms``.  Both run on one torch
thread; CASCADE's ``predict`` is imported from ``$ENS2ZOO_SHARED/cascade_reference/cascade2p`` (needs
``ruamel.yaml``), never copied.  Both benchmarks compute rates only (CASCADE's ``predict`` has no
discrete spikes); the ens2zoo one is checked equal to CASCADE's (1e-5 of the largest rate, wherever
CASCADE's is finite).

    .venv/bin/python -m pytest benchmarks/speed/test_bench_cascade.py --benchmark-enable -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np
import pytest
import torch

import ens2zoo
from ens2zoo.inference.noise import white_noise_sigma
from ens2zoo.simulate import simulate_recording

FRAME_RATE = 30.0
NEURONS = 100
MODEL = "Global_EXC_30Hz_smoothing25ms"
GROUP = "CASCADE folder: 100 neurons × 10 min at 30 Hz, 1 thread"


@pytest.fixture(scope="module")
def reference(reference_dir):
    path = reference_dir.parent / "cascade_reference"     # beside ens2_reference in $ENS2ZOO_SHARED
    if not path.is_dir():
        pytest.skip(f"{path} is absent: CASCADE's model folder and package live there")
    return path


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def traces():
    dff = simulate_recording(n_neurons=NEURONS, duration_s=600.0, frame_rate=FRAME_RATE, seed=1).dff
    rng = np.random.default_rng(1)
    target = np.linspace(1.0, 10.0, NEURONS)
    noise = np.array([white_noise_sigma(nu, FRAME_RATE) for nu in target])[:, None]
    return (dff + noise * rng.standard_normal(dff.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def cascade_predict(reference):
    sys.path.insert(0, str(reference))
    try:
        from cascade2p import cascade
    finally:
        sys.path.remove(str(reference))

    def run(traces: np.ndarray) -> np.ndarray:
        with contextlib.redirect_stdout(io.StringIO()):   # it prints one line even with verbosity=0
            return cascade.predict(MODEL, traces, model_folder=str(reference), verbosity=0,
                                   device=torch.device("cpu"))
    return run


#: CASCADE's output, kept by its benchmark (one round: it takes minutes) for the comparison
_outputs: dict[str, np.ndarray] = {}


@pytest.fixture(scope="module")
def cascade_output(cascade_predict, traces):
    if "cascade" not in _outputs:
        _outputs["cascade"] = cascade_predict(traces)
    return _outputs["cascade"]


@pytest.mark.benchmark(group=GROUP)
def test_cascade_own_predict(benchmark, cascade_predict, traces):
    _outputs["cascade"] = benchmark.pedantic(lambda: cascade_predict(traces), rounds=1, warmup_rounds=0)
    assert np.isnan(_outputs["cascade"]).sum() == NEURONS * 64   # NaN for 32 frames at each end


@pytest.mark.benchmark(group=GROUP)
def test_ens2zoo_load_folder(benchmark, reference, traces, cascade_output):
    model = ens2zoo.load_folder(reference / MODEL)
    result = benchmark.pedantic(lambda: model.predict(traces, FRAME_RATE, spikes=False, progress=False),
                                rounds=3, warmup_rounds=1)
    finite = np.isfinite(cascade_output)
    scale = np.abs(cascade_output[finite]).max()
    assert np.abs(result.rate - cascade_output)[finite].max() <= 1e-5 * scale
    assert len(set(result.member)) == 8      # every noise level served


#: ens2-exc's read-outs on the first neurons of the same input (exact mode needs minutes per 10 neurons on one
#: thread); compare neuron-hours per second: 10 min per neuron
ENS2_NEURONS = 10


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize(("name", "stride"), [("ens2-exc", 1), ("ens2-exc", 4), ("ens2-exc-fast", 1)],
                         ids=["ens2-exc-exact-10-neurons", "ens2-exc-stride4-10-neurons", "ens2-exc-fast-10-neurons"])
def test_ens2zoo_zoo_models(benchmark, traces, name, stride):
    model = ens2zoo.load(name)
    kwargs = {} if model.readout == "whole-trace" else {"stride": stride}
    result = benchmark.pedantic(lambda: model.predict(traces[:ENS2_NEURONS], FRAME_RATE, progress=False, **kwargs),
                                rounds=1, warmup_rounds=0)
    assert result.rate.shape == (ENS2_NEURONS, 2 * traces.shape[1])
