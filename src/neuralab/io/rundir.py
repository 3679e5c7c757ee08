"""Run directories written as a unit: readers see the earlier directory or the complete new one,
never a mix of two runs and never half a run.

Everything goes into a fresh hidden directory beside the target (a unique name from
:func:`tempfile.mkdtemp`, never a fixed one), and only when the work succeeded is it renamed to
the target, one ``os.rename`` of a directory.  If the work fails the fresh directory is removed
and the target is left as it was.

Policy for a target that exists already (not empty):

* ``overwrite=False`` (the default): refused with :class:`RunDirectoryExists`, before any work,
  and again at the commit (the rename onto a non-empty directory fails), so two runs started at
  once with the same target never mix their files: the first to finish wins, the other one
  fails with the same clear error and leaves nothing behind.
* ``overwrite=True``: the old directory is moved aside and the new one takes its place, then the
  old one is deleted; no file of the earlier run survives (no stale figure).  Between the two
  renames there is an instant in which the target does not exist.

An empty existing directory counts as absent.  A run killed with ``kill -9`` leaves its hidden
directory ``.NAME.PID.XXXX.tmp`` behind; the next run for the same target removes those of
processes that no longer run.

>>> with RunDirectory("runs/wine") as tmp:      # refuses runs/wine if it holds an earlier run
...     save(model, tmp / "model.safetensors")
...     write_json(tmp / "metrics.json", metrics)
>>> # runs/wine now holds both files; after an exception it would not exist
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from .atomic import _fsync_directory, current_umask, pid_alive

__all__ = ["RunDirectory", "RunDirectoryExists", "check_writable_directory"]

_TMP_SUFFIX = ".tmp"
# what follows ".NAME." in the hidden directories of RunDirectory: the pid, then mkdtemp's random
# part (letters, digits, "_"), so that ".run.5.123.x.tmp" of target "run.5" is not taken for one
# of target "run"
_TEMP_REST = re.compile(r"(\d+)\.(?:old-)?\w+\.tmp")


class RunDirectoryExists(FileExistsError):
    """The target run directory holds an earlier run and ``overwrite`` was not given."""


def _is_nonempty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return any(True for _ in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False


def check_writable_directory(path: str | os.PathLike[str]) -> Path:
    """Make sure a directory ``path`` can be created (or replaced) and written, before any long
    work starts, without creating anything.

    ``path`` must not be a file, and its nearest existing ancestor (where the missing parents
    would be made) must be a directory in which a probe directory can be created and removed:
    this finds a read-only file system, missing permissions or a file in the way in a fraction
    of a second instead of after training.  Raises ``NotADirectoryError`` or ``PermissionError``
    (``OSError`` for other failures) with a message naming the path; returns ``path`` as a
    ``Path``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{str(path)!r} exists and is not a directory")
    base = None
    for p in path.parents:
        if p.exists():
            if not p.is_dir():
                raise NotADirectoryError(
                    f"{str(path)!r}: {str(p)!r} exists and is not a directory")
            base = p
            break
    if base is None:
        return path
    try:
        os.rmdir(tempfile.mkdtemp(dir=base, prefix=f".{path.name}.probe-"))
    except OSError as err:
        reason = err.strerror or str(err)
        cls = PermissionError if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else OSError
        raise cls(f"cannot write the directory {str(path)!r}: {str(base)!r} is not "
                  f"writable ({reason})") from None
    return path


