"""neuralab: neural networks from the MCP neuron to residual nets, on NumPy, inspectable at
every step.

>>> import neuralab as nl
>>> x = nl.tensor([[1.0, -2.0]], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([[ 2., -4.]], dtype=float32)
"""

from __future__ import annotations

import importlib
from typing import Any

from .autograd import (
    Function,
    GradcheckReport,
    Tensor,
    enable_grad,
    explain_backward,
    gradcheck,
    graph,
    numerical_gradient,
    is_grad_enabled,
    no_grad,
    tensor,
)
from .autograd.ops import *  # noqa: F401,F403  (the op functions: neuralab.tanh, neuralab.concatenate, ...)
from .autograd.ops import __all__ as _ops_all
from .random import get_rng, seed
from .version import __version__

# Subpackages load on first use, so `import neuralab` stays fast and NumPy-only.
_SUBPACKAGES = {"nn", "optim", "data", "train", "labs", "io"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    raise AttributeError(f"module 'neuralab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBPACKAGES | {"save", "load"})


__all__ = [
    "Function", "GradcheckReport", "Tensor", "enable_grad", "explain_backward", "gradcheck",
    "get_rng", "graph",
    "is_grad_enabled", "no_grad", "numerical_gradient", "seed", "tensor", "__version__",
    *_ops_all,
]
