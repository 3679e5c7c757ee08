"""BatchNorm against torch.nn.BatchNorm1d (training steps, running statistics, evaluation) and
LayerNorm against torch.nn.LayerNorm, forward and gradients; gradchecks of the fused ops."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn
from neuralab.nn.normalization import BatchNormOp, LayerNormOp


def _copy_affine(ours, theirs, rng):
    gamma = rng.uniform(0.5, 1.5, size=ours.weight.shape).astype(np.float32)
    beta = rng.normal(size=ours.bias.shape).astype(np.float32)
    ours.weight.data[...] = gamma
    ours.bias.data[...] = beta
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))


def _step(ours, theirs, x_np, g_np):
    x = nl.tensor(x_np, requires_grad=True)
    y = ours(x)
    y.backward(g_np)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    ours.zero_grad()
    theirs.zero_grad()


@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_batchnorm_matches_batchnorm1d_in_training_and_eval(momentum, eps):
    rng = np.random.default_rng(0)
    ours = nn.BatchNorm(5, momentum=momentum, eps=eps)
    theirs = torch.nn.BatchNorm1d(5, momentum=momentum, eps=eps)
    _copy_affine(ours, theirs, rng)
    for step in range(6):
        n = 8 + step  # batches of different sizes exercise the unbiased-variance factor
        x_np = (rng.normal(size=(n, 5)) * [1, 2, 3, 0.5, 10] + [0, 1, -2, 5, 3]).astype(np.float32)
        _step(ours, theirs, x_np, rng.normal(size=(n, 5)).astype(np.float32))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)

    ours.eval()
    theirs.eval()
    x_np = rng.normal(size=(4, 5)).astype(np.float32) * 3
    _step(ours, theirs, x_np, rng.normal(size=(4, 5)).astype(np.float32))
    # evaluation leaves the running statistics alone
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert ours.running_mean.dtype == np.float32


def test_batchnorm_without_affine_matches_torch():
    rng = np.random.default_rng(1)
    ours = nn.BatchNorm(3, affine=False)
    theirs = torch.nn.BatchNorm1d(3, affine=False)
    x_np = rng.normal(size=(10, 3)).astype(np.float32)
    g_np = rng.normal(size=(10, 3)).astype(np.float32)
    x = nl.tensor(x_np, requires_grad=True)
    ours(x).backward(g_np)
    xt = torch.tensor(x_np, requires_grad=True)
    theirs(xt).backward(torch.from_numpy(g_np))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    assert ours.parameters() == [] and len(ours.buffers()) == 2


def test_batchnorm_is_lazy_and_checks_its_input():
    bn = nn.BatchNorm()
    assert not bn.built
    bn(np.random.default_rng(0).normal(size=(4, 6)))
    assert bn.num_features == 6 and bn.weight.shape == (6,)
    with pytest.raises(ValueError, match="built for 6 features"):
        bn(np.ones((4, 7)))
    with pytest.raises(ValueError, match=r"shape \(batch, features\)"):
        bn(np.ones((4, 6, 2)))
    with pytest.raises(ValueError, match="more than one sample"):
        bn(np.ones((1, 6)))
    assert bn.eval()(np.ones((1, 6))).shape == (1, 6)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(3, momentum=2)


@pytest.mark.parametrize("shape, normalized", [((6, 5), 5), ((3, 4, 5), (4, 5)), ((3, 4, 5), 5)])
def test_layernorm_matches_torch(shape, normalized):
    rng = np.random.default_rng(2)
    ours = nn.LayerNorm(normalized, eps=1e-5)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-5)
    _copy_affine(ours, theirs, rng)
    x_np = (rng.normal(size=shape) * 4 + 2).astype(np.float32)
    _step(ours, theirs, x_np, rng.normal(size=shape).astype(np.float32))
    ours.eval()
    theirs.eval()
    _step(ours, theirs, x_np, rng.normal(size=shape).astype(np.float32))


def test_layernorm_lazy_and_errors():
    ln = nn.LayerNorm()
    assert ln(np.ones((2, 7))).shape == (2, 7) and ln.normalized_shape == (7,)
    with pytest.raises(ValueError, match="trailing axes"):
        ln(np.ones((2, 8)))


def test_fused_ops_pass_gradcheck():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4)) * 2 + 1
    gamma, beta = rng.uniform(0.5, 1.5, size=4), rng.normal(size=4)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 2, size=4)

    def bn_train(x, g, b):
        return BatchNormOp.apply(x, g, b, running_mean=None, running_var=None, eps=1e-5,
                                 training=True)

    def bn_eval(x, g, b):
        return BatchNormOp.apply(x, g, b, running_mean=rm, running_var=rv, eps=1e-5,
                                 training=False)

    def ln(x, g, b):
        return LayerNormOp.apply(x, g, b, k=1, eps=1e-5)

    def ln2(x):
        return LayerNormOp.apply(x, None, None, k=2, eps=1e-5)

    for fn in (bn_train, bn_eval, ln):
        report = nl.gradcheck(fn, x, gamma, beta)
        assert report.ok, (fn.__name__, str(report))
    assert nl.gradcheck(ln2, x).ok


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm(3), lambda: nn.LayerNorm(3)])
def test_normalization_keeps_float32_for_integer_and_float64_tensors(make):
    # as Dense: integer data (labels read as ints) or a float64 tensor must not turn the float32
    # layer's computation into float64; the gradient still reaches a float64 input
    x_int = nl.tensor(np.arange(12).reshape(4, 3))
    assert make()(x_int).dtype == np.float32
    x64 = nl.tensor(np.arange(12.0).reshape(4, 3) ** 1.5, requires_grad=True, dtype=np.float64)
    layer = make()
    y = layer(x64)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x64.grad.dtype == np.float64 and layer.weight.grad.dtype == np.float32
    ref = make()(x64.data.astype(np.float32))
    np.testing.assert_array_equal(y.data, ref.data)