class RunDirectory:
    """Context manager that writes a directory as a unit (see the module docstring).

    Args:
        path: the run directory to produce, e.g. ``runs/train-wine``.
        overwrite: replace an existing, non-empty ``path`` whole instead of refusing it.

    ``with RunDirectory(path) as tmp:`` yields the fresh directory (a ``Path``) to write into;
    leaving the block normally commits it to ``path``, an exception removes it.  The checks
    (:meth:`check`: not a file, writable, not an earlier run) run on entering, before any work,
    and can be called earlier on their own.  ``commit`` raises :class:`RunDirectoryExists` if
    another run committed ``path`` in the meantime (the fresh directory is then removed).
    """

    def __init__(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = bool(overwrite)
        self.tmp: Path | None = None

    # ------------------------------------------------------------------ checks
    def _refuse_existing(self, when: str = "exists already (an earlier run)") -> None:
        if not self.overwrite and _is_nonempty_dir(self.path):
            raise RunDirectoryExists(
                f"the run directory {str(self.path)!r} {when}; choose another --out, delete "
                "it, or pass --overwrite (overwrite=True) to replace it"
            )

    def check(self) -> None:
        """Refuse the target before any work: a file in the way, an unwritable parent, or an
        earlier run (unless ``overwrite``)."""
        check_writable_directory(self.path)
        self._refuse_existing()

    # ------------------------------------------------------------------ the unit
    def __enter__(self) -> Path:
        self.check()
        self._parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()
        prefix = f".{self.path.name}.{os.getpid()}."
        self.tmp = Path(tempfile.mkdtemp(dir=self._parent, prefix=prefix, suffix=_TMP_SUFFIX))
        # mkdtemp makes 0700; a run directory gets the usual 0777 minus the umask
        self.tmp.chmod(0o777 & ~current_umask())
        return self.tmp

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    @property
    def _parent(self) -> Path:
        return self.path.parent if str(self.path.parent) else Path(".")

    def discard(self) -> None:
        """Remove the fresh directory (the target stays as it was)."""
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def commit(self) -> Path:
        """Rename the fresh directory to the target; returns the target."""
        if self.tmp is None:
            raise RuntimeError("RunDirectory.commit: nothing to commit (not entered, or done)")
        tmp = self.tmp
        try:
            if self.overwrite:
                self._replace(tmp)
            else:
                self._rename_into_place(tmp)
        except BaseException:
            self.discard()
            raise
        self.tmp = None
        _fsync_directory(self._parent)
        return self.path

    def _rename_into_place(self, tmp: Path) -> None:
        # os.rename replaces an empty directory and fails on a non-empty one: exactly the
        # policy, decided by the file system at the instant of the commit (no check-then-act race)
        try:
            os.rename(tmp, self.path)
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST) or _is_nonempty_dir(self.path):
                self._refuse_existing("was written by another run while this one worked")
            if self.path.exists() and not self.path.is_dir():
                raise NotADirectoryError(
                    f"{str(self.path)!r} exists and is not a directory") from None
            raise

    def _replace(self, tmp: Path) -> None:
        # Several runs may replace the same target at once: each moves whatever is there aside
        # (a unique name) and renames its own directory in; the last one wins, none mixes.
        for _ in range(100):
            aside = None
            if self.path.exists():
                if not self.path.is_dir():
                    raise NotADirectoryError(f"{str(self.path)!r} exists and is not a directory")
                holder = Path(tempfile.mkdtemp(dir=self._parent,
                                               prefix=f".{self.path.name}.{os.getpid()}.old-",
                                               suffix=_TMP_SUFFIX))
                aside = holder / "old"
                try:
                    os.rename(self.path, aside)
                except FileNotFoundError:  # another run moved it first
                    os.rmdir(holder)
                    aside = None
                else:
                    aside = holder
            try:
                os.rename(tmp, self.path)
            except OSError as err:
                if aside is not None:
                    shutil.rmtree(aside, ignore_errors=True)
                if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    continue  # another run committed in between: move that one aside too
                raise
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)
            return
        raise RunDirectoryExists(f"could not replace {str(self.path)!r}: other runs keep "
                                 "committing to it")

    def _remove_stale_temps(self) -> None:
        """Remove ``.NAME.PID.*.tmp`` directories beside the target whose process is gone (a
        run killed before its commit)."""
        prefix = f".{self.path.name}."
        try:
            entries = list(os.scandir(self._parent))
        except OSError:
            return
        for entry in entries:
            match = entry.name.startswith(prefix) and _TEMP_REST.fullmatch(
                entry.name[len(prefix):])
            if not match or pid_alive(int(match.group(1))):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                pass

