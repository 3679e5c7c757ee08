"""The blocked, multi-threaded update of a large flat group (the fast path of :mod:`.flat`).

The reference update (``Optimizer._update`` on a whole flat group) makes one pass over memory per
NumPy call: Adam's dozen calls read and write its four arrays a dozen times.  Here the flat
arrays are cut into blocks of :data:`BLOCK` elements and ``_update`` runs on one block after the
other, so that all of its passes over a block run while the block is in cache, and the blocks
are shared out among up to :func:`neuralab.threads.num_threads` threads (NumPy's ufuncs release
the GIL while they compute).  Every update rule is element-wise, so a block's numbers are the
numbers of the same elements in the whole-array update: the two paths agree bit for bit (tested
for every optimizer and option).

The compiled path: when the optimizer has a compiled one-pass kernel for the group
(``Optimizer._compiled_update``, see :mod:`neuralab.kernels.optim`), there is nothing to keep in
cache, so the group is not cut into blocks: each thread gets one contiguous, equal share, cut
only where the source of the gradient changes, and runs the kernel on each piece (a few calls per
thread; the kernel releases the GIL).  Its own thresholds, :data:`COMPILED_MIN_SIZE` and
:data:`COMPILED_MIN_THREADED`, were measured on the compiled kernels.  Its numbers are the
reference's too, bit for bit (tests/optim/test_compiled_update.py).

A large tensor's gradient is read where backward left it instead of being copied into the group's
flat gradient first (one pass fewer); small tensors' gradients are copied and updated together.
Groups below :data:`MIN_SIZE` elements keep the one-call path (the Python cost of a block would
outweigh what the cache saves), and threads are used from :data:`MIN_THREADED` elements on.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..threads import num_threads

if TYPE_CHECKING:
    from .flat import FlatGroup
    from .optimizer import Optimizer

#: elements per block: a few of the optimizer's arrays of this size stay in a core's caches
#: while the Python cost per block (a dozen ufunc calls) stays small against its arithmetic
BLOCK = 1 << 16
#: the smallest group updated block by block (measured with ``python -m bench``)
MIN_SIZE = 4 * BLOCK
#: the smallest group whose blocks are shared out among threads
MIN_THREADED = 8 * BLOCK
#: the smallest group on the compiled path's pieces: below it, the whole-group kernel call is as
#: fast (what reading large gradients in place saves is lost to the plan's Python cost).  Adam,
#: float32, one tensor of n values plus a bias of n/100, medians of interleaved steps on this
#: 2-core machine (quiet): n = 131 072: 73 us whole-group, 83 us pieces; 185 363: 91 / 91;
#: 262 144: 144 / 134; 524 288: 357 / 291; 4 194 304: 3.5 / 2.8 ms
COMPILED_MIN_SIZE = 4 * BLOCK
#: the smallest group whose compiled pieces are shared out among threads: handing work to the
#: pool's thread and waiting for it costs 70-130 us here (waking an idle core of the virtual
#: machine), so a second thread pays from about a million values.  Same measurements, one
#: thread / two: Adam n = 524 288: 291 / 402 us; 741 455: 402 / 507 us; 1 048 576: 714 /
#: 678 us; 2 097 152: 1.26 / 1.19 ms; 4 194 304: 2.81 / 2.22 ms; SGD with momentum (less
#: arithmetic per value): 524 288: 335 / 323 us; 1 048 576: 855 / 606 us
COMPILED_MIN_THREADED = 16 * BLOCK

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    """The persistent pool of ``workers`` threads (made again when the count changes)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="neuralab-optim")
            _pool_size = workers
        return _pool


def direct(size: int) -> bool:
    """Whether a tensor of ``size`` elements is updated from its own gradient array (not from a
    copy in the group's flat gradient)."""
    return size >= BLOCK // 2


