"""Keras' layers as neuralab layers: each class here *is* a neuralab layer (a subclass of
``nn.Dense``, ``nn.BatchNorm``...), built from Keras' arguments, with Keras' class name so that
``summary()`` and the layer names read as in Keras (``dense``, ``dense_1``,
``batch_normalization``).  Forward, backward, weights and saving are the neuralab layer's own.

=========================  ==================================================================
Keras                      neuralab
=========================  ==================================================================
``Dense(units, ...)``      ``nn.Dense``: kernel (in, out) and bias, as Keras
``Dropout(rate)``          ``nn.Dropout(p=rate)`` (inverted dropout, as Keras)
``BatchNormalization``     ``nn.BatchNorm(momentum=1 - momentum, eps=epsilon,
                           unbiased_running_var=False)``: Keras' 0.99 moving average is
                           PyTorch's (and neuralab's) momentum 0.01; Keras updates the moving
                           variance with the biased batch variance; eps 1e-3 as Keras
``LayerNormalization``     ``nn.LayerNorm(eps=epsilon)`` (Keras' 1e-3)
``Flatten()``              ``nn.Flatten()``
``Activation(act)``        the activation module of ``nn.activations``
``Input(shape)``           not a layer: tells the model its input shape (without the batch axis)
``Conv2D(filters, k)``     ``nn.Conv2D`` on Keras' (batch, height, width, channels) images:
                           transposed to neuralab's (N, C, H, W) around the op and back;
                           ``get_weights()`` gives Keras' kernel (kh, kw, in, out), the layer
                           keeps PyTorch's (out, in, kh, kw); ``padding="same"`` as Keras, also
                           with strides (the odd pixel of padding at the bottom/right)
``MaxPooling2D``           ``nn.MaxPool2D`` the same way; ``AveragePooling2D`` (``"valid"``),
``AveragePooling2D``       ``nn.AvgPool2D``; ``GlobalAveragePooling2D``, the mean over height
``GlobalAveragePooling2D`` and width
=========================  ==================================================================

``data_format="channels_first"`` keeps (N, C, H, W) images as they are (no transposes).  Any
neuralab module (``nn.ReLU()``, ``nn.Residual(...)``) can be added to a Keras ``Sequential`` too;
the ``nn`` convolution layers take (N, C, H, W) images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..autograd.ops.conv import pair as nn_pair
from ..autograd.tensor import Tensor
from ..nn import activations as _activations
from ..nn.conv import _as_float32
from ..nn.module import Module, register
from . import initializers, regularizers
from ._util import check_defaults, missing_name, unsupported

#: Keras activation names neuralab computes exactly as Keras does (name -> neuralab spec)
_ACTIVATIONS: dict[str, Any] = {
    "relu": "relu", "sigmoid": "sigmoid", "softmax": "softmax", "tanh": "tanh",
    "linear": None, "elu": "elu",
}


def activation(spec: Any) -> Any:
    """A Keras activation name as neuralab's: the names above, None, or a neuralab module."""
    if spec is None or isinstance(spec, Module):
        return spec
    if isinstance(spec, dict):
        return spec  # neuralab's saved form
    if isinstance(spec, str):
        if spec == "leaky_relu":
            return nn.LeakyReLU(alpha=0.2)  # Keras' negative_slope default
        if spec in _ACTIVATIONS:
            return _ACTIVATIONS[spec]
        if spec == "gelu":
            raise unsupported(
                "activation='gelu' (Keras computes the exact erf form)",
                "neuralab's nn.GELU() is the tanh approximation: pass activation=nn.GELU() "
                "knowing that it differs",
            )
        raise unsupported(
            f"activation={spec!r}",
            f"the Keras names neuralab maps are {', '.join(sorted([*_ACTIVATIONS, 'leaky_relu']))};"
            " pass a neuralab activation module (neuralab.nn.activations) instead",
        )
    raise TypeError(f"expected an activation name or a neuralab module, got {spec!r}")


_COMMON = {"name": None, "trainable": True, "dtype": None, "autocast": True}
_COMMON_HINTS = {
    "trainable": "freeze a layer in neuralab with `for p in layer.parameters(): "
                 "p.requires_grad = False`",
    "dtype": "neuralab computes in float32",
}


