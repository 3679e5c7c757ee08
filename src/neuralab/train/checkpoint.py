"""Training checkpoints: everything needed to continue an interrupted run bit for bit.

Two steps, each owned by one side: :meth:`Trainer.state_dict` /
:meth:`~neuralab.train.Trainer.load_state_dict` say what a trainer's state is and put it back
(all or nothing), and :mod:`neuralab.io.checkpoint` writes and reads that state as one
safetensors file with JSON metadata (format, checks of a file that may come from anywhere, no
pickle).  The two functions here do both steps.

>>> save_checkpoint("run/ckpt.safetensors", trainer, epoch=9)
>>> trainer.fit(x, y, epochs=20, resume_from="run/ckpt.safetensors")   # epochs 10..19
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..io.checkpoint import CheckpointError, read_checkpoint, write_checkpoint

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["CheckpointError", "load_checkpoint", "read_checkpoint", "save_checkpoint"]


def save_checkpoint(path: str | os.PathLike[str], trainer: Trainer, epoch: int) -> Path:
    """Write the full training state after ``epoch`` (0-based, completed) to ``path``
    atomically (:meth:`Trainer.state_dict` written by :func:`neuralab.io.write_checkpoint`) and
    return the path.  ``epoch`` must agree with the history: when the trainer's history has
    recorded epochs, it is the last of them (as in ``on_epoch_end``)."""
    return write_checkpoint(path, trainer.state_dict(epoch))


def load_checkpoint(path: str | os.PathLike[str], trainer: Trainer) -> int:
    """Restore a checkpoint into ``trainer`` and return its (0-based) epoch.

    The file is read and checked whole first (:func:`read_checkpoint`), then restored by
    :meth:`Trainer.load_state_dict`, all or nothing: a problem raises :class:`CheckpointError`
    naming the file and leaves the trainer as it was.  After it, ``trainer.fit(x, y,
    epochs=N)`` continues with the epoch after the saved one.  Prefer ``fit(...,
    resume_from=path)``: it also restores the generator of a ``DataLoader`` passed to that
    ``fit``.
    """
    return trainer.resume(path)
