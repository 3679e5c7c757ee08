"""Activation modules against PyTorch, forward and gradient, and lookup by name."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn
from neuralab.nn import activations

CASES = [
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(), torch.nn.ELU()),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.GELU(), torch.nn.GELU(approximate="tanh")),
    (nn.Softmax(), torch.nn.Softmax(dim=-1)),
    (nn.Softmax(axis=0), torch.nn.Softmax(dim=0)),
    (nn.Identity(), torch.nn.Identity()),
    (nn.Step(), lambda t: torch.heaviside(t, torch.zeros(()))),  # 0 at t = 0, like MCP
]


@pytest.mark.parametrize("ours, theirs", CASES, ids=[repr(ours) for ours, _ in CASES])
def test_activation_matches_torch(ours, theirs):
    rng = np.random.default_rng(0)
    x_np = (rng.normal(size=(6, 5)) * 3).astype(np.float32)
    x_np[0, :3] = [0.0, 30.0, -30.0]  # the kink and saturation
    g_np = rng.normal(size=(6, 5)).astype(np.float32)
    x = nl.tensor(x_np, requires_grad=True)
    y = ours(x)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert y.dtype == np.float32
    if isinstance(ours, nn.Step):  # torch's heaviside has no gradient; the step's is zero
        y.backward(g_np)
        np.testing.assert_array_equal(x.grad, np.zeros_like(x_np))
        return
    y.backward(g_np)
    yt.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_softmax_rows_sum_to_one_for_extreme_logits():
    probs = nn.Softmax()(np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(probs.data.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(probs.data).all()


@pytest.mark.parametrize("name, cls", [
    ("step", nn.Step), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU),
    ("leaky_relu", nn.LeakyReLU), ("elu", nn.ELU), ("gelu", nn.GELU), ("softmax", nn.Softmax),
    ("identity", nn.Identity), ("linear", nn.Identity), ("ReLU", nn.ReLU),
    ("leaky-relu", nn.LeakyReLU),
])
def test_get_by_name(name, cls):
    assert type(activations.get(name)) is cls


def test_get_accepts_modules_none_and_saved_specs_and_rejects_unknown_names():
    act = nn.LeakyReLU(0.3)
    assert activations.get(act) is act
    assert activations.get(None) is None
    rebuilt = activations.get({"class": "LeakyReLU", "config": {"alpha": 0.3}})
    assert isinstance(rebuilt, nn.LeakyReLU) and rebuilt.alpha == 0.3
    with pytest.raises(ValueError) as info:
        activations.get("swish")
    message = str(info.value)
    assert "swish" in message and all(n in message for n in activations.names())
    with pytest.raises(TypeError, match="activation name"):
        activations.get(3)


def test_name_of_only_for_default_settings():
    assert activations.name_of(nn.ReLU()) == "relu"
    assert activations.name_of(nn.LeakyReLU()) == "leaky_relu"
    assert activations.name_of(nn.LeakyReLU(0.2)) is None
