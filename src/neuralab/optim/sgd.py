"""Stochastic gradient descent, with momentum and Nesterov momentum (확률적 경사 하강법)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import optim as compiled
from .optimizer import Optimizer, ParamsLike, check_non_negative, kernel_views, unused


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay.

    With gradient ``g_t``, learning rate ``eta``, momentum ``mu``, dampening ``tau`` and weight
    decay ``lambda`` (PyTorch's definition)::

        g_t = g_t + lambda * theta_{t-1}                     (if weight_decay != 0)
        b_1 = g_1;   b_t = mu * b_{t-1} + (1 - tau) * g_t    (if momentum != 0)
        d_t = g_t + mu * b_t   (nesterov)   or   d_t = b_t   (momentum)   or   d_t = g_t
        theta_t = theta_{t-1} - eta * d_t

    Plain SGD (``momentum=0``) is the lecture's ``W <- W - eta * dL/dW``.

    **Differences from the lecture's book** (*Deep Learning from Scratch*): its ``Momentum`` keeps a
    velocity that already contains the learning rate, ``v <- mu v - eta g; W <- W + v``.  With a
    constant ``lr`` and ``dampening=0`` that is the same trajectory (``v_t = -eta b_t``; the first
    step here sets ``b_1 = g_1`` without dampening, as PyTorch); when a schedule changes ``lr``,
    PyTorch's form applies the new rate to the whole buffer at once, the book's only to new
    gradients.  For Nesterov, PyTorch's ``W <- W - eta (g + mu b_t)`` is Bengio et al.'s (2012)
    ``W <- W + mu^2 v_{t-1} - (1 + mu) eta g``; the book's ``Nesterov`` code applies ``mu^2`` to
    the already updated ``v_t`` instead, which gives a different trajectory.

    ``weight_decay`` adds ``lambda * theta`` to the gradient (the gradient of an L2 penalty
    ``lambda/2 ||theta||^2``).

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    """

    _flat_update = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, nesterov=bool(nesterov),
            weight_decay=weight_decay,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for key in ("momentum", "dampening", "weight_decay"):
            check_non_negative(group[key], key, "SGD")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD with nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def _state_keys(self, group: dict[str, Any], dtype: np.dtype) -> tuple[str, ...]:
        # the buffer is made by the first step (b_1 = g_1), then read by every other
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(self, data, grad, state, group, scratch) -> None:
        (tmp,) = scratch
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        d = grad
        if wd != 0:
            np.multiply(data, wd, out=tmp)
            tmp += grad
            d = tmp
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d.copy()
            else:
                buf *= mu
                dampening = group["dampening"]
                if dampening == 0:
                    buf += d
                else:
                    np.multiply(d, 1.0 - dampening, out=tmp)
                    buf += tmp
            if group["nesterov"]:
                # theta -= lr * (d + mu * b), as two scaled adds through one scratch array
                np.multiply(d, -lr, out=tmp)
                data += tmp
                np.multiply(buf, -lr * mu, out=tmp)
                data += tmp
                return
            d = buf
        np.multiply(d, -lr, out=tmp)
        data += tmp

    def _kernel(self, group: dict[str, Any]):
        return self._compiled

    def _compiled(self, data, grad, state, group, scratch) -> None:
        """``_update`` as one compiled pass (:func:`neuralab.kernels.optim.sgd`); the first step
        with momentum, which makes the buffer, runs the reference."""
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        momentum = mu != 0
        views = kernel_views(data, grad, *((state.get("momentum_buffer"),) if momentum else ()))
        if views is None:
            self._reference_update(data, grad, state, group, scratch)
            return
        if not momentum:
            views.append(unused(data.dtype))
        dt = data.dtype.type  # the scalars as the reference's ufuncs see them (NEP 50)
        dampening = group["dampening"]
        compiled.sgd(*views, wd != 0, dt(wd), momentum, dt(mu), dampening != 0,
                     dt(1.0 - dampening), bool(group["nesterov"]), dt(-lr), dt(-lr * mu))
