"""Convolution and pooling of NCHW images: ``conv2d``, ``max_pool2d``, ``avg_pool2d``, with
PyTorch's semantics and argument order.

Shapes: the input x is (N, C, H, W), a convolution weight (O, C, kh, kw) (PyTorch's layout), its
bias (O,).  Along each spatial axis, with kernel size k, stride s, dilation d and p_lo + p_hi
padded rows (or columns) in all, the output has

    H_out = floor((H + p_lo + p_hi - d (k - 1) - 1) / s) + 1

pixels.  An int argument means the same value for both axes, a pair means (height, width).

**im2col lowering.**  ``conv2d`` copies the receptive field of every output pixel into one matrix
``cols`` of shape (C kh kw, N H_out W_out) (rows in the order of the weight's (C, kh, kw) axes),
so the convolution is ONE matrix product with W2 = weight.reshape(O, C kh kw):

    y2 = W2 @ cols + b,  (O, N H_out W_out), viewed as (N, O, H_out, W_out)

backward, with g2 the incoming gradient as (O, N H_out W_out):

    dW2 = g2 @ cols^T,   db = sum of g2 over its columns,   dcols = W2^T @ g2

and dx is dcols scattered back onto the input (col2im): one strided-slice addition per kernel
offset (kh kw of them), never a loop over samples or pixels, and no ``np.add.at``.

**Memory.**  ``cols`` is the big buffer: C kh kw N H_out W_out numbers, kept from forward to
backward, i.e. about kh kw times the input for stride 1 and "same" padding (a 3 x 3 convolution
of a (128, 16, 14, 14) float32 batch keeps 16 * 9 * 128 * 196 * 4 bytes, 14.5 MB).  The backward
pass adds dcols, the same size again, only when the input needs a gradient (not for the first
layer, whose input is data).

Pooling windows are walked the same way: ``max_pool2d`` and ``avg_pool2d`` loop over the kh kw
offsets of the window, each a strided slice of the whole batch, so they need no buffer beyond
their output.  ``max_pool2d`` pads with -inf and keeps, per output pixel, the offset of the first
maximum (ties go to the first in row-major window order, as in PyTorch; a NaN in a window makes
its output NaN, as in PyTorch);
``avg_pool2d`` pads with zeros and divides by kh kw, counting padded zeros (PyTorch's default
``count_include_pad=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function
from ..tensor import Tensor
from ._util import float_operand, operand

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def pair(value: Any, who: str, arg: str, minimum: int = 1) -> Pair:
    """``value`` (an int, or a pair of ints for (height, width)) as a pair, each >= ``minimum``;
    otherwise a ValueError that names ``who`` and ``arg``."""
    if _is_int(value):
        out = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        out = (int(value[0]), int(value[1]))
    else:
        raise ValueError(
            f"{who}: expected an int or a pair of ints (height, width) for `{arg}`, got {value!r}"
        )
    if min(out) < minimum:
        raise ValueError(f"{who}: `{arg}` must be at least {minimum}, got {value!r}")
    return out


def conv_padding(padding: Any, kernel: Pair, stride: Pair, dilation: Pair, who: str) -> Pads:
    """``padding`` of conv2d (an int, a pair, ``"valid"`` or ``"same"``) as ((top, bottom),
    (left, right)).  ``"same"`` pads d (k - 1) in all, the odd one at the bottom/right, as
    PyTorch does, and needs stride 1."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(
                f"{who}: `padding` must be an int, a pair of ints, 'valid' or 'same', got "
                f"{padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(
                f"{who}: padding='same' needs stride 1 (as in PyTorch), got stride {stride}; "
                f"give the padding as numbers for a strided convolution"
            )
        totals = (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        return tuple((t // 2, t - t // 2) for t in totals)  # type: ignore[return-value]
    ph, pw = pair(padding, who, "padding", minimum=0)
    return (ph, ph), (pw, pw)


def _out_size(size: int, k: int, s: int, d: int, pads: Pair) -> int:
    return (size + pads[0] + pads[1] - d * (k - 1) - 1) // s + 1


def _check_image(x: np.ndarray, who: str) -> None:
    if np.ndim(x) != 4:
        shape = np.shape(x)
        hint = (
            f"; for one image of shape {shape} pass x[None], of shape (1, *{shape})"
            if len(shape) == 3 else ""
        )
        raise ValueError(f"{who}: expected input of shape (N, C, H, W), got shape {shape}{hint}")


def _check_fits(x_shape: tuple[int, ...], kernel: Pair, dilation: Pair, pads: Pads,
                who: str) -> None:
    padded = (x_shape[2] + sum(pads[0]), x_shape[3] + sum(pads[1]))
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if span[0] > padded[0] or span[1] > padded[1]:
        what = "kernel" if dilation == (1, 1) else "dilated kernel"
        raise ValueError(
            f"{who}: the {what} ({span[0]} x {span[1]}) is larger than the padded input "
            f"({padded[0]} x {padded[1]}, input shape {tuple(x_shape)}); use a smaller kernel, "
            "more padding or a larger image"
        )


def _channel_major(x: np.ndarray) -> bool:
    """Whether x (N, C, H, W) lies in (C, N, H, W) memory order, as conv2d's output does."""
    return x.shape[0] > 1 and x.shape[1] > 1 and x.strides[1] > x.strides[0]


def _full(shape: tuple[int, ...], fill: float | None, dtype: Any,
          channel_major: bool) -> np.ndarray:
    """An (N, C, H, W) array of ``fill`` (None: uninitialized, for an array that is written
    whole) in NCHW or, if ``channel_major``, CNHW memory order: keeping the layout of the data
    avoids transposed copies in the ops that follow."""
    n, c, h, w = shape
    dims = (c, n, h, w) if channel_major else (n, c, h, w)
    out = np.empty(dims, dtype=dtype) if fill is None else np.full(dims, fill, dtype=dtype)
    return out.transpose(1, 0, 2, 3) if channel_major else out


def _in_layout(a: np.ndarray, channel_major: bool) -> np.ndarray:
    """``a`` in NCHW or channel-major memory order, copied only if it is in the other one (a
    ufunc over two arrays of different orders is several times slower than the copy)."""
    if _channel_major(a) == channel_major or a.shape[0] == 1 or a.shape[1] == 1:
        return a
    if channel_major:
        return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(a)


def _padded(x: np.ndarray, pads: Pads, fill: float) -> np.ndarray:
    """x with ``pads`` rows and columns of ``fill`` around its last two axes (x itself if none),
    in x's memory order."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = _full((n, c, h + top + bottom, w + left + right), fill, x.dtype, _channel_major(x))
    out[:, :, top:top + h, left:left + w] = x
    return out


def _offset(i: int, j: int, out_hw: Pair, stride: Pair, dilation: Pair) -> tuple[slice, ...]:
    """The strided slice of the (padded) input that kernel offset (i, j) meets, for all output
    pixels at once: rows i d_h, i d_h + s_h, ..., H_out of them (columns alike)."""
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


def _crop(xp: np.ndarray, pads: Pads, h: int, w: int) -> np.ndarray:
    (top, _), (left, _) = pads
    return xp[:, :, top:top + h, left:left + w]


class Conv2d(Function):
    """y = conv(x, W) + b as one im2col matrix product (see the module docstring):
    y2 = W2 @ cols + b;  dW2 = g2 @ cols^T,  db = sum of g2,  dx = col2im(W2^T @ g2)."""

    name = "conv2d"

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1)):
        _check_image(x, "conv2d")
        if np.ndim(weight) != 4:
            raise ValueError(
                f"conv2d: expected a weight of shape (out_channels, in_channels, kh, kw), got "
                f"shape {np.shape(weight)}"
            )
        n, c, h, w = x.shape
        o, cw, kh, kw = weight.shape
        if c != cw:
            raise ValueError(
                f"conv2d: the input has {c} channels but the weight expects {cw} (input shape "
                f"{x.shape}, weight shape {weight.shape} = (out, in, kh, kw))"
            )
        if bias is not None and np.shape(bias) != (o,):
            raise ValueError(
                f"conv2d: expected a bias of shape ({o},) for {o} output channels, got shape "
                f"{np.shape(bias)}"
            )
        _check_fits(x.shape, (kh, kw), dilation, padding, "conv2d")
        ho = _out_size(h, kh, stride[0], dilation[0], padding[0])
        wo = _out_size(w, kw, stride[1], dilation[1], padding[1])
        xp = _padded(x, padding, 0)
        span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
        # (N, C, H_out, W_out, kh, kw): every receptive field, a view without a copy
        fields = sliding_window_view(xp, span, axis=(2, 3))[
            :, :, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
        # the im2col buffer (C kh kw, N H_out W_out): the one copy, its rows the weight's axes
        cols = fields.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * ho * wo)
        w2 = weight.reshape(o, c * kh * kw)
        out = w2 @ cols
        if bias is not None:
            out += bias[:, None]
        self.cols, self.w2, self.geometry = cols, w2, (x.shape, (kh, kw), stride, padding,
                                                       dilation, (ho, wo))
        # channel-major memory seen as (N, O, H_out, W_out): the backward's g2 is then a view
        return out.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)

    def backward(self, grad):
        needs = self.needs
        x_shape, kernel, stride, pads, dilation, out_hw = self.geometry
        o = grad.shape[1]
        g2 = grad.transpose(1, 0, 2, 3).reshape(o, -1)  # (O, N H_out W_out)
        gw = (g2 @ self.cols.T).reshape(o, x_shape[1], *kernel) if needs[1] else None
        gb = g2.sum(axis=1) if len(needs) > 2 and needs[2] else None
        gx = None
        if needs[0]:
            n, c, h, w = x_shape
            kh, kw = kernel
            dcols = (self.w2.T @ g2).reshape(c, kh, kw, n, *out_hw)
            # col2im in (C, N, H_p, W_p) memory, the layout of dcols: kh kw strided additions
            gxp = np.zeros((c, n, h + sum(pads[0]), w + sum(pads[1])), dtype=dcols.dtype)
            for i in range(kh):
                for j in range(kw):
                    gxp[_offset(i, j, out_hw, stride, dilation)] += dcols[:, i, j]
            gx = _crop(gxp, pads, h, w).transpose(1, 0, 2, 3)
        return gx, gw, gb


def _is_pads(padding: Any) -> bool:
    """Whether ``padding`` is given per side, ((top, bottom), (left, right))."""
    return (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in padding))


def _pool_geometry(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, who: str):
    _check_image(x, who)
    kernel = pair(kernel_size, who, "kernel_size")
    strides = kernel if stride is None else pair(stride, who, "stride")
    if _is_pads(padding):  # ((top, bottom), (left, right)): Keras' "same" (neuralab.keras)
        pads = tuple((int(a), int(b)) for a, b in padding)
        sides = (max(pads[0]), max(pads[1]))
    else:
        ph, pw = pair(padding, who, "padding", minimum=0)
        pads, sides = ((ph, ph), (pw, pw)), (ph, pw)
        padding = (ph, pw)  # as the message shows it
    if min(min(pads[0]), min(pads[1])) < 0 or 2 * sides[0] > kernel[0] or 2 * sides[1] > kernel[1]:
        raise ValueError(
            f"{who}: padding {padding} is more than half the kernel {kernel} (PyTorch's limit: "
            "a window would see only padding); use padding <= kernel_size // 2"
        )
    _check_fits(x.shape, kernel, (1, 1), pads, who)
    out_hw = tuple(_out_size(x.shape[2 + a], kernel[a], strides[a], 1, pads[a]) for a in (0, 1))
    return kernel, strides, pads, out_hw


class _Pool2d(Function):
    """A pooling op: the kh kw window offsets as strided views of the padded input, reduced into
    the output (``_reduce``), and in backward each offset's share of g written back (``_scatter``,
    added where windows overlap)."""

    fill = 0.0  # what padding adds

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        kernel, strides, pads, out_hw = _pool_geometry(x, kernel_size, stride, padding, self.name)
        windows = _windows(_padded(x, pads, self.fill), kernel, strides, out_hw)
        out = np.empty_like(windows[0])  # in x's memory order (C or channel-major), as the windows
        np.copyto(out, windows[0])
        self.geometry = (x.shape, kernel, strides, pads, out_hw)
        self.channel_major = _channel_major(x)
        self._reduce(out, windows)
        return out

    def backward(self, grad):
        (n, c, h, w), kernel, strides, pads, out_hw = self.geometry
        grad = _in_layout(grad, self.channel_major)  # Flatten's backward gives NCHW
        # windows side by side (stride >= kernel) hold each input element once: written, not added
        overlap = strides[0] < kernel[0] or strides[1] < kernel[1]
        # windows that tile the input exactly write every element of the gradient: no zeros first
        tiled = (strides == kernel and pads == ((0, 0), (0, 0))
                 and (out_hw[0] * kernel[0], out_hw[1] * kernel[1]) == (h, w))
        gxp = _full((n, c, h + sum(pads[0]), w + sum(pads[1])), None if tiled else 0,
                    grad.dtype, self.channel_major)
        self._scatter(grad, _windows(gxp, kernel, strides, out_hw), overlap)
        return (_crop(gxp, pads, h, w),)

    def _reduce(self, out: np.ndarray, windows: list[np.ndarray]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _scatter(self, grad: np.ndarray, targets: list[np.ndarray],
                 overlap: bool) -> None:  # pragma: no cover
        raise NotImplementedError


def _windows(xp: np.ndarray, kernel: Pair, strides: Pair, out_hw: Pair) -> list[np.ndarray]:
    """The kh kw window offsets (row-major) of a pooling, each a strided view of ``xp``."""
    kh, kw = kernel
    return [xp[_offset(k // kw, k % kw, out_hw, strides, (1, 1))] for k in range(kh * kw)]


class MaxPool2d(_Pool2d):
    """y = the maximum of each window; dL/dx = g at the window's (first) maximum, 0 elsewhere
    (summed where windows overlap)."""

    name = "max_pool2d"
    fill = -np.inf

    def _reduce(self, out, windows):
        index_type = np.min_scalar_type(len(windows) - 1)
        argmax = np.zeros_like(out, dtype=index_type)  # the window offset of the maximum
        step = np.empty_like(argmax)
        for k in range(1, len(windows)):
            better = np.greater(windows[k], out)  # strict: a tie keeps the first maximum (torch)
            np.maximum(out, windows[k], out=out)  # NaN propagates, as in PyTorch
            # offsets grow with k, so max(argmax, k [better]) is "k where better" (no where=,
            # no boolean indexing: both are several times slower than two ufuncs)
            np.multiply(better.view(np.uint8), index_type.type(k), out=step)
            np.maximum(argmax, step, out=argmax)
        self.argmax = argmax

    def _scatter(self, grad, targets, overlap):
        for k, target in enumerate(targets):
            if overlap:
                target += grad * (self.argmax == k)
            else:
                np.multiply(grad, self.argmax == k, out=target)


class AvgPool2d(_Pool2d):
    """y = the mean of each window of kh kw values, padded zeros included; dL/dx = the sum of
    g / (kh kw) over the windows that hold x."""

    name = "avg_pool2d"

    def _reduce(self, out, windows):
        for window in windows[1:]:
            out += window
        out *= out.dtype.type(1.0 / len(windows))

    def _scatter(self, grad, targets, overlap):
        share = grad * grad.dtype.type(1.0 / len(targets))
        for target in targets:
            if overlap:
                target += share
            else:
                target[...] = share


def conv2d(x: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1) -> Tensor:
    """2-D convolution (PyTorch's cross-correlation) of x (N, C, H, W) with weight
    (O, C, kh, kw) plus bias (O,), as ``torch.nn.functional.conv2d``: ``stride``, ``padding``
    and ``dilation`` are ints or (height, width) pairs; ``padding`` may also be ``"valid"`` (0)
    or ``"same"`` (stride 1 only; output H x W).  One im2col matrix product; see the module
    docstring for the lowering and its memory.

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x_pad[n, c, i s_h + p d_h, j s_w + q d_w]
    """
    kernel = np.shape(weight.data if isinstance(weight, Tensor) else weight)[2:]
    strides = pair(stride, "conv2d", "stride")
    dilations = pair(dilation, "conv2d", "dilation")
    pads = conv_padding(padding, kernel if len(kernel) == 2 else (1, 1), strides, dilations,
                        "conv2d")
    x = operand(x, weight)
    params = {"stride": strides, "padding": pads, "dilation": dilations}
    if bias is None:
        return Conv2d.apply(x, weight, **params)
    return Conv2d.apply(x, weight, operand(bias, weight), **params)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max pooling of x (N, C, H, W) over kh x kw windows, as ``torch.nn.functional.max_pool2d``:
    ``stride`` defaults to the kernel size, ``padding`` (at most half the kernel) adds -inf.

    y[n, c, i, j] = max_{p, q} x_pad[n, c, i s_h + p, j s_w + q]
    """
    return MaxPool2d.apply(float_operand(x), kernel_size=kernel_size, stride=stride,
                           padding=padding)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Average pooling of x (N, C, H, W) over kh x kw windows, as
    ``torch.nn.functional.avg_pool2d`` with its default ``count_include_pad=True``: padded zeros
    count, every window divides by kh kw.

    y[n, c, i, j] = (1 / (kh kw)) sum_{p, q} x_pad[n, c, i s_h + p, j s_w + q]
    """
    return AvgPool2d.apply(float_operand(x), kernel_size=kernel_size, stride=stride,
                           padding=padding)


__all__ = ["avg_pool2d", "conv2d", "max_pool2d"]
