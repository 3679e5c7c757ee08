"""Fault injection: a child process trains with a checkpoint written after every epoch
(``BackupAndRestore``) and is killed with SIGKILL at random moments, at least 20 times, each new
child resuming from the checkpoint the last one left.  After every kill the checkpoint loads,
resuming from it ends with bit for bit the weights of an uninterrupted run, and a temporary file
left by a killed writer does not survive the next save.

Run as a script (``python test_kill.py child DIR``) this file is the child."""

from __future__ import annotations

import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

EPOCHS = 80
KILLS = 20
CHECKPOINT = "backup.safetensors"


def _setup():
    import neuralab as nl
    from neuralab import nn, optim
    from neuralab.train import Trainer

    nl.seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 32)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    # ~160 000 weights: a 2 MB checkpoint with Adam's moments, so that many kills land in a save
    model = nn.Sequential([nn.Dense(384, input_dim=32, activation="relu"), nn.Dropout(0.1),
                           nn.Dense(384, activation="relu"), nn.Dense(3)])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, "cross_entropy", opt,
                      scheduler=optim.StepLR(opt, step_size=3, gamma=0.8))
    return trainer, x, y


def _train(directory: Path | None = None, callbacks=(), resume_from: Path | None = None):
    """Train to EPOCHS; with ``directory``, with a checkpoint there after every epoch (resumed
    from when it exists); with ``resume_from``, from that checkpoint without writing any."""
    from neuralab.train import BackupAndRestore

    trainer, x, y = _setup()
    backup = [BackupAndRestore(directory / CHECKPOINT, delete_on_end=False)] if directory else []
    trainer.fit(x, y, epochs=EPOCHS, batch_size=16, verbose=0, callbacks=[*backup, *callbacks],
                resume_from=resume_from)
    return trainer.model.state_dict()


def _child(directory: Path, slow_disk: bool) -> None:
    from neuralab.io import safetensors
    from neuralab.train import Callback

    if slow_disk:
        # a slow disk: every chunk of a file takes 10 ms to write, so that a kill aimed at a
        # save finds its temporary file on disk (a fast save is over in about 7 ms)
        fast_write = safetensors.atomic_write

        def slow_write(path, chunks):
            def slowly():
                for chunk in chunks:
                    time.sleep(0.01)
                    yield chunk
            return fast_write(path, slowly())

        safetensors.atomic_write = slow_write

    class Saving(Callback):
        order = 55  # just before BackupAndRestore (60) writes the checkpoint of this epoch

        def on_epoch_end(self, epoch, logs=None):
            print(f"saving {epoch}", flush=True)

    class Saved(Callback):
        order = 70  # after BackupAndRestore: the checkpoint of this epoch is written

        def on_epoch_end(self, epoch, logs=None):
            print(f"saved {epoch}", flush=True)

    _train(directory, [Saving(), Saved()])
    print("done", flush=True)


def _temps(directory: Path) -> set[Path]:
    return set(directory.glob(f".{CHECKPOINT}.*.tmp"))


def _lines(child: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in child.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_during_training_and_checkpointing(tmp_path):
    from neuralab.train import read_checkpoint

    reference = _train()
    rng = random.Random(9)  # seeded: the same kill delays on every run
    saved_copies = []
    left_temps = 0
    started = time.monotonic()
    for kill in range(KILLS):
        assert time.monotonic() - started < 240, "the kill loop is far slower than expected"
        pending = _temps(tmp_path)  # left by the child killed last
        aimed = kill % 2 == 0
        child = subprocess.Popen(
            [sys.executable, __file__, "child", str(tmp_path), "slow" if aimed else "fast"],
            stdout=subprocess.PIPE, text=True)
        lines = _lines(child)
        try:
            line = lines.get(timeout=60)
            while line is not None and not line.startswith("saved"):
                line = lines.get(timeout=60)
            assert line is not None, "the child ended before its first save"
            # the child's first save is done: the dead writer's temporary files are gone
            assert not (pending & _temps(tmp_path)), pending & _temps(tmp_path)
            if aimed:
                # at the next save, which starts right after this line and takes ~150 ms
                assert lines.get(timeout=60).startswith("saving")
                time.sleep(rng.uniform(0.0, 0.12))
            else:
                # at any moment of an epoch and its save (they take about this long)
                time.sleep(rng.uniform(0.0, 0.06))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()  # reaped: its pid no longer exists
        assert child.returncode == -signal.SIGKILL, "the run ended before the kill"
        left_temps += bool(_temps(tmp_path) - pending)
        # the last checkpoint loads, whatever moment the kill hit
        epoch = read_checkpoint(tmp_path / CHECKPOINT)["epoch"]
        assert 0 <= epoch < EPOCHS - 1
        copy = tmp_path / "copies" / f"after-kill-{kill}.safetensors"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / CHECKPOINT, copy)
        saved_copies.append(copy)

    # resuming from the checkpoint left by each kill ends where the uninterrupted run ends
    for copy in saved_copies:
        final = _train(resume_from=copy)
        for name, value in reference.items():
            assert final[name].tobytes() == value.tobytes(), (copy.name, name)
    # so does the chain of killed children, continued here with saves, which remove the
    # temporary files of the last child
    final = _train(tmp_path)
    for name, value in reference.items():
        assert final[name].tobytes() == value.tobytes(), name
    assert not _temps(tmp_path)
    print(f"{KILLS} kills in {time.monotonic() - started:.1f} s, {left_temps} left a "
          "temporary file")
    # kills inside a save must have happened for the cleanup to be tested at all (the aimed
    # ones land there nearly always)
    assert left_temps >= 3


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    _child(Path(sys.argv[2]), slow_disk=sys.argv[3] == "slow")