class Plan:
    """The blocks of one flat group for a given thread count, set of state arrays and path: per
    thread, a list of (slice of the group, source of the gradient, offset in the source), with
    the data, state and scratch views of each block made once.

    The reference path (``compiled`` False) cuts every piece into blocks of :data:`BLOCK`
    elements that stay in cache through ``_update``'s passes.  The compiled path makes one pass
    whatever the size, so its pieces are only cut where the gradient's source changes and where
    one thread's equal share ends: a few kernel calls per thread (no scratch arrays)."""

    def __init__(self, opt: Optimizer, flat: FlatGroup, threads: int,
                 compiled: bool = False) -> None:
        self.threads = threads
        self.compiled = compiled
        self.keys = tuple(sorted(k for k in flat.state if k != "step"))
        runs: list[tuple[int, int, int, int]] = []  # (start, stop, source, offset)
        copied = len(flat.params)  # the source index of the flat gradient
        run_start = None
        for i, (a, b, _) in enumerate(flat.slices):
            if direct(b - a):
                if run_start is not None:
                    runs.append((run_start, a, copied, 0))
                    run_start = None
                runs.append((a, b, i, a))
            elif run_start is None:
                run_start = a
        if run_start is not None:
            runs.append((run_start, flat.slices[-1][1], copied, 0))
        # contiguous shares of about equal size, one per thread
        total = flat.data.size
        shares: list[list[tuple[int, int, int, int]]] = [[] for _ in range(threads)]
        if compiled:
            bounds = [total * k // threads for k in range(threads + 1)]
            for a, b, source, offset in runs:
                for k in range(threads):
                    lo, hi = max(a, bounds[k]), min(b, bounds[k + 1])
                    if lo < hi:
                        shares[k].append((lo, hi, source, offset))
        else:
            for run in runs:
                for piece in _split(*run):
                    shares[min(threads - 1, piece[0] * threads // total)].append(piece)
        self.work = []
        for share in shares:
            scratch = [] if compiled else [
                np.empty(BLOCK, dtype=flat.data.dtype) for _ in range(opt._n_scratch)]
            blocks = []
            for a, b, source, offset in share:
                state = {"step": 0, **{key: flat.state[key][a:b] for key in self.keys}}
                blocks.append((flat.data[a:b], source, a - offset, b - offset, state,
                               [s[: b - a] for s in scratch]))
            self.work.append(blocks)

    def fits(self, flat: FlatGroup, threads: int, compiled: bool) -> bool:
        return threads == self.threads and compiled == self.compiled and self.keys == tuple(
            sorted(k for k in flat.state if k != "step"))


def _split(a: int, b: int, source: int, base: int) -> list[tuple[int, int, int, int]]:
    """[a, b) in blocks of at most BLOCK elements, about equal (none a sliver)."""
    n = -(-(b - a) // BLOCK)
    bounds = [a + (b - a) * j // n for j in range(n + 1)]
    return [(lo, hi, source, base) for lo, hi in zip(bounds, bounds[1:])]


def usable(opt: Optimizer, flat: FlatGroup, group: dict[str, Any],
           compiled: bool = False) -> bool:
    """The blocked path applies: the group is large enough (:data:`MIN_SIZE`, or
    :data:`COMPILED_MIN_SIZE` for the compiled update) and holds every state array that the
    update reads (one that ``_update`` would create lazily is made by a whole-group step, so
    that the compiled update never falls back to the reference inside a block)."""
    return (flat.data.size >= (COMPILED_MIN_SIZE if compiled else MIN_SIZE)
            and set(opt._state_keys(group, flat.data.dtype)) <= set(flat.state))


def threads_for(size: int, compiled: bool = False) -> int:
    return num_threads() if size >= (COMPILED_MIN_THREADED if compiled else MIN_THREADED) else 1


def update_blocked(opt: Optimizer, flat: FlatGroup, group: dict[str, Any],
                   grads: list[np.ndarray], compiled: Callable[..., None] | None = None) -> None:
    """One step of ``opt`` on ``flat`` block by block; ``grads[i]`` is the flat gradient of the
    direct parameter ``i`` (others: unused), the group's flat gradient is the last source.
    ``compiled``: the optimizer's compiled update (see ``Optimizer._compiled_update``), run on
    the compiled path's few large pieces; None: ``_update`` on blocks of :data:`BLOCK`."""
    is_compiled = compiled is not None
    threads = threads_for(flat.data.size, is_compiled)
    plan = flat.plan
    if plan is None or not plan.fits(flat, threads, is_compiled):
        plan = flat.plan = Plan(opt, flat, threads, is_compiled)
    sources = [*grads, flat.grad]
    step = flat.state["step"]
    update = compiled or opt._update

    def run(blocks: list) -> None:
        for data, source, lo, hi, state, scratch in blocks:
            state["step"] = step
            update(data, sources[source][lo:hi], state, group, scratch)

    if plan.threads == 1:
        run(plan.work[0])
        return
    pool = _executor(plan.threads - 1)
    futures: list[Future] = [pool.submit(run, blocks) for blocks in plan.work[1:]]
    try:
        run(plan.work[0])
    finally:
        for future in futures:
            future.result()
