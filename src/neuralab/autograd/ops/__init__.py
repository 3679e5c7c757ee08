"""Differentiable ops, one file per family.  Each op is a
:class:`~neuralab.autograd.function.Function` subclass with ``forward`` and ``backward`` side by
side, plus a plain function that applies it."""

from .activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    step,
    tanh,
)
from .conv import avg_pool2d, conv2d, max_pool2d
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    power,
    sqrt,
    sub,
    where,
)
from .linalg import linear, linear_relu, matmul
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    cross_entropy_from_probs,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .reduce import max, mean, min, sum, var
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
)

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clip", "concatenate", "div", "elu", "exp",
    "expand_dims", "flatten", "gelu", "getitem", "leaky_relu", "linear", "linear_relu", "log",
    "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg",
    "permute", "power", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack",
    "step", "sub", "sum", "tanh", "transpose", "var", "where",
    # convolution and pooling (ops/conv.py)
    "avg_pool2d", "conv2d", "max_pool2d",
    # fused losses (ops/loss.py)
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "cross_entropy_from_probs", "huber_loss", "l1_loss", "mse_loss", "nll_loss",
]
