"""Convolution (합성곱) and pooling (풀링) layers on (N, C, H, W) images: Conv2D, MaxPool2D,
AvgPool2D, GlobalAvgPool2D.  Each is one op of :mod:`neuralab.autograd.ops.conv` (im2col and one
matrix product for the convolution; see there for the lowering and its memory).

Output size per spatial axis, with kernel k, stride s, dilation d and padding p on each side:

    H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1

>>> model = nn.Sequential([nn.Conv2D(16, 3, padding=1), nn.ReLU(), nn.MaxPool2D(2),
...                        nn.Flatten(), nn.Dense(10)])
>>> model.summary(input_shape=(1, 28, 28))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.ops.conv import AvgPool2d, Conv2d, MaxPool2d, conv_padding, pair
from ..autograd.ops.reduce import mean
from ..autograd.tensor import Tensor
from .layers import _positive_int, _WeightLayer
from .module import Module, register


def _image(x: Any, who: str) -> tuple[int, ...]:
    """The shape of ``x``, which must be a batch of images (N, C, H, W)."""
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) != 4:
        hint = f"; for one image pass x[None], of shape (1, *{shape})" if len(shape) == 3 else ""
        raise ValueError(f"{who} expected input of shape (N, C, H, W), got shape {shape}{hint}")
    return shape


def _as_float32(x: Any) -> Any:
    """x as float32 (as Dense: integer or float64 input would make the float32 work float64)."""
    if isinstance(x, Tensor):
        return x if x.data.dtype == np.float32 else x.astype(np.float32)
    return np.asarray(x, dtype=np.float32)


def _json_pair(p: tuple[int, int]) -> int | list[int]:
    return p[0] if p[0] == p[1] else [p[0], p[1]]


def _padding_arg(padding: Any, who: str) -> Any:
    """The padding as given (validated): ``"same"``/``"valid"``, an int or an (h, w) pair."""
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(
                f"{who}: `padding` must be an int, a pair of ints, 'valid' or 'same', got "
                f"{padding!r}"
            )
        return padding
    return pair(padding, who, "padding", minimum=0)


@register
class Conv2D(_WeightLayer):
    """2-D convolution of (N, C, H, W) images: y = phi(conv(x, W) + b), as PyTorch's
    ``Conv2d`` (cross-correlation, no flip), with Keras' layer conventions (as :class:`Dense`).

        y[n, o, i, j] = phi(b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, c, i s + p d, j s + q d])

    ``weight`` has PyTorch's layout (filters, in_channels, kh, kw), ``bias`` (filters,).
    ``filters`` is Keras' name for PyTorch's ``out_channels``.  ``kernel_size``, ``stride``,
    ``dilation`` and ``padding`` are ints or (height, width) pairs; ``padding`` may also be
    ``"valid"`` (0) or ``"same"`` (stride 1 only: H_out = H, W_out = W).  The weights are created
    on the first call from the input's channel axis (lazy), or at once when ``in_channels`` is
    given.  The default initializer is Glorot/Xavier uniform with fan_in = in kh kw and
    fan_out = filters kh kw (Keras' default); ``"he_normal"`` suits deep ReLU stacks.

    >>> conv = nn.Conv2D(16, 3, padding="same", activation="relu")
    >>> conv(np.zeros((8, 1, 28, 28))).shape
    (8, 16, 28, 28)
    >>> conv.weight.shape
    (16, 1, 3, 3)
    """

    spatial = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        activation: str | Module | None = None,
        in_channels: int | None = None,
        kernel_initializer: Any = "xavier_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        use_bias: bool = True,
        rng: Any = None,
    ) -> None:
        super().__init__()
        self.filters = _positive_int(filters, "Conv2D", "filters")
        self.kernel_size = pair(kernel_size, "Conv2D", "kernel_size")
        self.stride = pair(stride, "Conv2D", "stride")
        self.dilation = pair(dilation, "Conv2D", "dilation")
        self.padding = _padding_arg(padding, "Conv2D")
        # ((top, bottom), (left, right)); "same" with stride > 1 is refused here
        self._pads = conv_padding(self.padding, self.kernel_size, self.stride, self.dilation,
                                  "Conv2D")
        self.in_channels: int | None = None
        self._weight_options(activation, kernel_initializer, bias_initializer,
                             kernel_regularizer, use_bias, rng)
        if in_channels is not None:
            self.build(_positive_int(in_channels, "Conv2D", "in_channels"))

    def build(self, in_channels: int) -> None:
        """Create ``weight`` (filters, in_channels, kh, kw) and ``bias`` (filters,)."""
        in_channels = _positive_int(in_channels, "Conv2D", "in_channels")
        self.in_channels = in_channels
        self._make_weights((self.filters, in_channels, *self.kernel_size), self.filters)

    def _build_from_state(self, local_state: dict[str, np.ndarray]) -> None:
        weight = local_state.get("weight")
        if self.weight is None and weight is not None and weight.ndim == 4 and weight.shape[1] > 0:
            self.build(weight.shape[1])

    def _conv(self, x: Any) -> Tensor:
        shape = _image(x, "Conv2D")
        if self.weight is None:
            self.build(shape[1])
        if shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2D was built for {self.in_channels} input channels, got input of shape "
                f"{shape} (channels on axis 1: (N, C, H, W))"
            )
        params = {"stride": self.stride, "padding": self._pads, "dilation": self.dilation}
        x = _as_float32(x)
        if self.bias is None:
            return Conv2d.apply(x, self.weight, **params)
        return Conv2d.apply(x, self.weight, self.bias, **params)

    def forward(self, x: Any) -> Tensor:
        z = self._conv(x)
        return z if self.activation is None else self.activation(z)

    def forward_steps(self, x: Any) -> tuple[Tensor, Tensor]:
        """``(z, a)`` with z = conv(x, W) + b (the feature map before the activation) and
        a = phi(z)."""
        z = self._conv(x)
        return z, (z if self.activation is None else self.activation(z))

    def _padding_config(self) -> Any:
        return self.padding if isinstance(self.padding, str) else _json_pair(self.padding)

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": _json_pair(self.kernel_size),
            "stride": _json_pair(self.stride),
            "padding": self._padding_config(),
            "dilation": _json_pair(self.dilation),
            "activation": self._activation_config(),
            "in_channels": self.in_channels,
            **self._weight_config(),
        }

    def extra_repr(self) -> str:
        parts = [str(self.filters), f"kernel_size={_json_pair(self.kernel_size)}"]
        for arg, value, default in (("stride", self.stride, (1, 1)),
                                    ("dilation", self.dilation, (1, 1))):
            if value != default:
                parts.append(f"{arg}={_json_pair(value)}")
        if self.padding not in ((0, 0), "valid"):
            parts.append(f"padding={self._padding_config()!r}")
        if self.in_channels is not None:
            parts.append(f"in_channels={self.in_channels}")
        return ", ".join(parts + self._weight_repr())


class _Pool2D(Module):
    """Shared by MaxPool2D and AvgPool2D: kernel, stride (default: the kernel), padding."""

    spatial = True
    _op: Any = None

    def __init__(self, kernel_size: int | tuple[int, int] = 2,
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        who = type(self).__name__
        self.kernel_size = pair(kernel_size, who, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, who, "stride")
        self.padding = pair(padding, who, "padding", minimum=0)
        if 2 * self.padding[0] > self.kernel_size[0] or 2 * self.padding[1] > self.kernel_size[1]:
            raise ValueError(
                f"{who}: padding {self.padding} is more than half the kernel {self.kernel_size}; "
                "use padding <= kernel_size // 2"
            )

    def forward(self, x: Any) -> Tensor:
        _image(x, type(self).__name__)
        return self._op.apply(_as_float32(x), kernel_size=self.kernel_size, stride=self.stride,
                              padding=self.padding)

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": _json_pair(self.kernel_size), "stride": _json_pair(self.stride),
                "padding": _json_pair(self.padding)}

    def extra_repr(self) -> str:
        parts = [f"kernel_size={_json_pair(self.kernel_size)}"]
        if self.stride != self.kernel_size:
            parts.append(f"stride={_json_pair(self.stride)}")
        if self.padding != (0, 0):
            parts.append(f"padding={_json_pair(self.padding)}")
        return ", ".join(parts)


@register
class MaxPool2D(_Pool2D):
    """Max pooling, as PyTorch's ``MaxPool2d``: the largest value of each kh x kw window,
    windows ``stride`` apart (by default the kernel size: no overlap), ``padding`` of -inf (at
    most half the kernel).  The gradient goes to each window's maximum (the first one on ties).

        y[n, c, i, j] = max_{p, q} x_pad[n, c, i s + p, j s + q]

    >>> nn.MaxPool2D(2)(np.zeros((8, 16, 28, 28))).shape
    (8, 16, 14, 14)
    """

    _op = MaxPool2d


@register
class AvgPool2D(_Pool2D):
    """Average pooling, as PyTorch's ``AvgPool2d`` (with its default ``count_include_pad=True``:
    padded zeros are averaged too, every window divides by kh kw).

        y[n, c, i, j] = (1 / (kh kw)) sum_{p, q} x_pad[n, c, i s + p, j s + q]

    >>> nn.AvgPool2D(2)(np.zeros((8, 16, 28, 28))).shape
    (8, 16, 14, 14)
    """

    _op = AvgPool2d


@register
class GlobalAvgPool2D(Module):
    """The mean of each channel over all pixels: (N, C, H, W) -> (N, C), as Keras'
    ``GlobalAveragePooling2D`` (PyTorch: ``AdaptiveAvgPool2d(1)`` then ``flatten(1)``);
    ``keepdims=True`` keeps (N, C, 1, 1).

        y[n, c] = (1 / (H W)) sum_{i, j} x[n, c, i, j]

    >>> nn.GlobalAvgPool2D()(np.zeros((8, 64, 7, 7))).shape
    (8, 64)
    """

    spatial = True

    def __init__(self, keepdims: bool = False) -> None:
        super().__init__()
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Tensor:
        _image(x, "GlobalAvgPool2D")
        return mean(_as_float32(x), axis=(2, 3), keepdims=self.keepdims)

    def get_config(self) -> dict[str, Any]:
        return {"keepdims": self.keepdims}

    def extra_repr(self) -> str:
        return "keepdims=True" if self.keepdims else ""


__all__ = ["AvgPool2D", "Conv2D", "GlobalAvgPool2D", "MaxPool2D"]
