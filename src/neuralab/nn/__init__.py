"""Neural-network building blocks: modules and parameters, layers (dense, convolution and
pooling), activations, normalization, containers with ``summary()``, initializers, regularizers
and losses.

>>> from neuralab import nn
>>> model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(3, activation="softmax")])
>>> model.summary(input_shape=(4,))
"""

from . import activations, classic, init, regularizers
from .classic import MCPNeuron, Perceptron
from .activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Step, Tanh
from .containers import (
    Residual,
    Sequential,
    Summary,
    SummaryRow,
    TraceStep,
    format_weights,
    summarize,
)
from .conv import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D
from .layers import Dense, Dropout, Flatten, Reshape
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    Loss,
    MSELoss,
    NLLLoss,
    get_loss,
    one_hot,
)
from .module import (
    LoadResult,
    Module,
    Parameter,
    deserialize,
    register,
    registered,
    serialize,
)
from .normalization import BatchNorm, BatchNorm2D, LayerNorm
from .regularizers import Regularizer

__all__ = [
    # module system
    "LoadResult", "Module", "Parameter", "deserialize", "register", "registered", "serialize",
    # layers and containers
    "AvgPool2D", "BatchNorm", "BatchNorm2D", "Conv2D", "Dense", "Dropout", "Flatten",
    "GlobalAvgPool2D", "LayerNorm", "MaxPool2D", "Reshape", "Residual", "Sequential",
    "Summary", "SummaryRow", "TraceStep", "format_weights", "summarize",
    # activations
    "ELU", "GELU", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh",
    # losses
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "Loss", "MSELoss",
    "NLLLoss", "get_loss", "one_hot",
    # regularizers
    "Regularizer",
    # classic neurons (no autograd)
    "MCPNeuron", "Perceptron",
    # submodules
    "activations", "classic", "init", "regularizers",
]


_PENALTIES = ("L1", "L2", "L1L2")  # in nn.regularizers only


def __getattr__(name: str) -> object:
    # nn.L1 could mean the loss or the penalty: say which is which instead of guessing
    if name in _PENALTIES:
        raise AttributeError(
            f"neuralab.nn has no {name}: the weight penalty is nn.regularizers.{name} "
            f"(kernel_regularizer=nn.regularizers.{name}(...) or {name.lower()!r})"
            + (", the mean absolute error loss is nn.L1Loss" if name == "L1" else "")
        )
    raise AttributeError(f"module 'neuralab.nn' has no attribute {name!r}")

