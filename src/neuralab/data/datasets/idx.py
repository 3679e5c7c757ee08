"""Reader for the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the values in C order, big-endian.  Type codes: 0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
"""

from __future__ import annotations

import gzip
import os
from typing import Any, BinaryIO

import numpy as np

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_exactly(stream: BinaryIO, buffer: np.ndarray, path: str) -> None:
    """Fill a uint8 array from the stream, or fail naming the file."""
    view = memoryview(buffer)
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            raise ValueError(f"IDX file {path} is truncated: expected {len(view)} bytes of data "
                             f"after the header, got {filled}")
        filled += got


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not, detected from its first bytes) into an array
    of the stored shape and dtype, in native byte order.

    >>> images = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    >>> images.shape, images.dtype
    ((10000, 28, 28), dtype('uint8'))
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"read_idx: no such file {path!r}")
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            header = np.empty(4, dtype=np.uint8)
            _read_exactly(stream, header, path)
            if header[0] != 0 or header[1] != 0 or int(header[2]) not in _IDX_DTYPES:
                raise ValueError(f"{path} is not an IDX file: magic bytes "
                                 f"{bytes(header).hex(' ')}, expected 00 00 <type> <ndim> with "
                                 f"type in {sorted(hex(c) for c in _IDX_DTYPES)}")
            dtype = _IDX_DTYPES[int(header[2])]
            ndim = int(header[3])
            dims_raw = np.empty(4 * ndim, dtype=np.uint8)
            _read_exactly(stream, dims_raw, path)
            shape = tuple(int(d) for d in dims_raw.view(">u4"))
            # Read straight into the array's memory: no intermediate bytes object to copy from.
            data = np.empty(shape, dtype=dtype)
            _read_exactly(stream, data.reshape(-1).view(np.uint8), path)
            if stream.read(1):
                raise ValueError(f"IDX file {path} has more data than its header's shape {shape}")
        except (OSError, EOFError) as exc:
            if compressed:
                raise ValueError(f"IDX file {path} is a damaged gzip stream: {exc}") from exc
            raise
        finally:
            if compressed:
                stream.close()
    if dtype.byteorder == ">":
        data = data.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return data