def _keras_common(layer: Module, kwargs: dict[str, Any], who: str) -> None:
    """The arguments every Keras layer takes: name, input_shape / batch_input_shape /
    batch_size (the model's input, when this is the first layer), trainable, dtype."""
    name = kwargs.pop("name", None)
    shape = kwargs.pop("input_shape", None)
    batch_shape = kwargs.pop("batch_input_shape", None)
    kwargs.pop("batch_size", None)
    if kwargs.get("dtype") in ("float32",):
        kwargs.pop("dtype")
    check_defaults(who, kwargs, _COMMON, _COMMON_HINTS)
    if name is not None:
        layer.name = name
    if batch_shape is not None:
        shape = tuple(batch_shape)[1:]
    if shape is not None:
        layer.keras_input_shape = tuple(int(d) for d in shape)


class InputLayer:
    """What ``Input(shape=(4,))`` returns: the model's input shape, not a layer with weights (Keras'
    ``summary()`` does not list it either)."""

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 name: str | None = None, batch_shape: Any = None, **kwargs: Any) -> None:
        check_defaults("Input", kwargs, {"sparse": False, "ragged": False, "tensor": None,
                                         "optional": False})
        if shape is None and batch_shape is not None:
            shape = tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("Input expected shape=, the shape of one sample, e.g. Input(shape=(4,))")
        if isinstance(shape, int):
            shape = (shape,)
        self.shape = (batch_size, *(int(d) for d in shape))
        self.name = name

    def __repr__(self) -> str:
        return f"<Input shape={self.shape}>"


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,  # noqa: N802
          name: str | None = None, batch_shape: Any = None, **kwargs: Any) -> InputLayer:
    """``keras.Input(shape=(4,))``: the first entry of ``Sequential([...])``."""
    return InputLayer(shape, batch_size, dtype, name, batch_shape, **kwargs)


@register(name="keras.Dense")
class Dense(nn.Dense):
    """``keras.layers.Dense``: y = activation(x kernel + bias), kernel (in, out): ``nn.Dense``."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, input_dim: int | None = None,
                 **kwargs: Any) -> None:
        check_defaults("Dense", {"bias_regularizer": bias_regularizer,
                                 "activity_regularizer": activity_regularizer,
                                 "kernel_constraint": kernel_constraint,
                                 "bias_constraint": bias_constraint,
                                 "lora_rank": kwargs.pop("lora_rank", None)},
                       dict.fromkeys(("bias_regularizer", "activity_regularizer",
                                      "kernel_constraint", "bias_constraint", "lora_rank")),
                       {"bias_regularizer": "neuralab penalizes kernels only "
                                            "(kernel_regularizer=)",
                        "activity_regularizer": "add a penalty on the outputs to your loss "
                                                "(neuralab.train.Trainer takes any loss function)"})
        shape = kwargs.get("input_shape")
        if input_dim is None and shape is not None and len(shape) == 1:
            input_dim = shape[0]
        super().__init__(units, activation=_resolve_activation(activation), input_dim=input_dim,
                         kernel_initializer=initializers.get(kernel_initializer),
                         bias_initializer=initializers.get(bias_initializer),
                         kernel_regularizer=regularizers.get(kernel_regularizer),
                         use_bias=use_bias)
        _keras_common(self, kwargs, "Dense")


_resolve_activation = activation


@register(name="keras.Dropout")
class Dropout(nn.Dropout):
    """``keras.layers.Dropout(rate)``: inverted dropout, ``nn.Dropout(p=rate)``; ``seed`` seeds the
    layer's own generator."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        check_defaults("Dropout", {"noise_shape": noise_shape}, {"noise_shape": None})
        super().__init__(rate, rng=seed)
        _keras_common(self, kwargs, "Dropout")

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.p}


def _affine(center: bool, scale: bool, who: str) -> bool:
    if bool(center) != bool(scale):
        raise unsupported(f"{who}(center={center}, scale={scale})",
                          "neuralab learns gamma and beta together or neither (affine=)")
    return bool(center)


