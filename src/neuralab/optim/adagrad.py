"""AdaGrad: per-weight learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import optim as compiled
from .optimizer import Optimizer, ParamsLike, check_non_negative, kernel_views, sqrt_plus_eps


class AdaGrad(Optimizer):
    """AdaGrad (Duchi, Hazan and Singer, 2011) as PyTorch defines it.

    With gradient ``g_t``, learning rate ``eta``, ``lr_decay`` ``d``, weight decay ``lambda``::

        g_t = g_t + lambda * theta_{t-1}                     (if weight_decay != 0)
        eta_t = eta / (1 + (t - 1) * d)
        h_t = h_{t-1} + g_t^2                                (h_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - eta_t * g_t / (sqrt(h_t) + eps)

    Each weight's step shrinks as its squared gradients accumulate, so weights with large or
    frequent gradients slow down first; the sum never decays, so learning eventually stalls
    (RMSProp's motivation).

    **Differences from the lecture's book** (*Deep Learning from Scratch*): the book's ``AdaGrad``
    is the same rule with ``eps`` written as ``1e-7`` in the code and no ``lr_decay``,
    ``initial_accumulator_value`` or weight decay; PyTorch's ``eps`` default is ``1e-10``.  Both add
    ``eps`` outside the square root (Keras adds it inside, ``sqrt(h + eps)``: ``eps_inside_sqrt=True``,
    as ``neuralab.keras.optimizers.Adagrad`` sets it).

    >>> opt = AdaGrad(model.parameters(), lr=0.1)
    """

    _n_scratch = 2
    _flat_update = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        eps_inside_sqrt: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
            eps_inside_sqrt=bool(eps_inside_sqrt),
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_non_negative(group[key], key, "AdaGrad")

    def _init_state(self, data: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"sum": np.full_like(data, group["initial_accumulator_value"])}

    def _update(self, data, grad, state, group, scratch) -> None:
        tmp, d = scratch
        wd = group["weight_decay"]
        if wd != 0:
            np.multiply(data, wd, out=d)
            d += grad
        else:
            d = grad
        clr = _decayed_lr(group, state["step"])
        h = state["sum"]
        np.multiply(d, d, out=tmp)
        h += tmp
        sqrt_plus_eps(h, group["eps"], bool(group.get("eps_inside_sqrt")), tmp)
        np.divide(d, tmp, out=tmp)
        tmp *= -clr
        data += tmp

    def _kernel(self, group: dict[str, Any]):
        return self._compiled

    def _compiled(self, data, grad, state, group, scratch) -> None:
        """``_update`` as one compiled pass (:func:`neuralab.kernels.optim.adagrad`)."""
        views = kernel_views(data, grad, state.get("sum"))
        if views is None:
            self._reference_update(data, grad, state, group, scratch)
            return
        dt = data.dtype.type  # the scalars as the reference's ufuncs see them (NEP 50)
        wd = group["weight_decay"]
        compiled.adagrad(*views, wd != 0, dt(wd), dt(group["eps"]),
                         bool(group.get("eps_inside_sqrt")), dt(-_decayed_lr(group, state["step"])))


def _decayed_lr(group: dict[str, Any], t: int) -> float:
    """The rate of step ``t``, ``lr / (1 + (t - 1) lr_decay)`` (a Python float)."""
    return group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
