"""Atomic file writes: readers see the old file or the complete new one, never half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Union

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