@register(name="keras.BatchNormalization")
class BatchNormalization(nn.BatchNorm):
    """``keras.layers.BatchNormalization``: ``nn.BatchNorm`` with PyTorch's momentum
    ``1 - momentum`` (Keras' 0.99 is 0.01), ``eps=epsilon`` (1e-3) and the biased batch variance
    in the moving variance, as Keras.  On (batch, features) input it normalizes each feature; on
    images it normalizes the channel axis, the last one by default (``axis=-1``: Keras'
    (batch, height, width, channels)), axis 1 with ``axis=1`` (channels first)."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, **kwargs: Any) -> None:
        options = {key: kwargs.pop(key) for key in list(kwargs) if key in _BN_DEFAULTS}
        check_defaults("BatchNormalization", options, _BN_DEFAULTS)
        if axis not in (-1, 1):
            raise unsupported(f"BatchNormalization(axis={axis})",
                              "neuralab normalizes the last axis (axis=-1) or axis 1 (axis=1: "
                              "features of (batch, features), channels of (N, C, H, W) images)")
        super().__init__(momentum=1.0 - momentum, eps=epsilon,
                         affine=_affine(center, scale, "BatchNormalization"),
                         unbiased_running_var=False)
        self.axis = axis
        _keras_common(self, kwargs, "BatchNormalization")

    def _check_input(self, data: np.ndarray) -> None:
        # (batch, features) as nn.BatchNorm, images (channels on axis 1 by now) as nn.BatchNorm2D
        spec = nn.BatchNorm2D if data.ndim == 4 else nn.BatchNorm
        self._layout, self._ndim, self._unit, self._too_few = (
            spec._layout, spec._ndim, spec._unit, spec._too_few)
        super()._check_input(data)

    def forward(self, x: Any) -> Tensor:
        nd = np.ndim(x.data if isinstance(x, Tensor) else x)
        if nd <= 2 or self.axis == 1:
            return super().forward(x)
        # channels last: the channel axis to position 1 for nn.BatchNorm, and back
        order = (0, nd - 1, *range(1, nd - 1))
        back = tuple(int(i) for i in np.argsort(order))
        moved = x.transpose(*order) if isinstance(x, Tensor) else np.asarray(x).transpose(order)
        return super().forward(moved).transpose(*back)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, "momentum": 1.0 - self.momentum, "epsilon": self.eps,
                "center": self.affine, "scale": self.affine}


_BN_DEFAULTS = {
    "beta_initializer": "zeros", "gamma_initializer": "ones",
    "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
    "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
    "gamma_constraint": None, "synchronized": False, "renorm": False,
}


@register(name="keras.LayerNormalization")
class LayerNormalization(nn.LayerNorm):
    """``keras.layers.LayerNormalization`` over the last axis: ``nn.LayerNorm(eps=epsilon)``."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, **kwargs: Any) -> None:
        options = {key: kwargs.pop(key) for key in list(kwargs) if key in _LN_DEFAULTS}
        check_defaults("LayerNormalization", {**options, "rms_scaling": rms_scaling},
                       {**_LN_DEFAULTS, "rms_scaling": False})
        if axis != -1:
            raise unsupported(f"LayerNormalization(axis={axis})",
                              "neuralab's nn.LayerNorm(normalized_shape) normalizes the last axes")
        super().__init__(eps=epsilon, elementwise_affine=_affine(center, scale,
                                                                 "LayerNormalization"))
        _keras_common(self, kwargs, "LayerNormalization")

    def get_config(self) -> dict[str, Any]:
        return {"epsilon": self.eps, "center": self.elementwise_affine,
                "scale": self.elementwise_affine}


_LN_DEFAULTS = {key: value for key, value in _BN_DEFAULTS.items()
                if key in ("beta_initializer", "gamma_initializer", "beta_regularizer",
                           "gamma_regularizer", "beta_constraint", "gamma_constraint")}


@register(name="keras.Flatten")
class Flatten(nn.Flatten):
    """``keras.layers.Flatten()``: (N, d1, d2, ...) -> (N, d1 d2 ...), ``nn.Flatten``."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        _keras_common(self, kwargs, "Flatten")


@register(name="keras.Activation")
class Activation(Module):
    """``keras.layers.Activation('relu')``: the activation as a layer of its own."""

    passes_values_through = False

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__()
        self._spec = activation
        resolved = _resolve_activation(activation)
        self.activation = _activations.get(resolved) if resolved is not None else None
        _keras_common(self, kwargs, "Activation")

    def forward(self, x: Any) -> Any:
        return x if self.activation is None else self.activation(x)

    def get_config(self) -> dict[str, Any]:
        spec = self._spec
        return {"activation": spec if isinstance(spec, str) or spec is None
                else nn.serialize(spec)}

    def extra_repr(self) -> str:
        return repr(self._spec)


# ---------------------------------------------------------------------- images
def _data_format(data_format: str | None, who: str) -> bool:
    """Whether images come channels-last (Keras' default, (N, H, W, C))."""
    fmt = "channels_last" if data_format is None else str(data_format).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return fmt == "channels_last"


def _keras_padding(padding: Any, who: str) -> str:
    value = str(padding).lower() if isinstance(padding, str) else padding
    if value not in ("valid", "same"):
        raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")
    return value


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras' (and TensorFlow's) ``padding="same"`` along one axis: the output has
    ceil(size / stride) positions; the padding that needs goes half before, and the odd pixel
    after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


