"""Reader for the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the values in C order, big-endian.  Type codes: 0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.

Every problem with a file's content is a ``ValueError`` whose message names the file; a missing
file is a ``FileNotFoundError``.  The shape in the header is checked against what the file can
hold before the array is allocated, so a few crafted bytes cannot make the reader reserve
gigabytes.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from typing import Any, BinaryIO

import numpy as np

from ...io.atomic import open_regular_file

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data by more than about 1032 times (a long run of one byte: measured
# 1029x with gzip -9 on 100 MB of zeros), so a gzip file of n bytes holds at most 1032 n.
_MAX_GZIP_RATIO = 1032
_MAX_DIMS = 32  # NumPy 1 allows 32 dimensions (NumPy 2: 64); real IDX files have 1 to 4
_MAX_BYTES = np.iinfo(np.intp).max


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


def _check_shape(path: str, shape: tuple[int, ...], dtype: np.dtype, file_size: int,
                 compressed: bool) -> None:
    """Refuse a shape that needs more bytes than the file can hold, before allocating it."""
    if math.prod(max(d, 1) for d in shape) * dtype.itemsize > _MAX_BYTES:
        raise ValueError(f"IDX file {path} is corrupted: its header gives the shape {shape}, too "
                         "large for any array")
    needed = math.prod(shape) * dtype.itemsize
    if compressed and needed > _MAX_GZIP_RATIO * file_size:
        raise ValueError(f"IDX file {path} is truncated or corrupted: its header gives the shape "
                         f"{shape} ({needed} bytes), more than a gzip file of {file_size} bytes "
                         "can hold")
    header = 4 + 4 * len(shape)
    if not compressed and needed > file_size - header:
        raise ValueError(f"IDX file {path} is truncated: its header gives the shape {shape}, "
                         f"{needed} bytes of data, but only {file_size - header} follow the header")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not, detected from its first bytes) into an array
    of the stored shape and dtype, in native byte order.

    >>> images = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    >>> images.shape, images.dtype
    ((10000, 28, 28), dtype('uint8'))
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"read_idx: no such file {path!r}")
    # a FIFO or a device is refused (NotRegularFileError, a ValueError naming the path)
    with open_regular_file(path) as raw:
        file_size = os.fstat(raw.fileno()).st_size
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
            if ndim > _MAX_DIMS:
                raise ValueError(f"IDX file {path} is corrupted: its header gives {ndim} "
                                 f"dimensions, more than the {_MAX_DIMS} this reader accepts")
            dims_raw = np.empty(4 * ndim, dtype=np.uint8)
            _read_exactly(stream, dims_raw, path)
            shape = tuple(int(d) for d in dims_raw.view(">u4"))
            _check_shape(path, shape, dtype, file_size, compressed)
            # Read straight into the array's memory: no intermediate bytes object to copy from.
            try:
                data = np.empty(shape, dtype=dtype)
            except MemoryError:
                raise ValueError(f"IDX file {path}: its array of shape {shape} does not fit in "
                                 "memory") from None
            _read_exactly(stream, data.reshape(-1).view(np.uint8), path)
            if stream.read(1):
                raise ValueError(f"IDX file {path} has more data than its header's shape {shape}")
        except (OSError, EOFError, zlib.error) as exc:
            # gzip.BadGzipFile is an OSError, a damaged deflate stream a zlib.error
            if compressed:
                raise ValueError(f"IDX file {path} is a damaged gzip stream: {exc}") from exc
            raise
        finally:
            if compressed:
                stream.close()
    if dtype.byteorder == ">":
        data = data.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return data
