"""Neural-network building blocks: modules and parameters, layers, activations, normalization,
containers with ``summary()``, initializers, regularizers and losses.

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
from .layers import Dense, Dropout, Flatten
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
from .normalization import BatchNorm, LayerNorm
from .regularizers import L1, L1L2, L2, Regularizer

__all__ = [
    # module system
    "LoadResult", "Module", "Parameter", "deserialize", "register", "registered", "serialize",
    # layers and containers
    "BatchNorm", "Dense", "Dropout", "Flatten", "LayerNorm", "Residual", "Sequential",
    "Summary", "SummaryRow", "TraceStep", "format_weights", "summarize",
    # activations
    "ELU", "GELU", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh",
    # losses
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "Loss", "MSELoss",
    "NLLLoss", "get_loss", "one_hot",
    # regularizers
    "L1", "L1L2", "L2", "Regularizer",
    # classic neurons (no autograd)
    "MCPNeuron", "Perceptron",
    # submodules
    "activations", "classic", "init", "regularizers",
]
