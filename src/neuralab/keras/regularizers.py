"""Keras' weight penalties (L1/L2 규제): ``regularizers.l2(0.01)`` is ``nn.regularizers.L2(0.01)``.

The classes *are* neuralab's (``L1``, ``L2``, ``L1L2``; ``l1``, ``l2``, ``l1_l2`` are their Keras
aliases), with Keras' convention: penalty = l1 sum |w| + l2 sum w^2 (no 1/2), defaults 0.01 for
``l1``/``l2`` and 0.0 for both factors of ``l1_l2``, added to the training loss.
"""

from __future__ import annotations

from typing import Any

from ..nn import regularizers as _reg
from ..nn.regularizers import L1, L1L2, L2, Regularizer
from ._util import missing_name

l1 = L1
l2 = L2
l1_l2 = L1L2

_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from None, a neuralab/Keras regularizer object, a Keras name (``"l2"``:
    factor 0.01, ``"l1_l2"``) or neuralab's saved form."""
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"unknown regularizer {identifier!r}; Keras names: l1, l2, l1_l2")
        return _NAMES[identifier]()
    return _reg.get(identifier)


def __getattr__(name: str) -> Any:
    raise missing_name(
        "neuralab.keras.regularizers", name, ["L1", "L2", "L1L2", "l1", "l2", "l1_l2"],
        "a custom penalty subclasses neuralab.nn.regularizers.Regularizer",
    )


__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "l1", "l1_l2", "l2"]
