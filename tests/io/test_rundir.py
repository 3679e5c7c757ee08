"""RunDirectory: a run directory is committed as a unit by a rename, never mixed, never half."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from neuralab.io import RunDirectory, RunDirectoryExists, check_writable_directory


def hidden(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_files_appear_only_at_the_commit(tmp_path):
    target = tmp_path / "runs" / "one"
    with RunDirectory(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        (tmp / "a.txt").write_text("a")
        assert not target.exists()  # nothing visible while the run works
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert hidden(target.parent) == []  # no temp left


def test_a_failed_run_leaves_the_earlier_directory_and_no_temp(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(ZeroDivisionError):
        with RunDirectory(target, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
            1 / 0
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert hidden(tmp_path) == []


def test_an_earlier_run_is_refused_before_any_work_and_named(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "model.safetensors").write_text("earlier")
    worked = []
    with pytest.raises(RunDirectoryExists, match=r"'.*run'.*--overwrite"):
        with RunDirectory(target):
            worked.append(True)
    assert worked == [] and (target / "model.safetensors").read_text() == "earlier"
    assert hidden(tmp_path) == []
    # an empty directory (e.g. made by hand beforehand) is not an earlier run
    empty = tmp_path / "empty"
    empty.mkdir()
    with RunDirectory(empty) as tmp:
        (tmp / "x").write_text("x")
    assert (empty / "x").read_text() == "x"


def test_overwrite_replaces_the_directory_whole(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "stale-figure.png").write_text("from an earlier run")
    with RunDirectory(target, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]  # nothing stale survives
    assert hidden(tmp_path) == []


def test_temp_names_are_unique(tmp_path):
    a, b = RunDirectory(tmp_path / "run"), RunDirectory(tmp_path / "run")
    ta, tb = a.__enter__(), b.__enter__()
    assert ta != tb and ta.is_dir() and tb.is_dir()
    a.discard()
    b.discard()
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_concurrent_runs_with_the_same_target_never_mix(tmp_path, overwrite):
    """Two runs write 20 files each and commit at the same instant, 25 times: the directory holds
    the files of one run only; without overwrite the other run gets a clear error."""
    for trial in range(25):
        target = tmp_path / f"run{trial}"
        barrier = threading.Barrier(2)
        errors: dict[str, BaseException] = {}

        def work(tag, target=target, barrier=barrier, errors=errors):
            try:
                with RunDirectory(target, overwrite=overwrite) as tmp:
                    for i in range(20):
                        (tmp / f"f{i}").write_text(tag)
                    barrier.wait()
            except BaseException as err:  # noqa: BLE001 - recorded for the assertions
                errors[tag] = err

        threads = [threading.Thread(target=work, args=(tag,)) for tag in "AB"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tags = {p.read_text() for p in target.iterdir()}
        assert len(tags) == 1 and len(list(target.iterdir())) == 20, (trial, tags)
        if overwrite:
            assert errors == {}
        else:
            assert len(errors) == 1, errors
            (err,) = errors.values()
            assert isinstance(err, RunDirectoryExists) and "another run" in str(err)
            assert tags == set("AB") - set(errors)
    assert hidden(tmp_path) == []


def test_a_file_in_the_way_or_an_unwritable_parent_is_found_up_front(tmp_path, monkeypatch):
    taken = tmp_path / "taken"
    taken.write_text("keep")
    for target in (taken, taken / "sub"):
        with pytest.raises(NotADirectoryError, match="taken"):
            RunDirectory(target).check()
    assert taken.read_text() == "keep"
    # the check creates nothing, not even the missing parents
    assert check_writable_directory(tmp_path / "a" / "b" / "run") == tmp_path / "a" / "b" / "run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]

    # a read-only file system (simulated: we may run as root, for whom chmod does not stop
    # writes): the probe directory cannot be created
    real_mkdtemp = tempfile.mkdtemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and str(dir).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkdtemp(*args, dir=dir, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(PermissionError, match=r"'.*ro'.*not writable.*Read-only file system"):
        check_writable_directory(tmp_path / "ro" / "run")


def _check_in_forked_child(target: Path) -> str:
    """Run ``RunDirectory(target).check()`` in a forked child; as root, the child drops to ``nobody``.

    chmod does not stop root, so the check must run as another user. A fork keeps the modules already
    imported, so the child needs no read access to the checkout or the venv (a CI clone lives in a
    0700 temporary directory that ``nobody`` cannot enter).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            try:
                RunDirectory(target).check()
                message = "accepted"
            except PermissionError as err:
                message = f"refused: {err}"
            except BaseException as err:  # noqa: BLE001 - reported to the parent
                message = f"other: {err!r}"
            os.write(write_end, message.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_a_directory_without_write_permission_is_refused():
    base = Path(tempfile.mkdtemp(prefix="neuralab-perm-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        message = _check_in_forked_child(locked / "run")
        assert message.startswith("refused:") and "not writable" in message, message
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_temps_of_a_killed_run_are_removed_by_the_next_run(tmp_path):
    # a child process enters a RunDirectory and is killed before its commit
    code = ("import os, sys, signal\n"
            "from neuralab.io import RunDirectory\n"
            "tmp = RunDirectory(sys.argv[1]).__enter__()\n"
            "(tmp / 'half').write_text('x')\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")])
    assert proc.returncode == -9
    assert len(hidden(tmp_path)) == 1  # the killed run's directory
    other = tmp_path / "run.5"  # a target whose name extends this one is left alone
    keep = RunDirectory(other).__enter__()
    with RunDirectory(tmp_path / "run") as tmp:
        (tmp / "done").write_text("y")
    assert hidden(tmp_path) == [keep.name]
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["done"]
