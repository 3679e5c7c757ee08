"""Atomic file writes: readers see the old file or the complete new one, never half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Union

BytesLike = Union[bytes, bytearray, memoryview]


def _default_mode() -> int:
    # os.umask can only be read by setting it; put the old value straight back
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, data: BytesLike | Iterable[BytesLike]) -> Path:
    """Write ``data`` (a bytes-like object, or an iterable of bytes-like chunks such as NumPy
    arrays) to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same directory, which is flushed, fsynced and then
    renamed over ``path`` with ``os.replace`` (atomic on POSIX and Windows).  If anything fails
    (an exception while producing the chunks, a full disk), the temporary file is removed and an
    existing file at ``path`` is left untouched.  A new file gets the usual permissions (0666 minus
    the umask); an existing one keeps its permissions.

    >>> atomic_write("weights.bin", b"...")
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _default_mode()
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                view = memoryview(data)  # type: ignore[arg-type]
            except TypeError:
                for chunk in data:  # type: ignore[union-attr]
                    f.write(chunk)
            else:
                f.write(view)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return path


def to_jsonable(value: Any) -> Any:
    """``value`` with dataclasses, tuples, NumPy arrays and NumPy scalars turned into plain dicts,
    lists and numbers, so that ``json.dumps`` takes it."""
    import dataclasses

    import numpy as np

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """Write ``value`` (see :func:`to_jsonable`) as indented JSON, atomically."""
    import json

    return atomic_write(path, json.dumps(to_jsonable(value), indent=1).encode())
