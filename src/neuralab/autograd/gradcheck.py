"""Numerical gradient checking (수치 미분): compare backpropagation with central differences.

For inputs x_k and a function f, pick a random cotangent v (same shape as f's output) and the scalar
L = sum(v * f(x)).  Backpropagation gives dL/dx_k; central differences give
(L(x + eps e_i) - L(x - eps e_i)) / (2 eps) for every element i.  Everything runs in float64.
An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .engine import no_grad
from .tensor import Tensor


@dataclass
class GradcheckReport:
    """Result of :func:`gradcheck`: ``ok``, the worst errors and where the worst one occurred."""

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst_input: int | None
    worst_index: tuple[int, ...] | None
    analytic: list[np.ndarray]
    numeric: list[np.ndarray]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        where = (
            f" (worst at input {self.worst_input}, index {self.worst_index})"
            if self.worst_input is not None
            else ""
        )
        return (
            f"gradcheck {verdict}: max abs error {self.max_abs_error:.3g}, "
            f"max rel error {self.max_rel_error:.3g}{where}"
        )


def numerical_gradient(
    loss: Callable[[], float], tensors: list[Any], eps: float = 1e-6
) -> list[np.ndarray]:
    """Central differences of ``loss()`` with respect to every element of every tensor (or
    array) in ``tensors``, perturbing each element in place and restoring it (two calls of
    ``loss`` per element), as float64 arrays of the tensors' shapes:

        g_i = (L(w + eps e_i) - L(w - eps e_i)) / (2 eps)

    >>> numerical_gradient(lambda: float((model(x).data ** 2).sum()), model.parameters(), 1e-4)
    """
    grads = []
    for t in tensors:
        data = t.data if isinstance(t, Tensor) else t
        if not data.flags.c_contiguous or not data.flags.writeable:
            raise ValueError(
                "numerical_gradient perturbs each array in place, so it needs writeable "
                f"C-contiguous arrays; got one of shape {data.shape} that is not"
            )
        flat = data.reshape(-1)  # a view: writing to it perturbs the tensor itself
        g = np.empty(flat.size, dtype=np.float64)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            up = loss()
            flat[i] = original - eps
            down = loss()
            flat[i] = original
            g[i] = (up - down) / (2 * eps)
        grads.append(g.reshape(data.shape))
    return grads


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> GradcheckReport:
    """Check ``fn``'s backward pass against central differences in float64.

    ``inputs`` are tensors or arrays; floating ones are promoted to float64 copies and checked,
    others (integer labels, masks) are passed through unchanged.  ``fn`` must be deterministic.

    >>> report = neuralab.gradcheck(lambda a, b: (a * b).tanh(), x, y)
    >>> report.ok, report.max_abs_error
    """
    xs: list[Any] = []
    checked: list[int] = []
    for k, x in enumerate(inputs):
        arr = x.data if isinstance(x, Tensor) else np.asarray(x)
        if arr.dtype.kind == "f":
            xs.append(Tensor(arr, requires_grad=True, dtype=np.float64))
            checked.append(k)
        else:
            xs.append(x)
    if not checked:
        raise ValueError(
            "gradcheck: no floating-point input to check; pass float tensors or arrays"
        )

    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(
            f"gradcheck: fn returned {out.dtype} for float64 inputs; something in it casts to a "
            "lower precision"
        )
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cotangent).sum().backward()
    analytic = [
        xs[k].grad if xs[k].grad is not None else np.zeros_like(xs[k].data) for k in checked
    ]

    def objective() -> float:
        with no_grad():
            return float(np.sum(fn(*xs).data * cotangent))

    numeric = numerical_gradient(objective, [xs[k] for k in checked], eps)

    worst = (0.0, 0.0, None, None, -np.inf)  # abs, rel, input, index, excess over tolerance
    for k, a, n in zip(checked, analytic, numeric):
        if a.size == 0:
            continue
        abs_err = np.abs(a - n)
        rel_err = abs_err / np.maximum(np.abs(n), 1e-12)
        excess = abs_err - (atol + rtol * np.abs(n))
        # a NaN (either side) compares false with any tolerance: count it as the worst failure
        excess = np.where(np.isnan(excess), np.inf, excess)
        i = int(np.argmax(excess))
        # np.max, not max(): the builtin would drop a NaN error and report 0
        abs_max = float(np.max([worst[0], abs_err.max()]))
        rel_max = float(np.max([worst[1], np.where(abs_err <= atol, 0, rel_err).max()]))
        if excess.flat[i] > worst[4]:
            worst = (abs_max, rel_max, k, np.unravel_index(i, a.shape), float(excess.flat[i]))
        else:
            worst = (abs_max, rel_max, *worst[2:])
    ok = worst[4] <= 0
    index = tuple(int(j) for j in worst[3]) if worst[3] is not None else None
    return GradcheckReport(ok, worst[0], worst[1], worst[2], index, analytic, numeric)
