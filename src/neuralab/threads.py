"""One BLAS thread for the labs' small networks."""

from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the enclosed code (or decorated function) with one BLAS thread, through threadpoolctl
    (installed with scikit-learn, the ``[lab]`` extra); without it, nothing changes.

    The labs' networks are small (batches of at most a few hundred rows times a few hundred
    columns), so a second BLAS thread gains little, while on a machine shared with other
    processes OpenBLAS' waiting threads compete for the cores: a quick lab run took 30 s of wall
    time instead of 7 s with a load average of 4 on 2 cores, and a 0.2 ms matrix product 20 ms.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
