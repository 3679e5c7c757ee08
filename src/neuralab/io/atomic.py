"""File-system primitives of every neuralab writer and reader.

* :func:`atomic_write`: readers see the old file or the complete new one, never half a file.
  Every file neuralab writes goes through it (models, checkpoints, JSON, figures, pages).
* :func:`remove_stale_temps`: the temporary files of writers that were killed (``kill -9``, a
  power cut) are removed by the next write to the same path.
* :func:`open_regular_file`: open a file to read it, refusing a FIFO, a device or a directory
  (a FIFO would block the ``open`` itself forever, a device never ends).

Temporary files are named ``.NAME.PID.XXXXXXXX.tmp`` beside the target ``NAME``: hidden, with
the writer's process id and 8 random characters (:func:`tempfile.mkstemp`, so two writers never
share one).  A temporary file is removed only when its process no longer exists, so the file
of a writer that is still working is never touched (see :func:`remove_stale_temps` for the one
case where that judgement cannot be made).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Union

BytesLike = Union[bytes, bytearray, memoryview]

_TEMP_SUFFIX = ".tmp"
# Keeps ".NAME.PID.XXXXXXXX.tmp" within the 255 bytes most file systems allow for a name.
_NAME_CHARS = 200
# What follows ".NAME." in a temporary file: the pid and mkstemp's 8 characters (letters,
# digits, "_"; no dot, so the temp of target "m.5" is never taken for one of target "m").
_TEMP_REST = re.compile(r"(\d+)\.[a-z0-9_]{8}\.tmp")


def current_umask() -> int:
    """The process's umask (it can only be read by setting it; the old value goes straight
    back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode() -> int:
    return 0o666 & ~current_umask()


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


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a zombie counts as existing until its
    parent reaps it; a process of another user counts as existing)."""
    if pid <= 0:
        return True  # 0 and negative numbers address process groups: never judge them dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists but belongs to someone else, or cannot be asked: keep its files
    return True


def _temp_prefix(path: Path) -> str:
    return f".{path.name[:_NAME_CHARS]}."


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that :func:`atomic_write` calls for ``path`` left behind
    when their process died before its rename; returns the paths removed.

    Only regular files named exactly ``.NAME.PID.XXXXXXXX.tmp`` are candidates, and one is
    removed only when no process ``PID`` exists (``os.kill(pid, 0)``), so a writer that is still
    running keeps its file.  The pid cannot be judged for a writer on another machine or in
    another pid namespace (a directory shared over NFS, or by containers): if that writer's pid
    happens to be free here its file is removed, and that writer's rename then fails with
    ``FileNotFoundError``; the target is never damaged.  A dead writer whose pid was reused by a
    new process keeps its temporary file until that process ends.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    prefix = _temp_prefix(path)
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP_REST.fullmatch(entry.name[len(prefix):])
        if match is None or pid_alive(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # removed meanwhile by another writer's cleanup, or not ours to remove
    return removed


def atomic_write(path: str | os.PathLike, data: BytesLike | Iterable[BytesLike]) -> Path:
    """Write ``data`` (a bytes-like object, or an iterable of bytes-like chunks such as NumPy
    arrays) to ``path`` atomically and return the path.

    The bytes go to a temporary file ``.NAME.PID.XXXXXXXX.tmp`` in the same directory, which is
    flushed, fsynced and then renamed over ``path`` with ``os.replace`` (atomic on POSIX and
    Windows).  If anything fails (an exception while producing the chunks, a full disk), the
    temporary file is removed and an existing file at ``path`` is left untouched.  If the
    process is killed, the temporary file stays behind, and the next write to ``path`` removes
    it (:func:`remove_stale_temps`).  A new file gets the usual permissions (0666 minus the
    umask); an existing one keeps its permissions.

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
    remove_stale_temps(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=directory, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=_TEMP_SUFFIX
    )
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


class NotRegularFileError(ValueError):
    """A path to read names a directory, a FIFO, a device or a socket instead of a file."""


_SPECIAL_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_special(path: str | os.PathLike, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
    raise NotRegularFileError(f"{os.fspath(path)}: is {kind}, not a regular file")


def open_regular_file(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for reading bytes, after making sure it is a regular file.

    A FIFO would block ``open`` until some other process opens it for writing (forever, in
    practice), and a device such as ``/dev/zero`` never ends, so both are refused with
    :class:`NotRegularFileError` (a ``ValueError``), as are directories and sockets.  The check
    is made on the path before opening (opening some devices has effects) and again on the open
    descriptor, which is opened without blocking, so a path replaced in between by a FIFO cannot
    hang the reader either.  A missing or unreadable file raises the usual ``OSError``.
    """
    _refuse_special(path, os.stat(path).st_mode)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        _refuse_special(path, os.fstat(fd).st_mode)
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # a regular file: back to ordinary reads
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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


def nan_to_none(value: Any) -> Any:
    """``value`` (plain dicts, lists, numbers) with non-finite floats as None: strict JSON has
    no NaN or Infinity (``json.dumps`` would write the bare words, which JSON readers refuse)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_to_none(v) for v in value]
    return value


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """Write ``value`` (see :func:`to_jsonable`) as indented JSON, atomically."""
    import json

    return atomic_write(path, json.dumps(to_jsonable(value), indent=1).encode())
