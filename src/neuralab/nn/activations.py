"""Activation functions as layers (활성화 함수), and by name with :func:`get`.

Each module applies one op of :mod:`neuralab.autograd.ops.activation`, where the function and its
derivative are written side by side:

===========  ====================================================  =================================
name         phi(z)                                                phi'(z)
===========  ====================================================  =================================
step         1 if z > 0 else 0 (the MCP neuron's threshold)        0 (no gradient flows)
sigmoid      1 / (1 + e^-z)                                        phi (1 - phi)
tanh         (e^z - e^-z) / (e^z + e^-z)                           1 - phi^2
relu         max(z, 0)                                             1 if z > 0 else 0
leaky_relu   z if z > 0 else alpha z   (alpha = 0.01)              1 or alpha
elu          z if z > 0 else alpha (e^z - 1)   (alpha = 1)         1 or phi + alpha
gelu         z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))         (tanh approximation)
softmax      e^(z_i) / sum_j e^(z_j) along ``axis``                phi_i (delta_ij - phi_j)
identity     z  (``"linear"`` too: regression outputs)             1
===========  ====================================================  =================================

GELU is the tanh approximation, PyTorch's ``nn.GELU(approximate="tanh")``.

>>> act = nn.activations.get("relu")
>>> act(neuralab.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

from typing import Any

from ..autograd.ops import activation as _ops
from ..autograd.tensor import Tensor
from ..registry import Registry
from .module import Module, deserialize, register


@register
class Step(Module):
    """Heaviside step, phi(z) = 1 if z > 0 else 0; zero gradient everywhere.

    >>> nn.Step()(neuralab.tensor([-0.5, 0.0, 2.0]))
    tensor([0., 0., 1.])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def forward(self, x: Any) -> Tensor:
        return _ops.step(x)

    def get_config(self) -> dict[str, Any]:
        return {}


@register
class Sigmoid(Module):
    """phi(z) = 1 / (1 + e^-z), in (0, 1): the output of binary classifiers.

    >>> nn.Sigmoid()(neuralab.tensor([0.0]))
    tensor([0.5])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def forward(self, x: Any) -> Tensor:
        return _ops.sigmoid(x)

    def get_config(self) -> dict[str, Any]:
        return {}


@register
class Tanh(Module):
    """phi(z) = tanh z, in (-1, 1), zero-centred.

    >>> nn.Tanh()(neuralab.tensor([0.0]))
    tensor([0.])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def forward(self, x: Any) -> Tensor:
        return _ops.tanh(x)

    def get_config(self) -> dict[str, Any]:
        return {}


@register
class ReLU(Module):
    """phi(z) = max(z, 0).

    >>> nn.ReLU()(neuralab.tensor([-1.0, 3.0]))
    tensor([0., 3.])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def forward(self, x: Any) -> Tensor:
        return _ops.relu(x)

    def get_config(self) -> dict[str, Any]:
        return {}


def _alpha(value: Any, who: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{who} expected a number for `alpha`, got {value!r}")
    return float(value)


@register
class LeakyReLU(Module):
    """phi(z) = z if z > 0 else alpha z (default alpha 0.01, as PyTorch; Keras uses 0.3).

    >>> nn.LeakyReLU(0.1)(neuralab.tensor([-1.0, 3.0]))
    tensor([-0.1,  3. ])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = _alpha(alpha, "LeakyReLU")

    def forward(self, x: Any) -> Tensor:
        return _ops.leaky_relu(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@register
class ELU(Module):
    """phi(z) = z if z > 0 else alpha (e^z - 1).

    >>> nn.ELU()(neuralab.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _alpha(alpha, "ELU")

    def forward(self, x: Any) -> Tensor:
        return _ops.elu(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@register
class GELU(Module):
    """phi(z) = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))), the tanh form of z Phi(z).

    >>> nn.GELU()(neuralab.tensor([0.0]))
    tensor([0.])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def forward(self, x: Any) -> Tensor:
        return _ops.gelu(x)

    def get_config(self) -> dict[str, Any]:
        return {}


@register
class Softmax(Module):
    """phi(z)_i = e^(z_i - max z) / sum_j e^(z_j - max z) along ``axis``: probabilities that sum
    to 1, the output of multi-class classifiers.

    >>> nn.Softmax()(neuralab.tensor([[0.0, 0.0]]))
    tensor([[0.5, 0.5]])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Softmax expected an integer `axis`, got {axis!r}")
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return _ops.softmax(x, axis=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


@register
class Identity(Module):
    """phi(z) = z: the output of regression networks ("linear").

    >>> nn.Identity()(neuralab.tensor([1.5]))
    tensor([1.5])
    """

    capturable = True  # its forward is ops alone (nn.Module.capturable)

    passes_values_through = True

    def forward(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {}


_REGISTRY: Registry[type[Module]] = Registry(
    "activation",
    {"step": Step, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU,
     "elu": ELU, "gelu": GELU, "softmax": Softmax, "identity": Identity},
    aliases={"linear": "identity", "heaviside": "step"},
)


def names() -> list[str]:
    """The activation names accepted by :func:`get`."""
    return _REGISTRY.names()


def get(spec: Any) -> Module | None:
    """An activation module from a name (``"relu"``), a Module (returned as is), None (no
    activation) or a saved spec dict ``{"class": "LeakyReLU", "config": {"alpha": 0.2}}``."""
    if spec is None or isinstance(spec, Module):
        return spec
    if isinstance(spec, str):
        return _REGISTRY.lookup(spec)()
    if isinstance(spec, dict):
        return deserialize(spec)
    raise TypeError(
        f"expected an activation name such as 'relu', a Module or None, got {type(spec).__name__}"
    )


def name_of(module: Module | None) -> str | None:
    """The name under which :func:`get` gives back an equivalent module (default settings only),
    or None."""
    for name, cls in _REGISTRY.items():
        if type(module) is cls and module.get_config() == cls().get_config():
            return name
    return None


__all__ = [
    "ELU", "GELU", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh", "get",
    "name_of", "names",
]
