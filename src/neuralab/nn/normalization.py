"""Batch normalization (배치 정규화) and layer normalization, each one fused op.

Both normalize, then scale and shift with learned ``weight`` (gamma, starts at 1) and ``bias``
(beta, starts at 0):

    x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta

BatchNorm takes mu and var per feature over the batch (axis 0); LayerNorm per sample over the
last axes.  The backward pass of the normalization, with g = dL/dy and gx = g * gamma:

    dL/dx = (gx - mean(gx) - x_hat * mean(gx * x_hat)) / sqrt(var + eps)

(means over the same axes as mu), dL/dgamma = sum g * x_hat, dL/dbeta = sum g.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .module import Module, Parameter, register


class BatchNormOp(Function):
    """Batch normalization of (N, C) input; training mode uses batch statistics and updates the
    running ones in place, evaluation mode uses the running ones.

    training:  mu, var = batch mean and biased variance (over N);
               running_mean <- (1 - m) running_mean + m mu,
               running_var  <- (1 - m) running_var + m var N / (N - 1)   (unbiased, as PyTorch)
    eval:      mu, var = running_mean, running_var (constants: dL/dx = g gamma / sqrt(var + eps))
    """

    def forward(
        self, x, weight=None, bias=None, running_mean=None, running_var=None, momentum=0.1,
        eps=1e-5, training=True,
    ):
        self.training, self.weight = training, weight
        if training:
            n = x.shape[0]
            mean = x.mean(axis=0)
            xc = x - mean
            var = np.einsum("ij,ij->j", xc, xc) / n
            inv_std = 1.0 / np.sqrt(var + eps)
            xc *= inv_std
            self.x_hat, self.inv_std = xc, inv_std
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
                running_var *= 1.0 - momentum
                running_var += (momentum * n / (n - 1)) * var
            out = xc * weight if weight is not None else xc.copy()
        else:
            inv_std = 1.0 / np.sqrt(running_var + eps)
            self.x, self.mean, self.inv_std = x, running_mean, inv_std
            scale = inv_std * weight if weight is not None else inv_std
            self.scale = scale
            out = (x - running_mean) * scale
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        needs = self.needs
        w = self.weight
        gbias = grad.sum(axis=0) if len(needs) > 2 and needs[2] else None
        if not self.training:
            gx = grad * self.scale if needs[0] else None
            gw = None
            if w is not None and needs[1]:
                gw = np.einsum("ij,ij->j", grad, self.x - self.mean) * self.inv_std
            return gx, gw, gbias
        x_hat = self.x_hat
        n = grad.shape[0]
        sum_g = gbias if gbias is not None else grad.sum(axis=0)
        sum_gx = np.einsum("ij,ij->j", grad, x_hat)  # = dL/dgamma
        gx = None
        if needs[0]:
            scale = self.inv_std * w if w is not None else self.inv_std
            # (g - mean g - x_hat mean(g x_hat)) gamma / sqrt(var + eps), one pass over (N, C)
            gx = grad - sum_g / n
            gx -= x_hat * (sum_gx / n)
            gx *= scale
        return gx, (sum_gx if w is not None and needs[1] else None), gbias


class LayerNormOp(Function):
    """Layer normalization over the last ``k`` axes (per sample), with optional affine."""

    def forward(self, x, weight=None, bias=None, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        self.axes, self.weight = axes, weight
        xc = x - x.mean(axis=axes, keepdims=True)
        var = np.mean(np.square(xc), axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + eps)
        xc *= inv_std
        self.x_hat, self.inv_std = xc, inv_std
        out = xc * weight if weight is not None else xc.copy()
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        needs, axes, x_hat, w = self.needs, self.axes, self.x_hat, self.weight
        gx = None
        if needs[0]:
            gxh = grad * w if w is not None else grad
            gx = gxh - gxh.mean(axis=axes, keepdims=True)
            gx -= x_hat * np.mean(gxh * x_hat, axis=axes, keepdims=True)
            gx *= self.inv_std
        # shaped like x: the engine sums them down to the parameters' shape
        gw = grad * x_hat if w is not None and needs[1] else None
        gb = grad if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


def _check_features(value: Any, who: str, arg: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who} expected a positive integer for `{arg}` (or None), got {value!r}")
    return int(value)


@register
class BatchNorm(Module):
    """Batch normalization of (N, features) input, as PyTorch's ``BatchNorm1d``.

    Training: y = gamma (x - mu_B) / sqrt(var_B + eps) + beta with the batch mean mu_B and biased
    variance var_B, and the running statistics move towards the batch's:
    running_mean <- (1 - momentum) running_mean + momentum mu_B, and the same for running_var
    with the unbiased variance var_B N / (N - 1).  Evaluation (``model.eval()``): mu and var are
    the running statistics, so a prediction does not depend on the rest of the batch.

    ``weight`` (gamma) and ``bias`` (beta) are trained; ``running_mean`` and ``running_var`` are
    buffers (saved, not trained; listed as non-trainable in ``summary()``).  ``num_features`` is
    taken from the first input when omitted.

    >>> bn = nn.BatchNorm(64)
    >>> model = nn.Sequential([nn.Dense(64), nn.BatchNorm(), nn.ReLU(), nn.Dense(3)])
    """

    def __init__(
        self, num_features: int | None = None, momentum: float = 0.1, eps: float = 1e-5,
        affine: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not (
            0.0 <= momentum <= 1.0
        ):
            raise ValueError(f"BatchNorm expected 0 <= momentum <= 1, got {momentum!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"BatchNorm expected a positive `eps`, got {eps!r}")
        self.num_features = None
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.affine = bool(affine)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        self.register_buffer("running_mean", None)
        self.register_buffer("running_var", None)
        n = _check_features(num_features, "BatchNorm", "num_features")
        if n is not None:
            self.build(n)

    @property
    def built(self) -> bool:
        return self.running_mean is not None

    def build(self, num_features: int) -> None:
        self.num_features = num_features
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))

    def _build_from_state(self, local_state: dict[str, np.ndarray]) -> None:
        ref = local_state.get("running_mean")
        if self.running_mean is None and ref is not None and ref.ndim == 1 and ref.shape[0] > 0:
            self.build(ref.shape[0])

    def forward(self, x: Any) -> Tensor:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.ndim != 2:
            raise ValueError(
                f"BatchNorm expected input of shape (batch, features), got shape {data.shape}"
            )
        if self.running_mean is None:
            self.build(data.shape[1])
        if data.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm was built for {self.num_features} features, got input of shape "
                f"{data.shape}"
            )
        if self.training and data.shape[0] < 2:
            raise ValueError(
                f"BatchNorm needs more than one sample per batch in training mode (got shape "
                f"{data.shape}); use model.eval() to predict on single samples"
            )
        if data.dtype != np.float32:
            # as Dense: an integer or float64 tensor would turn the float32 work into float64
            x = x.astype(np.float32) if isinstance(x, Tensor) else data.astype(np.float32)
        return BatchNormOp.apply(
            x, self.weight, self.bias, running_mean=self.running_mean,
            running_var=self.running_var, momentum=self.momentum, eps=self.eps,
            training=self.training,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features, "momentum": self.momentum, "eps": self.eps,
            "affine": self.affine,
        }


@register
class LayerNorm(Module):
    """Layer normalization: each sample is normalized over its last axes (``normalized_shape``,
    by default the last axis, taken from the first input), the same in training and evaluation.

    y = gamma (x - mu) / sqrt(var + eps) + beta,  mu and biased var over the normalized axes.

    >>> ln = nn.LayerNorm(64)
    >>> ln(np.random.rand(8, 64)).shape
    (8, 64)
    """

    def __init__(
        self, normalized_shape: int | tuple[int, ...] | None = None, eps: float = 1e-5,
        elementwise_affine: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"LayerNorm expected a positive `eps`, got {eps!r}")
        self.normalized_shape: tuple[int, ...] | None = None
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        if normalized_shape is not None:
            dims = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
            try:
                dims = tuple(_check_features(d, "LayerNorm", "normalized_shape") for d in dims)
            except TypeError:
                raise ValueError(
                    f"LayerNorm expected an int or a tuple of ints for `normalized_shape`, got "
                    f"{normalized_shape!r}"
                ) from None
            if not dims:
                raise ValueError("LayerNorm expected a non-empty `normalized_shape`")
            self.build(dims)

    @property
    def built(self) -> bool:
        return self.normalized_shape is not None

    def build(self, normalized_shape: tuple[int, ...]) -> None:
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))

    def _build_from_state(self, local_state: dict[str, np.ndarray]) -> None:
        ref = local_state.get("weight")
        if self.normalized_shape is None and ref is not None and ref.ndim >= 1:
            self.build(ref.shape)

    def forward(self, x: Any) -> Tensor:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if self.normalized_shape is None:
            if data.ndim == 0:
                raise ValueError("LayerNorm expected an input with a feature axis, got a scalar")
            self.build(data.shape[-1:])
        k = len(self.normalized_shape)
        if data.ndim < k or data.shape[data.ndim - k:] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm normalizes over trailing axes {self.normalized_shape}, got input of "
                f"shape {data.shape}"
            )
        if data.dtype != np.float32:
            # as Dense: an integer or float64 tensor would turn the float32 work into float64
            x = x.astype(np.float32) if isinstance(x, Tensor) else data.astype(np.float32)
        return LayerNormOp.apply(x, self.weight, self.bias, k=k, eps=self.eps)

    def get_config(self) -> dict[str, Any]:
        shape = None if self.normalized_shape is None else list(self.normalized_shape)
        return {"normalized_shape": shape, "eps": self.eps,
                "elementwise_affine": self.elementwise_affine}


__all__ = ["BatchNorm", "BatchNormOp", "LayerNorm", "LayerNormOp"]