class _ChannelsLast:
    """Keras' image layout around a neuralab image layer: (N, H, W, C) in, transposed to
    (N, C, H, W) for the op, and back (transposes are views; the gradient flows through them)."""

    _channels_last = True
    _who = ""

    def _nchw(self, x: Any) -> Any:
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        if data.ndim != 4:
            layout = "(batch, height, width, channels)" if self._channels_last else \
                "(batch, channels, height, width)"
            raise ValueError(f"{self._who} expected images of shape {layout}, got shape "
                             f"{data.shape}")
        channels = data.shape[3 if self._channels_last else 1]
        built = getattr(self, "in_channels", None)
        if built is not None and channels != built:
            raise ValueError(f"{self._who} was built for {built} channels, got images of shape "
                             f"{data.shape}")
        if not self._channels_last:
            return x
        return x.transpose(0, 3, 1, 2) if isinstance(x, Tensor) else data.transpose(0, 3, 1, 2)

    def _back(self, y: Tensor) -> Tensor:
        return y.transpose(0, 2, 3, 1) if self._channels_last else y


@register(name="keras.Conv2D")
class Conv2D(_ChannelsLast, nn.Conv2D):
    """``keras.layers.Conv2D(filters, kernel_size, strides, padding, ...)``: ``nn.Conv2D``
    between two transposes.  ``get_weights()`` / ``set_weights()`` use Keras' kernel layout
    (kh, kw, in_channels, filters); the neuralab layer underneath keeps PyTorch's
    (filters, in_channels, kh, kw), which is what ``.weight``, ``state_dict`` and ``save`` hold."""

    _who = "Conv2D"

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = (1, 1), groups: int = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        check_defaults("Conv2D", {"groups": groups, "bias_regularizer": bias_regularizer,
                                  "activity_regularizer": activity_regularizer,
                                  "kernel_constraint": kernel_constraint,
                                  "bias_constraint": bias_constraint,
                                  "lora_rank": kwargs.pop("lora_rank", None)},
                       {"groups": 1, **dict.fromkeys(("bias_regularizer", "activity_regularizer",
                                                      "kernel_constraint", "bias_constraint",
                                                      "lora_rank"))},
                       {"groups": "neuralab's convolutions connect every input channel to "
                                  "every filter; build the groups as separate Conv2D layers",
                        "bias_regularizer": "neuralab penalizes kernels only "
                                            "(kernel_regularizer=)"})
        self._channels_last = _data_format(data_format, "Conv2D")
        self._keras_padding = _keras_padding(padding, "Conv2D")
        strides = nn_pair(strides, "Conv2D", "strides")
        dilation_rate = nn_pair(dilation_rate, "Conv2D", "dilation_rate")
        # "same" with strides pads by the image's size: worked out at each call (below)
        self._strided_same = self._keras_padding == "same" and strides != (1, 1)
        super().__init__(filters, kernel_size, stride=strides,
                         padding=0 if self._strided_same else self._keras_padding,
                         dilation=dilation_rate, activation=_resolve_activation(activation),
                         kernel_initializer=initializers.get(kernel_initializer),
                         bias_initializer=initializers.get(bias_initializer),
                         kernel_regularizer=regularizers.get(kernel_regularizer),
                         use_bias=use_bias)
        _keras_common(self, kwargs, "Conv2D")

    def _conv(self, x: Any) -> Tensor:
        if self._strided_same:
            h, w = np.shape(x.data if isinstance(x, Tensor) else x)[2:]
            self._pads = (_same_pads(h, self.kernel_size[0], self.stride[0], self.dilation[0]),
                          _same_pads(w, self.kernel_size[1], self.stride[1], self.dilation[1]))
        return super()._conv(x)

    def forward(self, x: Any) -> Tensor:
        return self._back(super().forward(self._nchw(x)))

    def forward_steps(self, x: Any) -> tuple[Tensor, Tensor]:
        z, a = super().forward_steps(self._nchw(x))
        return self._back(z), self._back(a)

    def get_weights(self) -> list[np.ndarray]:
        """``[kernel (kh, kw, in, filters), bias (filters,)]``, as Keras."""
        weights = super().get_weights()
        if weights:
            weights[0] = np.ascontiguousarray(weights[0].transpose(2, 3, 1, 0))
        return weights

    def set_weights(self, weights: list[Any]) -> None:
        """Load ``[kernel, bias]`` in Keras' layout (kernel (kh, kw, in, filters))."""
        weights = list(weights)
        if weights:
            kernel = np.asarray(weights[0])
            if kernel.ndim != 4:
                raise ValueError(f"Conv2D.set_weights expected a kernel of shape (kh, kw, in, "
                                 f"filters), got shape {kernel.shape}")
            if self.weight is None:
                self.build(kernel.shape[2])
            weights[0] = kernel.transpose(3, 2, 0, 1)
        super().set_weights(weights)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return {
            "filters": self.filters, "kernel_size": config["kernel_size"],
            "strides": config["stride"], "padding": self._keras_padding,
            "data_format": "channels_last" if self._channels_last else "channels_first",
            "dilation_rate": config["dilation"], "activation": config["activation"],
            "use_bias": self.use_bias, "kernel_initializer": config["kernel_initializer"],
            "bias_initializer": config["bias_initializer"],
            "kernel_regularizer": config["kernel_regularizer"],
        }


