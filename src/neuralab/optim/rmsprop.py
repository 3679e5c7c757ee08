"""RMSProp: AdaGrad with an exponentially decaying average of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import optim as compiled
from .optimizer import (
    Optimizer,
    ParamsLike,
    check_non_negative,
    check_unit_interval,
    kernel_views,
    sqrt_plus_eps,
    unused,
)


class RMSProp(Optimizer):
    """RMSProp (Hinton, 2012) as PyTorch defines it, with optional momentum and centering.

    With gradient ``g_t``, learning rate ``eta``, smoothing ``alpha``, momentum ``mu``::

        g_t = g_t + lambda * theta_{t-1}                      (if weight_decay != 0)
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2           (v_0 = 0)
        a_t = alpha * a_{t-1} + (1 - alpha) * g_t             (centered only; a_0 = 0)
        s_t = sqrt(v_t - a_t^2)  if centered  else  sqrt(v_t)
        b_t = mu * b_{t-1} + g_t / (s_t + eps)                (if momentum > 0; b_0 = 0)
        theta_t = theta_{t-1} - eta * b_t    or    theta_{t-1} - eta * g_t / (s_t + eps)

    ``centered`` divides by an estimate of the gradient's standard deviation instead of its root
    mean square.

    **Differences from the lecture's book** (*Deep Learning from Scratch*): the book's ``RMSprop``
    is the plain rule with ``decay_rate = 0.99`` (``alpha`` here) and ``eps = 1e-7`` added
    outside the square root; PyTorch uses ``eps = 1e-8``.  Keras differs more: ``rho = 0.9`` and
    ``eps`` inside the square root, ``sqrt(v + eps)`` (``eps_inside_sqrt=True``; also
    ``sqrt(v - a^2 + eps)`` when centered), as ``neuralab.keras.optimizers.RMSprop`` sets it.

    >>> opt = RMSProp(model.parameters(), lr=0.01, alpha=0.99)
    """

    _n_scratch = 2
    _flat_update = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
            centered=bool(centered), eps_inside_sqrt=bool(eps_inside_sqrt),
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_unit_interval(group["alpha"], "alpha", "RMSProp")
        for key in ("eps", "weight_decay", "momentum"):
            check_non_negative(group[key], key, "RMSProp")

    def _init_state(self, data: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"square_avg": np.zeros_like(data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(data)
        return state

    def _update(self, data, grad, state, group, scratch) -> None:
        tmp, d = scratch
        alpha, wd, mu = group["alpha"], group["weight_decay"], group["momentum"]
        if wd != 0:
            np.multiply(data, wd, out=d)
            d += grad
        else:
            d = grad
        v = state["square_avg"]
        v *= alpha
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - alpha
        v += tmp
        if group["centered"]:
            a = state.get("grad_avg")
            if a is None:  # centering switched on after the state was created
                a = state["grad_avg"] = np.zeros_like(data)
            np.subtract(d, a, out=tmp)
            tmp *= 1.0 - alpha
            a += tmp
            np.multiply(a, a, out=tmp)
            np.subtract(v, tmp, out=tmp)
            s = tmp
        else:
            s = v
        sqrt_plus_eps(s, group["eps"], bool(group.get("eps_inside_sqrt")), tmp)
        np.divide(d, tmp, out=tmp)
        if mu > 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.zeros_like(data)
            buf *= mu
            buf += tmp
            np.multiply(buf, -group["lr"], out=tmp)
        else:
            tmp *= -group["lr"]
        data += tmp

    def _kernel(self, group: dict[str, Any]):
        return self._compiled

    def _compiled(self, data, grad, state, group, scratch) -> None:
        """``_update`` as one compiled pass (:func:`neuralab.kernels.optim.rmsprop`)."""
        alpha, wd, mu = group["alpha"], group["weight_decay"], group["momentum"]
        centered, momentum = bool(group["centered"]), mu > 0
        keys = ("square_avg",) + (("grad_avg",) if centered else ()) + (
            ("momentum_buffer",) if momentum else ())
        views = kernel_views(data, grad, *(state.get(k) for k in keys))
        if views is None:  # e.g. centered switched on: the reference makes grad_avg
            self._reference_update(data, grad, state, group, scratch)
            return
        empty = unused(data.dtype)
        if not centered:
            views.insert(3, empty)
        if not momentum:
            views.append(empty)
        dt = data.dtype.type  # the scalars as the reference's ufuncs see them (NEP 50)
        compiled.rmsprop(*views, wd != 0, dt(wd), dt(alpha), dt(1.0 - alpha), centered,
                         dt(group["eps"]), bool(group.get("eps_inside_sqrt")), momentum, dt(mu),
                         dt(-group["lr"]))
