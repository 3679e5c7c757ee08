"""Reverse-mode automatic differentiation on NumPy arrays (오차 역전파)."""

from .engine import enable_grad, is_grad_enabled, no_grad
from .function import Function
from .gradcheck import GradcheckReport, gradcheck, numerical_gradient
from .graph import Graph, Step, explain_backward, graph
from .tensor import Tensor, tensor

__all__ = [
    "Function", "GradcheckReport", "Graph", "Step", "Tensor", "enable_grad", "explain_backward",
    "gradcheck", "graph", "is_grad_enabled", "no_grad", "numerical_gradient", "tensor",
]
