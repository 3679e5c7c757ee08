"""Progress display: one line per epoch, or a bar."""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

import numpy as np

from ..protocol import Callback


def _format_value(value: Any) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    v = float(value)
    if v == 0 or (1e-3 <= abs(v) < 1e4) or not math.isfinite(v):
        return f"{v:.4f}"
    return f"{v:.4e}"


def _bar(frac: float, width: int) -> str:
    """``=====>....`` of ``width`` characters, filled to ``frac`` (clipped to [0, 1])."""
    filled = int(width * min(max(frac, 0.0), 1.0))
    arrow = ">" if filled < width else ""
    return "=" * filled + arrow + "." * (width - filled - len(arrow))


def steps_line(params: dict[str, Any]) -> str | None:
    """The epoch/batch/step arithmetic of a fit in one line, from the trainer's ``params``:
    ``60000 samples, batch size 128: 469 steps per epoch (468 of 128, the last of 96)``; None
    when the data does not say how many samples or steps it has."""
    steps, n = params.get("steps"), params.get("samples")
    size, last = params.get("batch_size"), params.get("last_batch_size")
    if not steps or n is None or size is None:
        return None
    line = f"{n} samples, batch size {size}: {steps} step{'s' if steps != 1 else ''} per epoch"
    if last is not None and last != size:
        line += f" ({steps - 1} of {size}, the last of {last})"
    return line


class ProgressBar(Callback):
    """Training progress on standard output (written here, no dependency).

    * ``verbose=1``: on a terminal, a bar per epoch with the running loss, replaced at the end of
      the epoch by the epoch's loss, metrics and validation figures; when the output is not a
      terminal (a log file, a notebook capture, CI), one line per epoch instead;
    * ``verbose=2``: one line per epoch always;
    * ``verbose=0``: nothing.

    The learning rate is shown once it differs from its value at the start.  Before the first
    epoch one line gives the epoch/batch/step arithmetic (:func:`steps_line`).

    >>> trainer.fit(x, y, epochs=10, verbose=2)
    120 samples, batch size 32: 4 steps per epoch (3 of 32, the last of 24)
    Epoch 1/10 - 0.0s - loss: 1.0412 - accuracy: 0.4417 - val_loss: 0.9551 - val_accuracy: 0.5667
    """

    order = 100

    def __init__(
        self,
        verbose: int = 1,
        stream: IO[str] | None = None,
        width: int = 30,
        interval: float = 0.1,
    ) -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"ProgressBar expected verbose 0, 1 or 2, got {verbose!r}")
        self.verbose = verbose
        self.stream = stream
        self.width = int(width)
        self.interval = float(interval)
        self.mode: str | None = None

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stdout

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        out = self._out()
        tty = bool(getattr(out, "isatty", lambda: False)())
        self.mode = None if self.verbose == 0 else ("bar" if self.verbose == 1 and tty else "line")
        self._lr0 = getattr(self.trainer.optimizer, "lr", None)
        self._steps = self.trainer.params.get("steps")
        self._epochs = self.trainer.params.get("epochs")
        header = steps_line(self.trainer.params)
        if self.mode is not None and header:
            out.write(header + "\n")
            out.flush()

    def _uses(self, hook: str) -> bool:
        if hook == "on_batch_end":
            return self.mode == "bar"
        return super()._uses(hook)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._t0 = time.perf_counter()
        self._last = 0.0
        self._shown = 0
        if self.mode == "bar":
            self._out().write(f"Epoch {epoch + 1}/{self._epochs}\n")
            self._out().flush()

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        now = time.perf_counter()
        if now - self._last < self.interval:
            return
        self._last = now
        done = batch + 1
        elapsed = now - self._t0
        loss = (logs or {}).get("loss")
        tail = f" - loss: {_format_value(loss)}" if loss is not None else ""
        if self._steps:
            bar = _bar(done / self._steps, self.width)
            eta = elapsed / done * (self._steps - done)
            digits = len(str(self._steps))
            text = f"{done:>{digits}}/{self._steps} [{bar}] - ETA: {eta:.0f}s{tail}"
        else:
            text = f"{done} batches - {elapsed:.1f}s{tail}"
        self._write_bar(text)

    def _write_bar(self, text: str) -> None:
        out = self._out()
        pad = max(0, self._shown - len(text))
        out.write("\r" + text + " " * pad)
        out.flush()
        self._shown = len(text)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.mode is None:
            return
        logs = logs or {}
        elapsed = time.perf_counter() - self._t0
        parts = [
            f"{key}: {_format_value(value)}" for key, value in logs.items()
            if key != "lr" and isinstance(value, (int, float, np.floating, np.integer))
        ]
        lr = logs.get("lr")
        if lr is not None and self._lr0 is not None and lr != self._lr0:
            parts.append(f"lr: {_format_value(lr)}")
        metrics = " - ".join(parts)
        if self.mode == "bar":
            steps = self._steps or 0
            bar = f"{steps}/{steps} [{'=' * self.width}] - {elapsed:.1f}s - " if steps else ""
            self._write_bar(bar + metrics)
            self._out().write("\n")
        else:
            self._out().write(f"Epoch {epoch + 1}/{self._epochs} - {elapsed:.1f}s - {metrics}\n")
        self._out().flush()


