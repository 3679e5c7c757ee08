"""Core layers: Dense (밀집층, y = phi(x W + b)), Flatten and Dropout (드롭아웃)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.ops.elementwise import mul
from ..autograd.ops.linalg import Linear, LinearReLU, linear
from ..autograd.ops.shape import reshape
from ..autograd.tensor import Tensor
from ..random import get_rng
from . import activations, init, regularizers
from .module import Module, Parameter, register, serialize


def _positive_int(value: Any, who: str, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{who} expected a positive integer for `{arg}`, got {value!r}")
    return int(value)


def _initializer_name(spec: Any, default: str) -> str:
    """What get_config stores: the name, or the default for a custom callable (the weights are
    saved anyway, so the initializer only matters before loading)."""
    if spec is None:
        return default
    if isinstance(spec, str):
        init.get(spec)  # validate now, not at build time
        return spec
    return init.name_of(spec) or default


class _WeightLayer(Module):
    """What Dense and Conv2D share: an activation, the kernel and bias initializers (kept by name
    for get_config), a kernel regularizer, ``use_bias`` and the rng; lazy weights, the penalty,
    and their part of get_config and of the repr."""

    def _weight_options(self, activation: Any, kernel_initializer: Any, bias_initializer: Any,
                        kernel_regularizer: Any, use_bias: bool, rng: Any) -> None:
        self.weight: Parameter | None = None  # set first: parameters are listed in this order
        self.bias: Parameter | None = None
        self.activation = activations.get(activation)
        self._kernel_init_name = _initializer_name(kernel_initializer, "xavier_uniform")
        self._bias_init_name = _initializer_name(bias_initializer, "zeros")
        self.kernel_initializer = init.get(
            kernel_initializer if kernel_initializer is not None else "xavier_uniform"
        )
        self.bias_initializer = init.get(
            bias_initializer if bias_initializer is not None else "zeros"
        )
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.use_bias = bool(use_bias)
        self._rng = rng if rng is None or isinstance(rng, np.random.Generator) else get_rng(rng)

    @property
    def built(self) -> bool:
        return self.weight is not None

    def _make_weights(self, shape: tuple[int, ...], outputs: int) -> None:
        """``weight`` of ``shape`` and ``bias`` (outputs,) drawn with the initializers."""
        rng = get_rng(self._rng)
        self.weight = Parameter(self.kernel_initializer(shape, rng=rng, dtype=np.float32))
        if self.use_bias:
            self.bias = Parameter(self.bias_initializer((outputs,), rng=rng, dtype=np.float32))

    def _penalties(self):
        if self.kernel_regularizer is not None and self.weight is not None:
            yield self.kernel_regularizer(self.weight)

    def _activation_config(self) -> Any:
        act = self.activation
        return None if act is None else (activations.name_of(act) or serialize(act))

    def _weight_config(self) -> dict[str, Any]:
        return {
            "kernel_initializer": self._kernel_init_name,
            "bias_initializer": self._bias_init_name,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "use_bias": self.use_bias,
        }

    def _weight_repr(self) -> list[str]:
        parts = []
        if self.activation is not None:
            parts.append(f"activation={activations.name_of(self.activation) or self.activation!r}")
        if not self.use_bias:
            parts.append("use_bias=False")
        if self.kernel_regularizer is not None:
            parts.append(f"kernel_regularizer={self.kernel_regularizer!r}")
        return parts


@register
class Dense(_WeightLayer):
    """Fully connected layer: y = phi(x W + b), W of shape (in, out), b of shape (out,).

    Parameters are ``weight`` (the lecture's W, Keras' kernel) and ``bias``.  They are created on
    the first call from the input's last axis (lazy), or at once when ``input_dim`` is given.
    The default ``kernel_initializer`` is ``"xavier_uniform"`` (Glorot uniform,
    U(-a, a) with a = sqrt(6 / (in + out)), the Keras default); pass ``"he_normal"`` or
    ``"he_uniform"`` for deep ReLU stacks.  Biases start at zero.  x W + b is one fused op.

    ``kernel_regularizer`` (``nn.regularizers.L2(1e-4)``, ``"l1"``...) adds its penalty of W to
    ``model.regularization_loss()``.

    >>> layer = nn.Dense(3, activation="softmax", input_dim=4)
    >>> layer(np.ones((2, 4))).shape
    (2, 3)
    >>> layer.weight.shape, layer.bias.shape
    ((4, 3), (3,))
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def __init__(
        self,
        units: int,
        activation: str | Module | None = None,
        input_dim: int | None = None,
        kernel_initializer: Any = "xavier_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        use_bias: bool = True,
        rng: Any = None,
    ) -> None:
        super().__init__()
        self.units = _positive_int(units, "Dense", "units")
        self.in_features: int | None = None
        self._weight_options(activation, kernel_initializer, bias_initializer,
                             kernel_regularizer, use_bias, rng)
        if input_dim is not None:
            self.build(_positive_int(input_dim, "Dense", "input_dim"))

    def build(self, in_features: int) -> None:
        """Create ``weight`` (in_features, units) and ``bias`` (units,) with the initializers."""
        in_features = _positive_int(in_features, "Dense", "in_features")
        self.in_features = in_features
        self._make_weights((in_features, self.units), self.units)

    def _build_from_state(self, local_state: dict[str, np.ndarray]) -> None:
        weight = local_state.get("weight")
        if self.weight is None and weight is not None and weight.ndim == 2 and weight.shape[0] > 0:
            self.build(weight.shape[0])

    def _input(self, x: Any) -> Any:
        if self.weight is None:
            shape = np.shape(x.data if isinstance(x, Tensor) else x)
            if len(shape) == 0:
                raise ValueError("Dense expected an input with a feature axis, got a scalar")
            self.build(shape[-1])
        dtype = self.weight.data.dtype
        if isinstance(x, Tensor):
            # an integer or float64 input would turn the float32 product into float64
            return x if x.data.dtype == dtype else x.astype(dtype)
        return np.asarray(x, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        w = self.weight
        # the common case (a float32 ndarray or Tensor, weights built) skips _input's checks
        if w is None or getattr(x, "dtype", None) != w.data.dtype:
            x = self._input(x)
            w = self.weight
        act = self.activation
        # ReLU is fused into the product's op (one op instead of two on the hot path)
        op = LinearReLU if type(act) is activations.ReLU else Linear
        out = op.apply(x, w, self.bias) if self.bias is not None else op.apply(x, w)
        return out if act is None or op is LinearReLU else act(out)

    def forward_steps(self, x: Any) -> tuple[Tensor, Tensor]:
        """``(z, a)`` with z = x W + b (the weighted sum, 가중합) and a = phi(z)."""
        z = linear(self._input(x), self.weight, self.bias)
        return z, (z if self.activation is None else self.activation(z))

    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self._activation_config(),
                "input_dim": self.in_features, **self._weight_config()}

    def extra_repr(self) -> str:
        parts = [str(self.units)]
        if self.in_features is not None:
            parts.append(f"input_dim={self.in_features}")
        return ", ".join(parts + self._weight_repr())