class _KerasPool(_ChannelsLast):
    """Keras' ``pool_size, strides=None, padding, data_format`` onto ``nn.MaxPool2D`` /
    ``nn.AvgPool2D``."""

    _same_ok = True  # whether "same" (with its own padding) means what Keras computes

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        who = type(self).__name__
        self._who = who
        self._channels_last = _data_format(data_format, who)
        self._keras_padding = _keras_padding(padding, who)
        super().__init__(kernel_size=pool_size, stride=strides)  # type: ignore[call-arg]
        _keras_common(self, kwargs, who)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Tensor:
        x = self._nchw(x)
        if self._keras_padding == "same":
            h, w = np.shape(x.data if isinstance(x, Tensor) else x)[2:]
            pads = (_same_pads(h, self.kernel_size[0], self.stride[0]),
                    _same_pads(w, self.kernel_size[1], self.stride[1]))
            if any(pads[0] + pads[1]) and not self._same_ok:
                raise unsupported(
                    f"{self._who}(padding='same') on images of {h} x {w} (Keras leaves the "
                    f"padded pixels out of the average)",
                    "use padding='valid', or sizes that the pool divides",
                )
            return self._back(self._op.apply(_as_float32(x), kernel_size=self.kernel_size,
                                             stride=self.stride, padding=pads))
        return self._back(super().forward(x))  # type: ignore[misc]

    def get_config(self) -> dict[str, Any]:
        return {"pool_size": list(self.kernel_size), "strides": list(self.stride),
                "padding": self._keras_padding,
                "data_format": "channels_last" if self._channels_last else "channels_first"}


@register(name="keras.MaxPooling2D")
class MaxPooling2D(_KerasPool, nn.MaxPool2D):
    """``keras.layers.MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid")``:
    ``nn.MaxPool2D`` on (batch, height, width, channels) images; ``"same"`` pads with -inf as
    Keras (the odd pixel at the bottom/right)."""


@register(name="keras.AveragePooling2D")
class AveragePooling2D(_KerasPool, nn.AvgPool2D):
    """``keras.layers.AveragePooling2D(pool_size=(2, 2), strides=None, padding="valid")``:
    ``nn.AvgPool2D`` on (batch, height, width, channels) images.  ``"same"`` works where it pads
    nothing; where it pads, Keras averages the real pixels only and neuralab's pool counts the
    padding (PyTorch's ``count_include_pad=True``): refused."""

    _same_ok = False


@register(name="keras.GlobalAveragePooling2D")
class GlobalAveragePooling2D(_ChannelsLast, nn.GlobalAvgPool2D):
    """``keras.layers.GlobalAveragePooling2D()``: the mean of each channel over height and width,
    (N, H, W, C) -> (N, C), ``nn.GlobalAvgPool2D``."""

    _who = "GlobalAveragePooling2D"

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        self._channels_last = _data_format(data_format, "GlobalAveragePooling2D")
        super().__init__(keepdims=keepdims)
        _keras_common(self, kwargs, "GlobalAveragePooling2D")

    def forward(self, x: Any) -> Tensor:
        out = super().forward(self._nchw(x))
        return self._back(out) if self.keepdims else out

    def get_config(self) -> dict[str, Any]:
        return {"data_format": "channels_last" if self._channels_last else "channels_first",
                "keepdims": self.keepdims}


_LAYERS = ["Activation", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout",
           "Flatten", "GlobalAveragePooling2D", "Input", "InputLayer", "LayerNormalization",
           "MaxPooling2D"]


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.layers", name, _LAYERS,
                       "any neuralab module (neuralab.nn) can be added to a keras Sequential")


__all__ = list(_LAYERS)
