"""mcp-gates: the MCP neuron and the gates AND, OR, NOT, against neuralab.nn.MCPNeuron."""

from __future__ import annotations

import numpy as np

from ..nn.classic import MCPNeuron
from .compare import expect_close, rng
from .core import Exercise, Student

exercise = Exercise("mcp-gates", "MCP neuron: AND, OR, NOT", "맥컬록-피츠 뉴런", 1,
                    ("mcp", "and_gate", "or_gate", "not_gate"))
TWO = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


@exercise.check("mcp-threshold", "mcp fires when the weighted sum reaches the threshold",
                "'reaches' includes equality: a sum exactly at the threshold fires")
def _mcp(s: Student) -> None:
    r = rng(10)
    for n in (2, 3, 5):
        x = r.integers(0, 2, size=(16, n))
        w = r.integers(-2, 3, size=n).astype(float)
        theta = float(r.integers(-1, 3))
        expect_close(s.call("mcp", x, w, theta), MCPNeuron(w, theta)(x),
                     f"mcp(x, w, {theta:g}) with {n} inputs")


def _gate(s: Student, name: str, x: np.ndarray, expected: np.ndarray) -> None:
    with s.using_reference("mcp"):
        expect_close(s.call(name, x), expected, f"{name} on the truth table {x.tolist()}")


@exercise.check("and-gate", "and_gate's truth table", "AND fires only when both inputs are 1: "
                "the threshold must need every input")
def _and(s: Student) -> None:
    _gate(s, "and_gate", TWO, MCPNeuron.AND()(TWO))


@exercise.check("or-gate", "or_gate's truth table", "OR fires when at least one input is 1: one "
                "active input must be enough to reach the threshold")
def _or(s: Student) -> None:
    _gate(s, "or_gate", TWO, MCPNeuron.OR()(TWO))


@exercise.check("not-gate", "not_gate's truth table", "NOT needs an inhibitory (negative) weight: "
                "input 1 must keep the sum below the threshold, input 0 must reach it")
def _not(s: Student) -> None:
    one = np.array([[0], [1]])
    _gate(s, "not_gate", one, MCPNeuron.NOT()(one))
