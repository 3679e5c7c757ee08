"""Compiled kernels: the hot element-wise loops in one pass over memory, when numba is installed.

neuralab's arithmetic is written in NumPy, and that code is the reference.  NumPy makes one pass
over memory per call, so an update such as Adam's (a dozen calls) reads and writes its arrays a
dozen times.  With the optional extra ``pip install "neuralab[fast]"`` (numba), the loops of this
package are compiled on first use (a fraction of a second each, cached on disk afterwards) and run
as one pass that releases the GIL, so that :mod:`neuralab.optim.blocked` can share them out among
threads.  Every compiled loop does the float operations of its NumPy reference in the same order,
element by element, without fast-math (no fused multiply-add, no reassociation): the two paths
give the same bits, which the tests check for every kernel against its reference.

Which path runs:

- numba not installed: the NumPy path, always.
- ``NEURALAB_KERNELS=numpy`` in the environment (read once, at the first step), or
  ``neuralab.kernels.set_enabled(False)``: the NumPy path (``with neuralab.kernels.disabled():``
  for one block of code).
- otherwise the compiled path wherever a kernel exists for the case at hand.

numba is imported at the first call of a kernel, never by ``import neuralab``.

>>> import neuralab.kernels as kernels
>>> kernels.enabled()          # True when numba is installed and not switched off
>>> with kernels.disabled():   # the NumPy reference for this block
...     opt.step()
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import Any, Callable, Iterator

import numpy as np

#: the dtypes the kernels are compiled for (callers keep other dtypes on the NumPy path)
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_available: bool | None = None
_switch: bool | None = None  # set_enabled's choice; None: the environment decides
_from_env: bool | None = None  # the environment's choice, read at the first need


def available() -> bool:
    """Whether numba can be imported (checked once, without importing it)."""
    global _available
    if _available is None:
        _available = importlib.util.find_spec("numba") is not None
    return _available


def enabled() -> bool:
    """Whether the compiled kernels run: numba is installed and they are not switched off (by
    :func:`set_enabled` or ``NEURALAB_KERNELS=numpy``)."""
    if _switch is not None:
        return _switch and available()
    global _from_env
    if _from_env is None:  # read once: this runs on every op of the hot path
        _from_env = (os.environ.get("NEURALAB_KERNELS", "").strip().lower() != "numpy"
                     and available())
    return _from_env


def set_enabled(flag: bool | None) -> None:
    """Switch the compiled kernels on (``True``, when numba is installed) or off (``False``);
    ``None`` hands the choice back to the environment (``NEURALAB_KERNELS``)."""
    global _switch
    if flag is not None and not isinstance(flag, bool):
        raise TypeError(f"set_enabled expected True, False or None, got {flag!r}")
    _switch = flag


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the enclosed block on the NumPy reference path."""
    global _switch
    before = _switch
    _switch = False
    try:
        yield
    finally:
        _switch = before


@contextlib.contextmanager
def forced(flag: bool) -> Iterator[None]:
    """Run the enclosed block with the compiled kernels on (``True``) or off (``False``)."""
    global _switch
    before = _switch
    _switch = flag
    try:
        yield
    finally:
        _switch = before


class LazyKernel:
    """A Python function compiled by numba at its first call (``nogil``: it runs while other
    threads do; ``error_model="numpy"``: a division by zero gives inf/nan as in NumPy, not an
    exception, which also lets the loop vectorize; no fast-math: the float operations stay as
    written).  Compiled code is cached on disk beside this package (or in numba's user cache
    when that is read-only)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.py_func = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._compiled: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        compiled = self._compiled
        if compiled is None:
            try:
                compiled = _compile(self.py_func)
                result = compiled(*args)  # numba compiles for these argument types here
            except Exception as err:  # an installed numba that cannot import or compile
                _give_up(err)
                return self.py_func(*args)  # the same loop, once, in plain Python
            self._compiled = compiled
            return result
        return compiled(*args)


def _compile(fn: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    return numba.njit(nogil=True, cache=True, error_model="numpy", fastmath=False)(fn)


def _give_up(err: Exception) -> None:
    """Switch the kernels off for this process, saying why once: numba is installed but failed
    (an incompatible NumPy, a broken LLVM); training goes on on the NumPy path."""
    global _available, _from_env
    _available = False
    _from_env = False
    import warnings

    warnings.warn(
        f"neuralab.kernels: numba failed ({type(err).__name__}: {err}); the NumPy path runs "
        "instead (the same numbers, slower). Reinstall numba (pip install -U 'neuralab[fast]') "
        "or set NEURALAB_KERNELS=numpy to silence this.", RuntimeWarning, stacklevel=3)


def kernel(fn: Callable[..., Any]) -> LazyKernel:
    """Decorator: ``fn`` becomes a :class:`LazyKernel` (plain Python until its first call)."""
    return LazyKernel(fn)
