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
=========================  ==================================================================

Any neuralab module (``nn.ReLU()``, ``nn.Residual(...)``) can be added to a Keras ``Sequential``
too.  ``Conv2D``/``MaxPooling2D`` are not mapped (see :func:`__getattr__`).
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ..nn import activations as _activations
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
    """``keras.layers.BatchNormalization`` on (batch, features): ``nn.BatchNorm`` with PyTorch's
    momentum ``1 - momentum`` (Keras' 0.99 is 0.01), ``eps=epsilon`` (1e-3) and the biased batch
    variance in the moving variance, as Keras."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, **kwargs: Any) -> None:
        options = {key: kwargs.pop(key) for key in list(kwargs) if key in _BN_DEFAULTS}
        check_defaults("BatchNormalization", options, _BN_DEFAULTS)
        if axis not in (-1, 1):
            raise unsupported(f"BatchNormalization(axis={axis})",
                              "neuralab normalizes the feature axis of (batch, features) input")
        super().__init__(momentum=1.0 - momentum, eps=epsilon,
                         affine=_affine(center, scale, "BatchNormalization"),
                         unbiased_running_var=False)
        _keras_common(self, kwargs, "BatchNormalization")

    def get_config(self) -> dict[str, Any]:
        return {"momentum": 1.0 - self.momentum, "epsilon": self.eps, "center": self.affine,
                "scale": self.affine}


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


_LAYERS = ["Activation", "BatchNormalization", "Dense", "Dropout", "Flatten", "Input",
           "InputLayer", "LayerNormalization"]


def __getattr__(name: str) -> Any:
    if name in ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D"):
        raise missing_name(
            "neuralab.keras.layers", name, _LAYERS,
            "neuralab's convolution layers take (N, C, H, W) images (PyTorch's channels_first) "
            "where Keras defaults to (N, H, W, C): add nn.Conv2D / nn.MaxPool2D / nn.AvgPool2D / "
            "nn.GlobalAvgPool2D to the model directly and feed x.transpose(0, 3, 1, 2)",
        )
    raise missing_name("neuralab.keras.layers", name, _LAYERS,
                       "any neuralab module (neuralab.nn) can be added to a keras Sequential")


__all__ = list(_LAYERS)
