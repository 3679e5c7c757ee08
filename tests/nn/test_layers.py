"""Dense, Flatten and Dropout against PyTorch (weights copied across; W is (in, out) here and
(out, in) in torch.nn.Linear)."""

import math

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn


def torch_linear_from(layer: nn.Dense) -> torch.nn.Linear:
    lin = torch.nn.Linear(layer.in_features, layer.units, bias=layer.use_bias)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
        if layer.use_bias:
            lin.bias.copy_(torch.from_numpy(layer.bias.data))
    return lin


@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_matches_torch_linear(shape, use_bias):
    rng = np.random.default_rng(0)
    layer = nn.Dense(4, input_dim=5, use_bias=use_bias, rng=1)
    lin = torch_linear_from(layer)
    x_np = rng.normal(size=shape).astype(np.float32)
    g_np = rng.normal(size=shape[:-1] + (4,)).astype(np.float32)

    x = nl.tensor(x_np, requires_grad=True)
    y = layer(x)
    y.backward(g_np)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = lin(xt)
    yt.backward(torch.from_numpy(g_np))

    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, lin.weight.grad.numpy().T, rtol=1e-5, atol=1e-5)
    if use_bias:
        np.testing.assert_allclose(layer.bias.grad, lin.bias.grad.numpy(), rtol=1e-5, atol=1e-5)
    else:
        assert layer.bias is None


@pytest.mark.parametrize("act, torch_act", [
    ("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
    ("softmax", lambda z: torch.softmax(z, dim=-1)),
])
def test_dense_with_activation_matches_torch(act, torch_act):
    rng = np.random.default_rng(1)
    layer = nn.Dense(3, activation=act, input_dim=4, rng=2)
    lin = torch_linear_from(layer)
    x_np = rng.normal(size=(6, 4)).astype(np.float32)
    g_np = rng.normal(size=(6, 3)).astype(np.float32)
    x = nl.tensor(x_np, requires_grad=True)
    layer(x).backward(g_np)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch_act(lin(xt))
    yt.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(layer(x_np).data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, lin.weight.grad.numpy().T, rtol=1e-4, atol=1e-6)


def test_dense_builds_lazily_and_names_its_parameters():
    layer = nn.Dense(3)
    assert not layer.built and layer.parameters() == []
    out = layer(np.ones((2, 7)))
    assert layer.built and out.shape == (2, 3) and out.dtype == np.float32
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (7, 3) and layer.bias.shape == (3,)
    eager = nn.Dense(3, input_dim=7)
    assert eager.weight.shape == (7, 3)


def test_dense_keeps_float32_for_integer_and_float64_inputs():
    layer = nn.Dense(2, input_dim=3)
    assert layer(np.arange(6).reshape(2, 3)).dtype == np.float32
    assert layer(np.ones((2, 3), dtype=np.float64)).dtype == np.float32
    assert layer(nl.tensor(np.ones((2, 3)), dtype=np.float64)).dtype == np.float32


def test_dense_default_initializer_is_glorot_uniform():
    layer = nn.Dense(300, input_dim=500, rng=0)
    limit = math.sqrt(6 / (500 + 300))
    w = layer.weight.data
    assert np.abs(w).max() <= limit
    np.testing.assert_allclose(w.var(), limit**2 / 3, rtol=0.02)
    np.testing.assert_array_equal(layer.bias.data, 0)


def test_dense_rng_makes_weights_reproducible():
    a = nn.Dense(4, input_dim=3, rng=5).weight.data
    b = nn.Dense(4, input_dim=3, rng=5).weight.data
    np.testing.assert_array_equal(a, b)
    nl.seed(3)
    c = nn.Dense(4, input_dim=3).weight.data
    nl.seed(3)
    np.testing.assert_array_equal(c, nn.Dense(4, input_dim=3).weight.data)


def test_dense_errors_are_clear():
    with pytest.raises(ValueError, match="Dense expected a positive integer for `units`, got -3"):
        nn.Dense(-3)
    with pytest.raises(ValueError, match="unknown activation 'rellu'.*relu"):
        nn.Dense(3, activation="rellu")
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.Dense(3, kernel_initializer="he_wrong")
    layer = nn.Dense(3, input_dim=4)
    with pytest.raises(ValueError, match="input has 5 features but the weight expects 4"):
        layer(np.ones((2, 5)))


def test_dense_forward_steps_give_the_weighted_sum_and_activation():
    layer = nn.Dense(3, activation="sigmoid", input_dim=2, rng=0)
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    z, a = layer.forward_steps(x)
    np.testing.assert_allclose(z.data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    np.testing.assert_allclose(a.data, 1 / (1 + np.exp(-z.data)), rtol=1e-6)


def test_flatten_matches_torch():
    x_np = np.random.default_rng(0).normal(size=(4, 3, 2, 5)).astype(np.float32)
    x = nl.tensor(x_np, requires_grad=True)
    y = nn.Flatten()(x)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.Flatten()(xt)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    g = np.random.default_rng(1).normal(size=y.shape).astype(np.float32)
    y.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())
    assert nn.Flatten()(np.zeros((5,))).shape == (5, 1)


def test_dropout_p0_and_eval_are_the_identity_like_torch():
    x_np = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
    xt = torch.from_numpy(x_np)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x_np), torch.nn.Dropout(0.0)(xt).numpy())
    drop, tdrop = nn.Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(np.asarray(drop(x_np)), tdrop(xt).numpy())
    x = nl.tensor(x_np, requires_grad=True)
    assert nn.Dropout(0.0)(x) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_training_scaling_and_gradient_like_torch(p):
    x_np = np.random.default_rng(0).uniform(1, 2, size=(200, 250)).astype(np.float32)
    x = nl.tensor(x_np, requires_grad=True)
    y = nn.Dropout(p, rng=0)(x)
    y.sum().backward()
    ratio = y.data / x_np
    kept = ratio != 0

    torch.manual_seed(0)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.Dropout(p)(xt)
    yt.sum().backward()
    t_ratio = (yt.detach() / xt.detach()).numpy()

    # both scale survivors by exactly 1 / (1 - p) and zero the rest
    np.testing.assert_allclose(np.unique(ratio[kept]), 1 / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(np.unique(t_ratio[t_ratio != 0]), 1 / (1 - p), rtol=1e-6)
    # the dropped fraction is p for both (binomial: 4 sigma of n = 50 000 draws)
    tol = 4 * math.sqrt(p * (1 - p) / x_np.size)
    assert abs((~kept).mean() - p) < tol
    assert abs((t_ratio == 0).mean() - p) < tol
    # the gradient is the same mask times the same scale
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / (1 - p), 0), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), np.where(t_ratio != 0, 1 / (1 - p), 0), rtol=1e-6)


def test_dropout_p1_gives_zeros_and_bad_p_is_an_error():
    np.testing.assert_array_equal(nn.Dropout(1.0)(np.ones((3, 3))).data, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="0 <= p <= 1.*1.5"):
        nn.Dropout(1.5)


def test_dropout_with_seed_is_reproducible_and_draws_new_masks():
    a = nn.Dropout(0.5, rng=7)
    b = nn.Dropout(0.5, rng=7)
    first = a(np.ones((10, 10))).data
    np.testing.assert_array_equal(first, b(np.ones((10, 10))).data)
    assert not np.array_equal(first, a(np.ones((10, 10))).data)
