"""Helpers of the file tests."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest


@pytest.fixture
def raised_without_blocking() -> Callable[..., BaseException]:
    """``call(fn, fifo)``: run ``fn(fifo)`` in a thread and return what it raised; fail if it
    blocks (after giving the FIFO a writer, so that the thread can end)."""

    def call(fn: Callable[[Any], Any], fifo: Any) -> BaseException:
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                fn(fifo)
            except BaseException as err:  # noqa: BLE001 - returned to the test
                outcome.append(err)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(10)
        if thread.is_alive():
            with open(fifo, "wb"):
                pass
            thread.join(10)
            pytest.fail(f"{getattr(fn, '__name__', fn)} blocked on a FIFO")
        assert outcome, "no error for a FIFO"
        return outcome[0]

    return call
