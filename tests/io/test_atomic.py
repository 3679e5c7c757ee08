"""The atomic writer: unique temporary names with the writer's pid, stale temporary files of
killed writers removed by the next write, never those of a live writer; figures go through it;
readers refuse FIFOs and devices without blocking."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from neuralab.io import atomic_write


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_temporary_file_is_hidden_unique_and_carries_the_pid(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    for _ in range(2):
        atomic_write(tmp_path / "model.safetensors", b"x")
    assert len(set(seen)) == 2
    for name in seen:
        pattern = rf"\.model\.safetensors\.{os.getpid()}\.[a-z0-9_]{{8}}\.tmp"
        assert re.fullmatch(pattern, name), name


def test_the_next_write_removes_the_temps_of_dead_writers_only(tmp_path):
    target = tmp_path / "model.safetensors"
    dead = _dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [tmp_path / f".model.safetensors.{dead}.abcd_123.tmp",
                 tmp_path / f".model.safetensors.{dead}.zzzzzzzz.tmp"]
        kept = [
            tmp_path / f".model.safetensors.{sleeper.pid}.abcdefgh.tmp",    # a live writer
            tmp_path / f".model.safetensors.{os.getpid()}.abcdefgh.tmp",    # this process
            tmp_path / f".model.safetensors.5.{dead}.abcdefgh.tmp",   # target "model.safetensors.5"
            tmp_path / f".other.{dead}.abcdefgh.tmp",                       # another target
            tmp_path / f".model.safetensors.{dead}.abc.tmp",                # not our pattern
            tmp_path / f"model.safetensors.{dead}.abcdefgh.tmp",            # not hidden
        ]
        for path in stale + kept:
            path.write_bytes(b"partial")
        dir_temp = tmp_path / f".model.safetensors.{dead}.dirdirdi.tmp"   # RunDirectory's kind
        dir_temp.mkdir()
        atomic_write(target, b"new")
        assert target.read_bytes() == b"new"
        assert not any(p.exists() for p in stale)
        assert all(p.exists() for p in kept) and dir_temp.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()
    # once the live writer is gone, its file is stale too
    from neuralab.io.atomic import remove_stale_temps

    assert remove_stale_temps(target) == [kept[0]]


def test_a_long_name_still_gets_a_temporary_file(tmp_path):
    target = tmp_path / ("m" * 250)  # the name alone: 250 of the 255 bytes allowed
    atomic_write(target, b"x")
    atomic_write(target, b"y")
    assert target.read_bytes() == b"y" and os.listdir(tmp_path) == [target.name]


def test_figures_are_written_atomically_without_a_fixed_temporary_name(tmp_path):
    from neuralab.io import figures

    plt = figures.pyplot()
    # another run's temporary file under the old fixed name made savefig fail
    (tmp_path / "history.tmp.png").mkdir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = figures.save(fig, tmp_path / "history.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["history.png", "history.tmp.png"]
    fig, ax = plt.subplots()
    svg = figures.save(fig, tmp_path / "curve.svg")
    assert b"<svg" in svg.read_bytes()[:400]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_open_regular_file_refuses_a_fifo_without_blocking(tmp_path, raised_without_blocking):
    from neuralab.io.atomic import NotRegularFileError, open_regular_file

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    err = raised_without_blocking(open_regular_file, fifo)
    assert isinstance(err, NotRegularFileError), err
    assert "named pipe" in str(err) and str(fifo) in str(err)
    with open_regular_file(__file__) as f:
        assert f.read(3) == b'"""'
    with pytest.raises(FileNotFoundError):
        open_regular_file(tmp_path / "missing")
