"""The one random number generator the library draws from.

Every function that needs randomness takes an explicit ``rng`` argument (a ``np.random.Generator``
or an integer seed).  When none is given it falls back to the generator installed here by
:func:`seed`, so ``neuralab.seed(0)`` makes a whole script reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Seed", "get_rng", "seed"]

#: What an ``rng`` argument accepts: a Generator, an integer seed, or None (the library generator).
Seed = np.random.Generator | int | None

_GENERATOR: np.random.Generator = np.random.default_rng()


def seed(n: int) -> np.random.Generator:
    """Install ``np.random.default_rng(n)`` as the library's generator and return it.

    >>> rng = neuralab.seed(0)
    >>> w = neuralab.nn.init.he_normal((4, 3))   # drawn from rng
    """
    global _GENERATOR
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"seed expected a non-negative integer, got {n!r}")
    _GENERATOR = np.random.default_rng(int(n))
    return _GENERATOR


def get_rng(rng: Seed = None) -> np.random.Generator:
    """Resolve an ``rng`` argument: a Generator is used as is, an int seeds a new one, None gives
    the library's generator (see :func:`seed`)."""
    if rng is None:
        return _GENERATOR
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng expected a numpy Generator, an integer seed or None, got {type(rng).__name__}"
    )
