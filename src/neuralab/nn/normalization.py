"""Batch normalization (배치 정규화) of features and of image channels, and layer normalization,
each one fused op.

Both normalize, then scale and shift with learned ``weight`` (gamma, starts at 1) and ``bias``
(beta, starts at 0):

    x_hat = (x - mu) / sqrt(var + eps),   y = gamma * x_hat + beta

BatchNorm takes mu and var per feature over the batch (axis 0), BatchNorm2D per channel over the
batch and the pixels (axes 0, 2, 3); LayerNorm per sample over the last axes.  The backward pass
of the normalization, with g = dL/dy and gx = g * gamma:

    dL/dx = (gx - mean(gx) - x_hat * mean(gx * x_hat)) / sqrt(var + eps)

(means over the same axes as mu), dL/dgamma = sum g * x_hat, dL/dbeta = sum g.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .module import Module, Parameter, register


def _channels(v: np.ndarray, ndim: int) -> np.ndarray:
    """A per-channel (C,) vector shaped to broadcast against (N, C, *spatial) input."""
    return v if ndim == 2 else v.reshape((-1,) + (1,) * (ndim - 2))


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """The sum of ``a`` over every axis but the channel axis 1: a (C,) vector."""
    return a.sum(axis=0) if a.ndim == 2 else a.sum(axis=(0, *range(2, a.ndim)))


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(a * b) over every axis but the channel axis 1, without an (N, C, ...) temporary."""
    if a.ndim == 2:
        return np.einsum("ij,ij->j", a, b)
    n, c = a.shape[:2]
    return np.einsum("ijk,ijk->j", a.reshape(n, c, -1), b.reshape(n, c, -1))


