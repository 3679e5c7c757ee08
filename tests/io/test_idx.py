"""The IDX reader on crafted and damaged files: a ValueError naming the file, never a NumPy or
zlib error, never an allocation the file cannot fill, never a hang on a FIFO."""

from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralab.data import read_idx


def _idx(type_code: int, shape: tuple[int, ...], data: bytes = b"") -> bytes:
    return struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(
        ">" + "I" * len(shape), *shape) + data


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("raw, needle", [
    (_idx(0x08, (1,) * 65), "65 dimensions"),                     # NumPy: > 64 dimensions
    (_idx(0x08, (1,) * 255), "255 dimensions"),
    (_idx(0x0E, (0, 2**32 - 1, 2**32 - 1, 2**32 - 1)), "too large"),  # "array is too big"
    (_idx(0x0E, (60000, 60000)), "shape"),                         # 28 GB from 16 bytes
    (_idx(0x08, (2**32 - 1, 2**32 - 1)), "shape"),
], ids=["65-dims", "255-dims", "zero-times-huge", "60000x60000-f8", "max-u8"])
def test_crafted_headers_are_refused_before_allocating(tmp_path, raw, needle, compress):
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    errors = []

    def read():
        try:
            read_idx(path)
        except ValueError as err:
            errors.append(err)

    assert _peak(read) < 1_000_000
    assert errors and needle in str(errors[0]) and str(path) in str(errors[0]), errors


def test_a_damaged_deflate_stream_is_a_value_error(tmp_path):
    data = bytearray(gzip.compress(_idx(0x08, (64,), bytes(range(64))) * 50))
    data[20] ^= 0xFF  # inside the deflate data: zlib.error before
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged.gz"):
        read_idx(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path, raised_without_blocking):
    fifo = tmp_path / "labels-idx1-ubyte"
    os.mkfifo(fifo)
    err = raised_without_blocking(read_idx, fifo)
    assert isinstance(err, ValueError) and "named pipe" in str(err) and str(fifo) in str(err)


# ---------------------------------------------------------------------- properties
_VALID = _idx(0x0D, (3, 4), np.arange(12, dtype=">f4").tobytes())


@st.composite
def _damaged(draw):
    data = bytearray(_VALID)
    kind = draw(st.sampled_from(["cut", "bytes", "header"]))
    if kind == "cut":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif kind == "bytes":
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    else:  # a new type, rank and dimensions before the same data
        ndim = draw(st.integers(0, 70))
        dims = draw(st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 5), min_size=ndim,
                             max_size=ndim))
        code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x0A]))
        data = bytearray(_idx(code, tuple(dims), bytes(data[12:])))
    data = bytes(data)
    return gzip.compress(data) if draw(st.booleans()) else data


@settings(max_examples=300, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=300) | _damaged())
def test_read_idx_on_any_bytes(tmp_path, raw):
    path = tmp_path / "any-idx"
    path.write_bytes(raw)
    result = []

    def read():
        try:
            result.append(read_idx(path))
        except ValueError as err:
            assert str(path) in str(err), err

    assert _peak(read) < 4_000_000
    if result:
        assert result[0].dtype.isnative
