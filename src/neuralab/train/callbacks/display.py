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


class ProgressBar(Callback):
    """Training progress on standard output (written here, no dependency).

    * ``verbose=1``: on a terminal, a bar per epoch with the running loss, replaced at the end of
      the epoch by the epoch's loss, metrics and validation figures; when the output is not a
      terminal (a log file, a notebook capture, CI), one line per epoch instead;
    * ``verbose=2``: one line per epoch always;
    * ``verbose=0``: nothing.

    The learning rate is shown once it differs from its value at the start.

    >>> trainer.fit(x, y, epochs=10, verbose=2)
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
            frac = min(done / self._steps, 1.0)
            filled = int(self.width * frac)
            arrow = ">" if filled < self.width else ""
            bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
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