class BatchNormOp(Function):
    """Batch normalization of (N, C) or (N, C, *spatial) input, statistics per channel over every
    other axis (N, or N H W: m values per channel); training mode uses batch statistics and
    updates the running ones in place, evaluation mode uses the running ones.

    training:  mu, var = batch mean and biased variance (over the m values);
               running_mean <- (1 - m) running_mean + m mu,
               running_var  <- (1 - m) running_var + m var m / (m - 1)   (unbiased, as PyTorch;
               with unbiased=False the batch's biased var itself, as Keras)
    eval:      mu, var = running_mean, running_var (constants: dL/dx = g gamma / sqrt(var + eps))
    """

    def forward(
        self, x, weight=None, bias=None, running_mean=None, running_var=None, momentum=0.1,
        eps=1e-5, training=True, unbiased=True,
    ):
        self.training, self.weight = training, weight
        nd = x.ndim
        if training:
            n = x.size // x.shape[1]
            mean = x.mean(axis=0) if nd == 2 else x.mean(axis=(0, *range(2, nd)))
            xc = x - _channels(mean, nd)
            var = _channel_dot(xc, xc) / n
            inv_std = 1.0 / np.sqrt(var + eps)
            xc *= _channels(inv_std, nd)
            self.x_hat, self.inv_std = xc, inv_std
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
                running_var *= 1.0 - momentum
                running_var += (momentum * n / (n - 1) if unbiased else momentum) * var
            out = xc * _channels(weight, nd) if weight is not None else xc.copy()
        else:
            inv_std = 1.0 / np.sqrt(running_var + eps)
            self.x, self.mean, self.inv_std = x, running_mean, inv_std
            scale = inv_std * weight if weight is not None else inv_std
            self.scale = scale
            out = (x - _channels(running_mean, nd)) * _channels(scale, nd)
        if bias is not None:
            out += _channels(bias, nd)
        return out

    def backward(self, grad):
        needs = self.needs
        w = self.weight
        nd = grad.ndim
        gbias = _channel_sum(grad) if len(needs) > 2 and needs[2] else None
        if not self.training:
            gx = grad * _channels(self.scale, nd) if needs[0] else None
            gw = None
            if w is not None and needs[1]:
                gw = _channel_dot(grad, self.x - _channels(self.mean, nd)) * self.inv_std
            return gx, gw, gbias
        x_hat = self.x_hat
        n = grad.size // grad.shape[1]
        sum_g = gbias if gbias is not None else _channel_sum(grad)
        sum_gx = _channel_dot(grad, x_hat)  # = dL/dgamma
        gx = None
        if needs[0]:
            scale = self.inv_std * w if w is not None else self.inv_std
            # (g - mean g - x_hat mean(g x_hat)) gamma / sqrt(var + eps), one pass over the input
            gx = grad - _channels(sum_g / n, nd)
            gx -= x_hat * _channels(sum_gx / n, nd)
            gx *= _channels(scale, nd)
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
    with the unbiased variance var_B N / (N - 1) (``unbiased_running_var=False``: the biased var_B
    itself, as Keras' ``BatchNormalization``).  Evaluation (``model.eval()``): mu and var are
    the running statistics, so a prediction does not depend on the rest of the batch.

    ``weight`` (gamma) and ``bias`` (beta) are trained; ``running_mean`` and ``running_var`` are
    buffers (saved, not trained; listed as non-trainable in ``summary()``).  ``num_features`` is
    taken from the first input when omitted.

    >>> bn = nn.BatchNorm(64)
    >>> model = nn.Sequential([nn.Dense(64), nn.BatchNorm(), nn.ReLU(), nn.Dense(3)])
    """

    def __init__(
        self, num_features: int | None = None, momentum: float = 0.1, eps: float = 1e-5,
        affine: bool = True, unbiased_running_var: bool = True,
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
        self.unbiased_running_var = bool(unbiased_running_var)
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

    # what the input looks like, for _check_input (BatchNorm2D changes them)
    _layout, _ndim, _unit = "(batch, features)", 2, "features"
    _other = (4, "nn.BatchNorm2D for (N, C, H, W) images")  # (its input's ndim, the hint)
    _too_few = ("more than one sample per batch", "to predict on single samples")

    def _check_input(self, data: np.ndarray) -> None:
        who = type(self).__name__
        if data.ndim != self._ndim:
            hint = f"; use {self._other[1]}" if data.ndim == self._other[0] else ""
            raise ValueError(
                f"{who} expected input of shape {self._layout}, got shape {data.shape}{hint}"
            )
        if self.running_mean is None:
            self.build(data.shape[1])
        if data.shape[1] != self.num_features:
            raise ValueError(
                f"{who} was built for {self.num_features} {self._unit}, got input of shape "
                f"{data.shape}"
            )
        if self.training and data.shape[0] * math.prod(data.shape[2:]) < 2:
            raise ValueError(
                f"{who} needs {self._too_few[0]} in training mode (got shape {data.shape}); use "
                f"model.eval() {self._too_few[1]}"
            )

    def forward(self, x: Any) -> Tensor:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        self._check_input(data)
        if data.dtype != np.float32:
            # as Dense: an integer or float64 tensor would turn the float32 work into float64
            x = x.astype(np.float32) if isinstance(x, Tensor) else data.astype(np.float32)
        return BatchNormOp.apply(
            x, self.weight, self.bias, running_mean=self.running_mean,
            running_var=self.running_var, momentum=self.momentum, eps=self.eps,
            training=self.training, unbiased=self.unbiased_running_var,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features, "momentum": self.momentum, "eps": self.eps,
            "affine": self.affine,
            **({} if self.unbiased_running_var else {"unbiased_running_var": False}),
        }


@register
class BatchNorm2D(BatchNorm):
    """Batch normalization of (N, C, H, W) images per channel, as PyTorch's ``BatchNorm2d``:
    mu and var of each channel are taken over its m = N H W values (the batch and every pixel),

        y[n, c, i, j] = gamma_c (x[n, c, i, j] - mu_c) / sqrt(var_c + eps) + beta_c

    and in training the running statistics move towards the batch's with the unbiased variance
    var_c m / (m - 1); evaluation uses the running statistics, as :class:`BatchNorm`.
    ``num_features`` is the number of channels C, taken from the first input when omitted.

    >>> model = nn.Sequential([nn.Conv2D(16, 3, padding=1), nn.BatchNorm2D(), nn.ReLU()])
    """

    spatial = True
    _layout, _ndim, _unit = "(N, C, H, W)", 4, "channels"
    _other = (2, "nn.BatchNorm for (batch, features) input")
    _too_few = ("more than one value per channel", "to predict on a single 1 x 1 image")


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


__all__ = ["BatchNorm", "BatchNorm2D", "BatchNormOp", "LayerNorm", "LayerNormOp"]
