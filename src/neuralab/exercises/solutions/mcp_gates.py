"""Logic gates from McCulloch-Pitts neurons (맥컬록-피츠 뉴런).

An MCP neuron has fixed weights w and a threshold theta; it fires (outputs 1) when the weighted
sum of its binary inputs reaches the threshold:  output = 1 if w . x >= theta else 0.
Write the neuron, then AND, OR and NOT as neurons with weights and thresholds you choose.
Inputs are arrays of shape (N, n_inputs) of 0s and 1s; outputs are integer arrays of shape (N,).

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "mcp-gates"


def mcp(x, weights, threshold):
    """1 where x @ weights reaches the threshold, else 0 (an integer array of shape (N,))."""
    return (x @ weights >= threshold).astype(int)


def and_gate(x):
    """AND of two inputs, x of shape (N, 2), by one MCP neuron."""
    return mcp(x, np.array([1, 1]), 2)


def or_gate(x):
    """OR of two inputs, x of shape (N, 2), by one MCP neuron."""
    return mcp(x, np.array([1, 1]), 1)


def not_gate(x):
    """NOT of one input, x of shape (N, 1), by one MCP neuron (an inhibitory weight)."""
    return mcp(x, np.array([-1]), 0)
