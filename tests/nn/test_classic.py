"""MCP neuron gates and the perceptron learning rule (truth tables and hand-computed updates)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neuralab.nn.classic import MCPNeuron, Perceptron

X2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
AND = np.array([0, 0, 0, 1])
OR = np.array([0, 1, 1, 1])
XOR = np.array([0, 1, 1, 0])


# ------------------------------------------------------------------------------ MCP neuron
def test_mcp_gates_truth_tables():
    np.testing.assert_array_equal(MCPNeuron.AND()(X2), AND)
    np.testing.assert_array_equal(MCPNeuron.OR()(X2), OR)
    np.testing.assert_array_equal(MCPNeuron.NAND()(X2), 1 - AND)
    np.testing.assert_array_equal(MCPNeuron.NOT()(np.array([[0], [1]])), [1, 0])
    assert MCPNeuron.NOT()([0]) == 1 and MCPNeuron.NOT()([1]) == 0
    assert MCPNeuron.AND().predict([1, 1]) == 1 and MCPNeuron.AND().predict([1, 0]) == 0


@pytest.mark.parametrize("n", [1, 3, 4])
def test_mcp_gates_with_n_inputs(n):
    X = np.array(list(itertools.product([0, 1], repeat=n)))
    np.testing.assert_array_equal(MCPNeuron.AND(n)(X), X.all(axis=1).astype(int))
    np.testing.assert_array_equal(MCPNeuron.OR(n)(X), X.any(axis=1).astype(int))
    np.testing.assert_array_equal(MCPNeuron.NAND(n)(X), 1 - X.all(axis=1).astype(int))


def test_mcp_fires_at_the_threshold_inclusive():
    neuron = MCPNeuron([0.5, 0.5], threshold=1.0)
    assert neuron([1, 1]) == 1  # w . x = 1.0 >= 1.0
    assert neuron([1, 0]) == 0
    assert neuron.net_input([1, 1]) == 1.0
    assert isinstance(neuron([1, 1]), int)
    assert repr(MCPNeuron.AND()) == "MCPNeuron(weights=[1.0, 1.0], threshold=2)"


def test_xor_from_mcp_gates_needs_two_layers():
    # XOR(a, b) = AND(OR(a, b), NAND(a, b)): a hidden layer of two neurons, then one output
    hidden = np.stack([MCPNeuron.OR()(X2), MCPNeuron.NAND()(X2)], axis=1)
    np.testing.assert_array_equal(MCPNeuron.AND()(hidden), XOR)


def test_mcp_errors():
    with pytest.raises(
        ValueError, match=r"expected x of shape \(2,\) or \(N, 2\), got shape \(3,\)"
    ):
        MCPNeuron.AND()([1, 0, 1])
    with pytest.raises(ValueError, match="non-empty 1-d sequence"):
        MCPNeuron([], threshold=1)
    with pytest.raises(TypeError, match="number for `threshold`"):
        MCPNeuron([1, 1], threshold="2")
    with pytest.raises(ValueError, match="positive integer for `n_inputs`, got 0"):
        MCPNeuron.AND(0)


# ------------------------------------------------------------------------------ perceptron
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("name, y", [("AND", AND), ("OR", OR)])
def test_perceptron_learns_linearly_separable_gates(name, y, shuffle):
    for seed in range(5):
        p = Perceptron(lr=0.1, epochs=100, rng=seed, shuffle=shuffle).fit(X2, y)
        assert p.converged_, f"{name} did not converge with seed {seed}: {p.errors_}"
        assert p.errors_[-1] == 0 and all(e > 0 for e in p.errors_[:-1])
        assert p.n_iter_ == len(p.errors_) < 100  # stopped early
        np.testing.assert_array_equal(p.predict(X2), y)
        # the learned line really separates: w . x + b >= 0 exactly on the positive samples
        z = X2 @ p.weights_ + p.bias_
        assert np.all(z[y == 1] >= 0) and np.all(z[y == 0] < 0)
        assert p.score(X2, y) == 1.0


def test_perceptron_fails_on_xor():
    for seed in range(5):
        p = Perceptron(lr=0.1, epochs=50, rng=seed).fit(X2, XOR)
        assert not p.converged_
        assert len(p.errors_) == 50 and min(p.errors_) > 0  # never an error-free epoch
        assert p.score(X2, XOR) < 1.0  # no line classifies all four points


def test_perceptron_rule_matches_hand_computation():
    # Without shuffling, AND, eta = 0.1, weights and bias starting at 0, y_hat = [w.x + b >= 0]:
    # epoch 1: (0,0): z=0 -> 1, y=0: b=-0.1 | (0,1),(1,0): z=-0.1 -> 0 ok
    #          (1,1): z=-0.1 -> 0, y=1: w=(0.1,0.1), b=0          -> 2 errors
    # epoch 2: (0,0): z=0 -> 1: b=-0.1 | (0,1): z=0 -> 1: w=(0.1,0), b=-0.2
    #          (1,0): z=-0.1 ok | (1,1): z=-0.1 -> 0: w=(0.2,0.1), b=-0.1 -> 3 errors
    p = Perceptron(lr=0.1, epochs=1, shuffle=False).fit(X2, AND)
    np.testing.assert_allclose(p.weights_, [0.1, 0.1])
    assert p.bias_ == pytest.approx(0.0) and p.errors_ == [2] and not p.converged_
    p = Perceptron(lr=0.1, epochs=2, shuffle=False).fit(X2, AND)
    np.testing.assert_allclose(p.weights_, [0.2, 0.1])
    assert p.bias_ == pytest.approx(-0.1) and p.errors_ == [2, 3]


def test_perceptron_learning_rate_scales_weights_from_zero_start():
    # from w = 0 every update is a multiple of eta, so eta scales the weights, not the decisions
    a = Perceptron(lr=0.1, rng=3).fit(X2, OR)
    b = Perceptron(lr=1.0, rng=3).fit(X2, OR)
    assert a.errors_ == b.errors_
    np.testing.assert_allclose(b.weights_, 10 * a.weights_)


def test_perceptron_separates_a_larger_separable_set():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 3))
    w_true, b_true = np.array([1.5, -2.0, 0.5]), 0.2
    z = X @ w_true + b_true
    keep = np.abs(z) > 0.1  # a margin guarantees convergence (Novikoff)
    X, y = X[keep], (z[keep] > 0).astype(int)
    p = Perceptron(lr=0.5, epochs=500, rng=1).fit(X, y)
    assert p.converged_
    np.testing.assert_array_equal(p.predict(X), y)


def test_perceptron_accepts_bool_float_and_column_labels_and_single_samples():
    p = Perceptron(rng=0).fit(X2.astype(float), np.array([[0.0], [0.0], [0.0], [1.0]]))
    assert p.converged_
    p2 = Perceptron(rng=0).fit(X2, AND.astype(bool))
    np.testing.assert_array_equal(p2.predict(X2), AND)
    np.testing.assert_array_equal(p.predict([1, 1]), [1])


def test_perceptron_errors():
    with pytest.raises(RuntimeError, match="not fitted yet; call fit"):
        Perceptron().predict(X2)
    with pytest.raises(ValueError, match="expected labels 0 or 1, got -1, 2"):
        Perceptron().fit(X2, [0, -1, 2, 1])
    with pytest.raises(ValueError, match="X has 4 samples but y has 3 labels"):
        Perceptron().fit(X2, [0, 1, 1])
    with pytest.raises(ValueError, match=r"X of shape \(n_samples, n_features\), got shape \(4,\)"):
        Perceptron().fit(np.array([0, 1, 1, 0]), XOR)
    with pytest.raises(ValueError, match="non-finite"):
        Perceptron().fit(np.array([[0.0, np.nan]]), [1])
    fitted = Perceptron(rng=0).fit(X2, AND)
    with pytest.raises(ValueError, match="X has 3 features but the perceptron was fitted on 2"):
        fitted.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive number for `lr`, got 0"):
        Perceptron(lr=0)
    with pytest.raises(ValueError, match="positive integer for `epochs`, got 2.5"):
        Perceptron(epochs=2.5)