class RunProgress(Callback):
    """Progress over the whole run rather than within an epoch, for runs of many short epochs
    (``neuralab train``): one line rewritten in place on a terminal, ``epoch 37/200
    [=====>....] ETA 12s - loss: ... - val_loss: ... (best 0.3110 at epoch 30)``, then the final
    line.  When the output is not a terminal (a log file, CI) a line every ``every`` (10 %) of
    the epochs and the last one, so a 200-epoch run writes 11 lines, not 200.

    >>> trainer.fit(x, y, epochs=200, verbose=0, callbacks=[RunProgress()])
    """

    order = 100

    def __init__(self, stream: IO[str] | None = None, width: int = 24, every: float = 0.1,
                 interval: float = 0.1) -> None:
        if not 0 < every <= 1:
            raise ValueError(f"RunProgress expected `every` in (0, 1], got {every!r}")
        self.stream, self.width, self.every, self.interval = stream, int(width), every, interval

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stdout

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._tty = bool(getattr(self._out(), "isatty", lambda: False)())
        self._epochs = int(self.trainer.params.get("epochs") or 0)
        self._t0 = time.perf_counter()
        self._first: int | None = None
        self._last_write = 0.0
        self._shown = 0
        self._best: tuple[float, int] | None = None
        self._next_line = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self._first is None:
            self._first = epoch
        watched = logs.get("val_loss", logs.get("loss"))
        if watched is not None and math.isfinite(watched) and (
                self._best is None or watched < self._best[0]):
            self._best = (float(watched), epoch + 1)
        done = epoch + 1 - self._first
        left = max(self._epochs - epoch - 1, 0)
        elapsed = time.perf_counter() - self._t0
        eta = elapsed / done * left if done else 0.0
        parts = [f"{k}: {_format_value(v)}" for k, v in logs.items() if k in (
            "loss", "val_loss", "accuracy", "val_accuracy", "mae", "val_mae")]
        best = (f" (best {_format_value(self._best[0])} at epoch {self._best[1]})"
                if self._best else "")
        frac = (epoch + 1) / self._epochs if self._epochs else 1.0
        bar = _bar(frac, self.width)
        text = (f"epoch {epoch + 1}/{self._epochs} [{bar}] "
                f"{'ETA ' + f'{eta:.0f}s' if left else f'{elapsed:.1f}s'} - "
                + " - ".join(parts) + best)
        now = time.perf_counter()
        last = left == 0 or self.trainer.stop_training
        if self._tty:
            if now - self._last_write >= self.interval or last:
                pad = max(0, self._shown - len(text))
                self._out().write("\r" + text + " " * pad)
                self._shown = len(text)
                self._last_write = now
        elif frac >= self._next_line or last:
            self._out().write(text + "\n")
            self._next_line = frac + self.every
        self._out().flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._tty and self._shown:
            self._out().write("\n")
            self._out().flush()
