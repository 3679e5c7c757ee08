"""Reading and writing the safetensors format with NumPy alone.

A safetensors file is::

    8 bytes    N, the header length (unsigned 64-bit, little-endian)
    N bytes    a UTF-8 JSON object (padded with spaces):
               {"__metadata__": {"key": "string value", ...},          (optional)
                "tensor name": {"dtype": "F32", "shape": [4, 3], "data_offsets": [begin, end]},
                ...}
    the rest   the tensors' raw little-endian C-order bytes; offsets are relative to the start of
               this buffer, which the tensors cover exactly, without gaps or overlaps

The format holds only arrays and strings, so reading a file never runs code (unlike pickle), and
files are exchangeable with PyTorch, JAX, TensorFlow and the ``safetensors`` package.

:func:`write_safetensors` also stores a SHA-256 of the data buffer in the metadata
(``"neuralab.sha256"``); :func:`read_safetensors` checks it when present, so flipped bits in the
tensor data are reported instead of loaded silently.  Files without it (from other programs) are
read without that check.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..autograd.tensor import Tensor
from .atomic import NotRegularFileError, atomic_write, open_regular_file

CHECKSUM_KEY = "neuralab.sha256"
_MAX_HEADER = 100_000_000  # the reference implementation's limit


def _max_dims() -> int:
    # NumPy 2 allows 64 dimensions, NumPy 1 allowed 32: ask the installed one
    try:
        np.empty((1,) * 64)
    except ValueError:
        return 32
    return 64


_MAX_DIMS = _max_dims()
_MAX_BYTES = np.iinfo(np.intp).max  # NumPy refuses larger arrays, even with a zero dimension

_CODE_TO_DTYPE = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_KIND_SIZE_TO_CODE = {(dt.kind, dt.itemsize): code for code, dt in _CODE_TO_DTYPE.items()}


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file (truncated, corrupted, another format, or not a
    regular file); the message starts with the file's path."""


def _code_of(name: str, arr: np.ndarray) -> str:
    code = _KIND_SIZE_TO_CODE.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise TypeError(
            f"write_safetensors: tensor {name!r} has dtype {arr.dtype}, which safetensors cannot "
            f"store; use a float, int, uint or bool dtype"
        )
    return code


def write_safetensors(
    path: str | os.PathLike,
    arrays: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
    *,
    checksum: bool = True,
) -> Path:
    """Write ``arrays`` (name -> ndarray or Tensor) and string ``metadata`` to ``path`` in the
    safetensors format, atomically (see :func:`~neuralab.io.atomic_write`).  With ``checksum``
    the data's SHA-256 goes into the metadata under ``"neuralab.sha256"``.

    >>> write_safetensors("w.safetensors", {"w": np.eye(3, dtype=np.float32)}, {"note": "eye"})
    """
    meta = dict(metadata or {})
    for key, value in meta.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"write_safetensors: metadata must map strings to strings (safetensors allows "
                f"nothing else), got {key!r}: {type(value).__name__}; encode it with json.dumps"
            )
    header: dict[str, Any] = {}
    chunks: list[np.ndarray] = []
    offset = 0
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"write_safetensors: invalid tensor name {name!r}")
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        code = _code_of(name, arr)
        little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        nbytes = little.nbytes
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
        if nbytes:
            chunks.append(little.reshape(-1).view(np.uint8))
    if checksum:
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        meta[CHECKSUM_KEY] = digest.hexdigest()
    if meta:
        header = {"__metadata__": meta, **header}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # pad so that the data starts on an 8-byte boundary, as the reference writer does
    text += b" " * (-(8 + len(text)) % 8)
    return atomic_write(path, [struct.pack("<Q", len(text)), text, *chunks])