@register
class Flatten(Module):
    """Keep the batch axis and flatten the rest: (N, d1, d2, ...) -> (N, d1 * d2 * ...).

    >>> nn.Flatten()(np.zeros((8, 28, 28))).shape
    (8, 784)
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    passes_values_through = True

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) == 0:
            raise ValueError("Flatten expected an input with a batch axis, got a scalar")
        return reshape(x, (shape[0], -1))

    def get_config(self) -> dict[str, Any]:
        return {}


@register
class Reshape(Module):
    """Keep the batch axis and give each sample the shape ``target_shape``:
    (N, d1 * d2 * ...) -> (N, *target_shape), as Keras' ``Reshape`` (one size may be -1).
    The inverse of :class:`Flatten`: rows of 784 pixels as images for a ``Conv2D``.

    >>> nn.Reshape((1, 28, 28))(np.zeros((8, 784))).shape
    (8, 1, 28, 28)
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    passes_values_through = True

    def __init__(self, target_shape: Any) -> None:
        super().__init__()
        try:
            shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Reshape expected a sequence of sizes for `target_shape`, got "
                             f"{target_shape!r}") from None
        if not shape or any(d < 1 and d != -1 for d in shape) or shape.count(-1) > 1:
            raise ValueError(f"Reshape expected positive sizes (at most one -1) for "
                             f"`target_shape`, got {target_shape!r}")
        self.target_shape = shape

    def forward(self, x: Any) -> Tensor:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        size = int(np.prod(shape[1:])) if len(shape) else 0
        want = int(np.prod([d for d in self.target_shape if d != -1]))
        if not shape or (size != want if -1 not in self.target_shape else size % want):
            raise ValueError(f"Reshape{self.target_shape} cannot hold samples of shape "
                             f"{tuple(shape[1:])} ({size} values each)")
        return reshape(x, (shape[0], *self.target_shape))

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape)}

    def extra_repr(self) -> str:
        return str(self.target_shape)


@register
class Dropout(Module):
    """Inverted dropout: in training each element is zeroed with probability ``p`` and the
    survivors are scaled by 1 / (1 - p), so E[output] = input; in evaluation (``model.eval()``)
    it is the identity.  ``p = 0`` is always the identity, ``p = 1`` gives zeros.

    y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p)

    >>> drop = nn.Dropout(0.5, rng=0)
    >>> drop(np.ones((2, 4)))          # zeros and 2.0s
    >>> drop.eval()(np.ones((2, 4)))   # unchanged
    """

    passes_values_through = True

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout expected a probability 0 <= p <= 1 for `p`, got {p!r}")
        self.p = float(p)
        self._rng = rng if rng is None or isinstance(rng, np.random.Generator) else get_rng(rng)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float32)
        if self.p == 1.0:
            return mul(x, np.zeros(data.shape, dtype=dtype))
        draw = get_rng(self._rng).random(data.shape, dtype=dtype)
        mask = np.multiply(draw >= self.p, dtype.type(1.0 / (1.0 - self.p)), dtype=dtype)
        return mul(x, mask)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


__all__ = ["Dense", "Dropout", "Flatten"]
