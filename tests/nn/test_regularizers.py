"""L1/L2 penalties: values and gradients against PyTorch autograd, gradcheck of the fused ops,
and the documented relation between an L2 penalty and SGD weight decay."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn
from neuralab.nn import regularizers
from neuralab.nn.regularizers import L1Penalty, L2Penalty


@pytest.mark.parametrize("reg, torch_penalty", [
    (nn.regularizers.L1(0.03), lambda w: 0.03 * w.abs().sum()),
    (nn.regularizers.L2(0.02), lambda w: 0.02 * (w * w).sum()),
    (nn.regularizers.L1L2(l1=0.01, l2=0.05), lambda w: 0.01 * w.abs().sum() + 0.05 * (w * w).sum()),
    (nn.regularizers.L1L2(l2=0.05), lambda w: 0.05 * (w * w).sum()),
])
def test_penalty_and_gradient_match_torch(reg, torch_penalty):
    w_np = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    w = nn.Parameter(w_np)
    penalty = reg(w)
    penalty.backward()
    wt = torch.tensor(w_np, requires_grad=True)
    pt = torch_penalty(wt)
    pt.backward()
    np.testing.assert_allclose(penalty.item(), pt.item(), rtol=1e-5)
    np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert penalty.dtype == np.float32


def test_penalty_ops_pass_gradcheck():
    w = np.random.default_rng(1).normal(size=(4, 3))
    assert nl.gradcheck(lambda w: L2Penalty.apply(w, factor=0.3), w).ok
    assert nl.gradcheck(lambda w: L1Penalty.apply(w, factor=0.3), w).ok


def test_l2_penalty_with_sgd_equals_torch_weight_decay_of_twice_the_factor():
    # the docs claim: SGD on loss + l2 * sum w^2 == SGD with weight_decay = 2 * l2
    rng = np.random.default_rng(2)
    x_np = rng.normal(size=(8, 3)).astype(np.float32)
    layer = nn.Dense(2, input_dim=3, kernel_regularizer=nn.regularizers.L2(0.05), use_bias=False, rng=0)
    lin = torch.nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, weight_decay=2 * 0.05)
    for _ in range(3):
        loss = (layer(x_np) ** 2).mean() + layer.regularization_loss()
        layer.zero_grad()
        loss.backward()
        layer.weight.data -= 0.1 * layer.weight.grad
        opt.zero_grad()
        (lin(torch.from_numpy(x_np)) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(layer.weight.data, lin.weight.detach().numpy().T, rtol=1e-5,
                               atol=1e-6)


def test_get_and_errors():
    assert regularizers.get(None) is None
    assert regularizers.get("l2") == nn.regularizers.L2(0.01)
    spec = {"class": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert regularizers.get(spec) == nn.regularizers.L1L2(0.1, 0.2)
    with pytest.raises(ValueError, match="unknown regularizer"):
        regularizers.get("l3")
    with pytest.raises(TypeError, match="subclass"):
        regularizers.get(lambda w: w)
    with pytest.raises(ValueError, match="non-negative"):
        nn.regularizers.L2(-1.0)


def test_nn_L1_is_not_a_guess_between_the_loss_and_the_penalty():
    for name in ("L1", "L2", "L1L2"):
        with pytest.raises(AttributeError, match=f"nn.regularizers.{name}"):
            getattr(nn, name)
    with pytest.raises(AttributeError, match="nn.L1Loss"):
        nn.L1  # noqa: B018
    assert regularizers.get({"class": "L1", "config": {"l1": 0.1}}) == nn.regularizers.L1(0.1)