def _fail(path: Path, problem: str) -> SafetensorsError:
    return SafetensorsError(f"{path}: {problem}")


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file: ``(arrays by name, metadata)``.  Arrays are writable and in file
    order.  A truncated, corrupted or foreign file raises :class:`SafetensorsError` naming the
    file and the problem.

    >>> arrays, metadata = read_safetensors("w.safetensors")
    """
    path = Path(path)
    try:
        f = open_regular_file(path)
    except NotRegularFileError as err:
        raise SafetensorsError(str(err)) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        try:
            buf = bytearray(size)
        except MemoryError:
            raise _fail(path, f"{size} bytes do not fit in memory") from None
        got = f.readinto(buf)
    if got != size:
        raise _fail(path, f"could read only {got} of its {size} bytes")
    if size < 8:
        raise _fail(
            path, f"not a safetensors file or truncated: it has {size} bytes, fewer than the "
            "8-byte header length"
        )
    (n,) = struct.unpack_from("<Q", buf, 0)
    if n > _MAX_HEADER:
        raise _fail(
            path, f"not a safetensors file: its first 8 bytes give a header length of {n} bytes "
            f"(the file has {size})"
        )
    if 8 + n > size:
        raise _fail(
            path, f"truncated: the header should be {n} bytes but only {size - 8} follow the "
            "length field"
        )
    raw = bytes(buf[8:8 + n])
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        # ValueError: not UTF-8, not JSON, or an integer of more than 4300 digits;
        # RecursionError: arrays or objects nested about a thousand deep
        problem = "nested too deeply" if isinstance(err, RecursionError) else err
        raise _fail(path, f"not a safetensors file or corrupted header (not JSON: {problem})") \
            from None
    if not isinstance(header, dict) or not raw.lstrip().startswith(b"{"):
        raise _fail(path, "corrupted header: expected a JSON object")

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise _fail(path, "corrupted header: __metadata__ must map strings to strings")

    start = 8 + n
    data_size = size - start
    spans = []
    for name, entry in header.items():
        spans.append(_check_entry(path, name, entry, data_size))
    spans.sort(key=lambda s: (s[0], s[1]))
    expected = 0
    for begin, end, name, _, _ in spans:
        if begin != expected:
            problem = "overlap" if begin < expected else "leave a gap"
            raise _fail(path, f"corrupted: the data of {name!r} and the tensor before it {problem}")
        expected = end
    if expected < data_size:
        raise _fail(
            path, f"corrupted: {data_size - expected} bytes after the last tensor belong to none"
        )

    wanted = metadata.get(CHECKSUM_KEY)
    if wanted is not None:
        actual = hashlib.sha256(memoryview(buf)[start:]).hexdigest()
        if actual != wanted:
            raise _fail(
                path, "corrupted tensor data: the SHA-256 checksum stored in the header does not "
                "match the data (the file was modified or damaged)"
            )

    arrays: dict[str, np.ndarray] = {}
    by_name = {s[2]: s for s in spans}
    for name in header:
        begin, end, _, dtype, shape = by_name[name]
        count = math.prod(shape)
        if count == 0:
            arrays[name] = np.empty(shape, dtype=dtype)
            continue
        arr = np.frombuffer(buf, dtype=dtype, count=count, offset=start + begin).reshape(shape)
        if (start + begin) % dtype.itemsize:
            arr = arr.copy()  # unaligned (a file without padding): copy for fast access
        arrays[name] = arr
    return arrays, dict(metadata)


def _check_entry(path: Path, name: str, entry: Any, data_size: int):
    if not isinstance(entry, dict):
        raise _fail(path, f"corrupted header: the entry of {name!r} is not an object")
    code = entry.get("dtype")
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if not isinstance(code, str):
        raise _fail(path, f"corrupted header: tensor {name!r} has dtype {code!r}, not a string")
    if code not in _CODE_TO_DTYPE:
        if isinstance(code, str) and code in ("BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",
                                               "F6_E2M3", "F6_E3M2", "C64"):
            raise _fail(path, f"tensor {name!r} has dtype {code}, which NumPy cannot represent")
        raise _fail(path, f"corrupted header: tensor {name!r} has unknown dtype {code!r}")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _fail(path, f"corrupted header: tensor {name!r} has invalid shape {shape!r}")
    if len(shape) > _MAX_DIMS:
        raise _fail(
            path, f"corrupted header: tensor {name!r} has {len(shape)} dimensions, more than the "
            f"{_MAX_DIMS} NumPy allows"
        )
    dtype = _CODE_TO_DTYPE[code]
    if math.prod(max(d, 1) for d in shape) * dtype.itemsize > _MAX_BYTES:
        raise _fail(
            path, f"corrupted header: tensor {name!r} has shape {tuple(shape)}, too large for "
            "any array (NumPy refuses it even when a dimension is 0)"
        )
    if not (
        isinstance(offsets, list) and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        and 0 <= offsets[0] <= offsets[1]
    ):
        raise _fail(path, f"corrupted header: tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if end - begin != math.prod(shape) * dtype.itemsize:
        raise _fail(
            path, f"corrupted header: tensor {name!r} of shape {tuple(shape)} and dtype {code} "
            f"needs {math.prod(shape) * dtype.itemsize} bytes but its offsets span {end - begin}"
        )
    if end > data_size:
        raise _fail(
            path, f"truncated: tensor {name!r} ends at byte {end} of the data but the file holds "
            f"only {data_size} bytes of data"
        )
    return begin, end, name, dtype, tuple(shape)
