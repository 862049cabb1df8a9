"""Model samples summed per input frame, frame by frame, for every way a user reads them:
``SpikeResult.to_frame_rate()``, the saved ``rate_input``/``spikes_input`` and the NWB writer.

Input frame f gets the samples j with j·fs/60 in [f, f + 1) (``ens2zoo.inference.clock``).  The
reference below is the obvious slow loop in exact rational arithmetic, independent of the code.
"""

from __future__ import annotations

import datetime
from fractions import Fraction

import numpy as np
import pytest

from ens2zoo import SpikeResult
from ens2zoo.inference.clock import TIME_CONVENTION, frame_sums, sample_frames, sample_times
from ens2zoo.inference.traces import resampled_length
from ens2zoo.io.formats import write_results

RATES = [7.5, 10.0, 15.0, 30.0, 60.0, 9.7]
SECONDS = 20.6  # 9.7 Hz: 200 frames, 1,237 samples — a ratio and a length that do not divide


def _result(fs: float) -> SpikeResult:
    """Row 0 a constant, row 1 a ramp, in rate and in spike counts."""
    n_frames = round(SECONDS * fs)
    t = resampled_length(n_frames, fs, 60.0)
    j = np.arange(t)
    rate = np.stack([np.full(t, 0.25), 0.001 * j]).astype(np.float32)
    spikes = np.stack([np.ones(t), j // 50]).astype(np.int32)
    return SpikeResult(rate=rate, spikes=spikes, events=[np.repeat(j / 60, c) for c in spikes], sampling_rate=60.0,
                       frame_rate=fs, n_input_frames=n_frames)


def _reference(values: np.ndarray, fs: float, n_frames: int) -> np.ndarray:
    """Σ values[j] over j with f ≤ j·fs/60 < f + 1: walk the samples in exact fractions, frame by frame."""
    ratio = Fraction(str(fs)) / 60
    out = np.zeros((values.shape[0], n_frames))
    f = 0
    for j in range(values.shape[1]):
        while j * ratio >= f + 1:
            f += 1
        assert f <= j * ratio < f + 1
        out[:, f] += values[:, j]
    return out


def _via_result(result: SpikeResult, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    return result.to_frame_rate()


def _via_saved(result: SpikeResult, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    path = write_results(tmp_path / "r.ens2zoo.npz", result, {"input": "test"})
    with np.load(path) as f:
        assert str(f["time_convention"]) == TIME_CONVENTION and float(f["start_time"]) == 0.0
        return f["rate_input"], f["spikes_input"]


def _via_nwb(result: SpikeResult, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """Write an NWB source of the result's frames (starting at 5 s), then the result beside it."""
    pynwb = pytest.importorskip("pynwb")
    from ens2zoo.io.nwb import read_nwb, write_nwb

    src = tmp_path / "s.nwb"
    nwb = pynwb.NWBFile(session_description="frame sums", identifier="x",
                        session_start_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    ophys = nwb.create_processing_module(name="ophys", description="ophys")
    device = nwb.create_device(name="scope")
    channel = pynwb.ophys.OpticalChannel(name="green", description="g", emission_lambda=510.0)
    plane = nwb.create_imaging_plane(name="plane0", optical_channel=channel, description="p", device=device,
                                     excitation_lambda=920.0, indicator="GCaMP6f", location="V1",
                                     imaging_rate=result.frame_rate)
    seg = pynwb.ophys.ImageSegmentation()
    ophys.add(seg)
    table = seg.create_plane_segmentation(name="PlaneSegmentation", description="ROIs", imaging_plane=plane)
    for _ in range(2):
        table.add_roi(image_mask=np.ones((2, 2)))
    container = pynwb.ophys.DfOverF(name="DfOverF")
    ophys.add(container)
    container.create_roi_response_series(name="dff", data=np.zeros((result.n_input_frames, 2)), unit="n.a.",
                                         rois=table.create_roi_table_region(region=[0, 1], description="both"),
                                         rate=result.frame_rate, starting_time=5.0)
    with pynwb.NWBHDF5IO(str(src), "w") as io:
        io.write(nwb)
    out = write_nwb(tmp_path / "out.nwb", result, read_nwb(src))
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        module = io.read().processing["spike_inference"]
        rate = module["InferredRate"]["inferred_rate"]
        assert rate.starting_time == 5.0 and rate.rate == result.frame_rate
        spikes_table = module["spike_times"]
        for i in range(2):  # session time: sample j at 5 s + j/60
            np.testing.assert_allclose(spikes_table["spike_times"][i], np.asarray(result.events[i]) + 5.0)
        return (np.asarray(rate.data[:]).T,
                np.asarray(module["InferredSpikes"]["inferred_spike_counts"].data[:]).T)


@pytest.mark.parametrize("view", [_via_result, _via_saved, _via_nwb], ids=["to_frame_rate", "saved", "nwb"])
@pytest.mark.parametrize("fs", RATES)
def test_every_frame_gets_its_own_samples(tmp_path, view, fs):
    result = _result(fs)
    rate, spikes = view(result, tmp_path)
    n = result.n_input_frames
    assert rate.shape == spikes.shape == (2, n)
    np.testing.assert_allclose(rate, _reference(result.rate, fs, n), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(spikes, _reference(result.spikes, fs, n))
    per_frame = spikes[0]  # the constant 1 per sample: how many samples each frame got
    share = 60.0 / fs
    if share == int(share):  # equal shares, and the ramp frame by frame by hand: Σ_{j=kf}^{kf+k-1} j
        k = int(share)
        assert (per_frame == k).all()
        f = np.arange(n)
        np.testing.assert_allclose(rate[1], 0.001 * (k * k * f + k * (k - 1) / 2), rtol=1e-5, atol=1e-6)
    else:  # at most one sample apart: 6 or 7 at 9.7 Hz
        assert set(per_frame.tolist()) == {int(share), int(share) + 1}
    np.testing.assert_array_equal(spikes.sum(axis=1), result.spikes.sum(axis=1))


def test_sample_frames_by_hand():
    assert sample_frames(8, 30.0, 60.0).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert sample_frames(17, 7.5, 60.0).tolist() == [0] * 8 + [1] * 8 + [2]
    assert sample_frames(4, 60.0, 60.0).tolist() == [0, 1, 2, 3]
    assert sample_frames(4, 120.0, 60.0).tolist() == [0, 2, 4, 6]  # faster input: odd frames get no sample
    # 9.7 Hz: sample j's frame is floor(97 j / 600); frame 97 starts exactly at sample 600
    frames = sample_frames(1237, 9.7, 60.0)
    assert frames[599] == 96 and frames[600] == 97
    np.testing.assert_array_equal(frames, [(97 * j) // 600 for j in range(1237)])


def test_frame_sums_refuses_samples_past_the_last_frame():
    from ens2zoo.errors import InputError

    with pytest.raises(InputError, match="reach past 3 frames"):
        frame_sums(np.ones((1, 8)), 3, 30.0, 60.0)


def test_sample_times_start_at_zero():
    np.testing.assert_allclose(sample_times(4, 60.0), [0, 1 / 60, 2 / 60, 3 / 60])
    np.testing.assert_allclose(sample_times(2, 60.0, 5.0), [5.0, 5 + 1 / 60])
