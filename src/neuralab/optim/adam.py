"""Adam and AdamW: momentum plus RMSProp-style scaling, with bias correction."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..kernels import optim as compiled
from .optimizer import (
    Optimizer,
    ParamsLike,
    check_non_negative,
    check_unit_interval,
    kernel_views,
    unused,
)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) as PyTorch defines it, with optional AMSGrad.

    With gradient ``g_t``, learning rate ``eta``, ``betas = (beta1, beta2)``, weight decay
    ``lambda``::

        g_t = g_t + lambda * theta_{t-1}                   (L2 penalty; if weight_decay != 0)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t          (m_0 = 0)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2        (v_0 = 0)
        vmax_t = max(vmax_{t-1}, v_t)                      (amsgrad; then v_t := vmax_t below)
        theta_t = theta_{t-1} - eta / (1 - beta1^t) * m_t / (sqrt(v_t / (1 - beta2^t)) + eps)

    The two divisions by ``1 - beta^t`` undo the bias of averages started at zero.  The code
    evaluates the last line as ``theta -= eta sqrt(1 - beta2^t) / (1 - beta1^t) * m_t /
    (sqrt(v_t) + eps sqrt(1 - beta2^t))``, the same number with one pass over the array fewer.

    **Differences from the lecture's book** (*Deep Learning from Scratch*): the book's ``Adam``
    folds both corrections into the rate, ``lr_t = eta sqrt(1 - beta2^t) / (1 - beta1^t)``, and
    adds ``eps = 1e-7`` to the *uncorrected* ``sqrt(v_t)``, i.e. its ``eps`` is effectively
    ``1e-7 / sqrt(1 - beta2^t)`` here; early steps differ slightly when gradients are tiny.  Keras
    also uses that form (``epsilon = 1e-7``).  PyTorch's ``eps`` is ``1e-8`` and sits after the
    correction, as written above; ``eps_before_correction=True`` adds it to the uncorrected
    ``sqrt(v_t)`` instead, the book's and Keras' form (``neuralab.keras.optimizers.Adam`` uses it).

    >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    _n_scratch = 2
    _flat_update = True
    _decoupled = False

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        eps_before_correction: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=bool(amsgrad),
            eps_before_correction=bool(eps_before_correction),
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        name = type(self).__name__
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name} expected `betas` as a pair (beta1, beta2), got {betas!r}")
        check_unit_interval(betas[0], "betas[0]", name)
        check_unit_interval(betas[1], "betas[1]", name)
        check_non_negative(group["eps"], "eps", name)
        check_non_negative(group["weight_decay"], "weight_decay", name)

    def _init_state(self, data: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(data)
        return state

    def _update(self, data, grad, state, group, scratch) -> None:
        tmp, decayed = scratch
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        d = grad
        if wd != 0:
            if self._decoupled:
                data *= 1.0 - lr * wd
            else:
                np.multiply(data, wd, out=decayed)
                decayed += grad
                d = decayed
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # m += (1 - beta1) (g - m): PyTorch's lerp, three passes like beta1 m + (1 - beta1) g
        np.subtract(d, m, out=tmp)
        tmp *= 1.0 - beta1
        m += tmp
        v *= beta2
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if group["amsgrad"]:
            vmax = state.get("max_exp_avg_sq")
            if vmax is None:  # amsgrad switched on after the state was created
                vmax = state["max_exp_avg_sq"] = v.copy()
            np.maximum(vmax, v, out=vmax)
            v = vmax
        step_size, eps = _corrected(group, state["step"])
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= -step_size
        data += tmp

    def _kernel(self, group: dict[str, Any]):
        return self._compiled

    def _compiled(self, data, grad, state, group, scratch) -> None:
        """``_update`` as one compiled pass (:func:`neuralab.kernels.optim.adam`)."""
        amsgrad = bool(group["amsgrad"])
        keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")[: 3 if amsgrad else 2]
        views = kernel_views(data, grad, *(state.get(k) for k in keys))
        if views is None:  # e.g. amsgrad switched on: the reference makes max_exp_avg_sq
            self._reference_update(data, grad, state, group, scratch)
            return
        if not amsgrad:
            views.append(unused(data.dtype))
        dt = data.dtype.type  # the scalars as the reference's ufuncs see them (NEP 50)
        lr, wd = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        mode = (compiled.NO_DECAY if wd == 0 else
                compiled.DECOUPLED_DECAY if self._decoupled else compiled.L2_DECAY)
        step_size, eps = _corrected(group, state["step"])
        compiled.adam(*views, mode, dt(wd), dt(1.0 - lr * wd), amsgrad, dt(1.0 - beta1),
                      dt(beta2), dt(1.0 - beta2), dt(eps), dt(-step_size))


def _corrected(group: dict[str, Any], t: int) -> tuple[float, float]:
    """The step size ``lr sqrt(1 - beta2^t) / (1 - beta1^t)`` and the term added to
    ``sqrt(v_t)`` at step ``t``, as Python floats: they keep float32 arrays float32 (a NumPy
    float64 scalar would not)."""
    lr, eps = group["lr"], group["eps"]
    beta1, beta2 = group["betas"]
    sqrt_bc2 = math.sqrt(1.0 - beta2**t)
    step_size = lr * sqrt_bc2 / (1.0 - beta1**t)
    return step_size, (eps if group.get("eps_before_correction") else eps * sqrt_bc2)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as PyTorch's ``AdamW``.

    The decay shrinks the weights directly instead of entering the gradient (and so the
    adaptive scaling)::

        theta_{t-1} <- theta_{t-1} * (1 - eta * lambda)
        (then the Adam step of :class:`Adam` with weight_decay = 0)

    With Adam's L2 penalty, weights with large gradient variance are decayed less; decoupling
    gives every weight the same relative decay per step.  Default ``weight_decay = 0.01``.  The
    lecture's book has no AdamW.

    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        *,
        eps_before_correction: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad,
                         eps_before_correction=eps_before_correction)
