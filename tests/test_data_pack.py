"""The lossless ground-truth pack (``ens2zoo.data.pack``; benchmarks/gpu/export_data.py carries it to a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from ens2zoo.data.pack import check, decode, encode, pack, unpack
from ens2zoo.errors import InputError

from shared_data import DS03_FILES


@pytest.mark.parametrize("delta", [False, True])
@pytest.mark.parametrize("array", [
    np.arange(0.0, 12.5, 1 / 60.0).reshape(1, -1),                     # time stamps, nearly evenly spaced
    np.array([[0.25, np.nan, -np.inf, 1e-300, -0.0, 5e300]]),           # values that must survive bit for bit
    np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    np.zeros((0, 0)),
])
def test_encode_decode_is_bit_exact(array, delta):
    encoded = encode(array, delta)
    assert encoded.dtype == np.uint8 and encoded.size == array.nbytes
    decoded = decode(encoded, array.dtype, array.shape, delta)
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    assert decoded.tobytes() == array.tobytes()


def test_pack_unpack_rebuilds_every_neuron(tmp_path, ground_truth_dir):
    data = tmp_path / "shared" / "ground_truth"
    (data / "DS03-x").mkdir(parents=True)
    source = next(ground_truth_dir.glob("DS03-*"))
    for f in DS03_FILES:
        (data / "DS03-x" / f).symlink_to(source / f)
    extra = tmp_path / "weights.pt"
    extra.write_bytes(b"reference")
    pack(data, tmp_path / "pack", extra=[extra], extra_folder="ens2_reference")
    unpack(tmp_path / "pack", tmp_path / "there")
    check(data, tmp_path / "there")  # raises on any difference
    assert (tmp_path / "there" / "ens2_reference" / "weights.pt").read_bytes() == b"reference"
    # a rebuilt file that differs is caught, by name
    rebuilt = tmp_path / "there" / "ground_truth" / "DS03-x" / DS03_FILES[1]
    rebuilt.unlink()
    rebuilt.symlink_to(source / DS03_FILES[0])
    with pytest.raises(InputError, match=f"{DS03_FILES[1]}: the rebuilt file does not load to the same neuron"):
        check(data, tmp_path / "there")
    with pytest.raises(InputError, match="no DSxx"):
        pack(tmp_path / "empty", tmp_path / "pack2")
