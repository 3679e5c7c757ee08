"""Thread counts: one BLAS thread for the labs' small networks, and how many threads the
optimizers' blocked update may use.

The blocked update (:mod:`neuralab.optim.blocked`) splits a large parameter group across threads
while BLAS is idle (between the products of a training step), so it never uses more threads than
BLAS may: :func:`num_threads` is the smallest of the CPUs this process may run on, the limit set
with :func:`set_num_threads`, ``NEURALAB_NUM_THREADS``, and the BLAS thread count
(``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``, or, once threadpoolctl is imported, its live
limit, so that ``threadpool_limits(1)`` and :func:`single_thread_blas` hold for the update too).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Iterator

_limit: int | None = None
_blas: Any = None  # threadpoolctl's controller of the loaded BLAS, made on first need


def set_num_threads(n: int | None) -> None:
    """Let neuralab's own element-wise work use at most ``n`` threads (None: no limit of its
    own).  BLAS threads are set through ``OPENBLAS_NUM_THREADS`` or threadpoolctl."""
    global _limit
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads expected a positive integer or None, got {n!r}")
    _limit = n


def _env_threads(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _blas_threads() -> int | None:
    """BLAS's current thread count through threadpoolctl when the program imported it (so its
    limits are live), else what the environment asked of OpenBLAS or OpenMP; None if unknown."""
    global _blas
    if "threadpoolctl" in sys.modules:
        if _blas is None:
            from threadpoolctl import ThreadpoolController

            found = ThreadpoolController().select(user_api="blas").lib_controllers
            _blas = found[0] if found else False
        if _blas:
            return int(_blas.get_num_threads())
    return _env_threads("OPENBLAS_NUM_THREADS") or _env_threads("OMP_NUM_THREADS")


def num_threads() -> int:
    """How many threads neuralab's blocked optimizer update may use now (at least 1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    limits = [cpus, _limit, _env_threads("NEURALAB_NUM_THREADS"), _blas_threads()]
    return max(1, min(n for n in limits if n is not None))


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the enclosed code (or decorated function) with one BLAS thread, through threadpoolctl
    (installed with scikit-learn, the ``[lab]`` extra), and one thread for neuralab's blocked
    optimizer update; without threadpoolctl, only the latter changes.

    The labs' networks are small (batches of at most a few hundred rows times a few hundred
    columns), so a second BLAS thread gains little, while on a machine shared with other
    processes OpenBLAS' waiting threads compete for the cores: a quick lab run took 30 s of wall
    time instead of 7 s with a load average of 4 on 2 cores, and a 0.2 ms matrix product 20 ms.
    """
    global _limit
    before = _limit
    _limit = 1
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
            return
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        _limit = before
