"""PyTorch is the oracle: every op of the op table, and composite expressions, give the same
outputs and gradients as torch on the same inputs and cotangents.

Tolerance: 1e-5 relative in float32 and 1e-10 in float64, element-wise, with an absolute floor of
the same relative size times the largest magnitude of the tensor compared (so that an element that
cancels to nearly zero is judged against the scale of its tensor, not against itself).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralab as nl
from test_ops_table import ALL_CASES, Op

DTYPES = [
    pytest.param(np.float32, torch.float32, 1e-5, id="float32"),
    pytest.param(np.float64, torch.float64, 1e-10, id="float64"),
]


def assert_close(ours: np.ndarray, theirs: torch.Tensor | np.ndarray, rtol: float, what: str):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert np.shape(ours) == theirs.shape, f"{what}: shape {np.shape(ours)} vs torch {theirs.shape}"
    scale = float(np.abs(theirs).max(initial=0.0))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


def run_both(fn, tfn, arrays, np_dtype, torch_dtype, cotangent_seed=0):
    """Run ``fn`` in neuralab and ``tfn`` in torch on the same inputs and backpropagate the same
    random cotangent; return (our output, our grads, torch output, torch grads)."""
    arrays = [a.astype(np_dtype) if a.dtype.kind == "f" else a for a in arrays]
    ours = [nl.tensor(a, requires_grad=True, dtype=np_dtype) if a.dtype.kind == "f" else a
            for a in arrays]
    theirs = [torch.tensor(a, dtype=torch_dtype, requires_grad=True) if a.dtype.kind == "f"
              else torch.from_numpy(a) for a in arrays]
    out, tout = fn(*ours), tfn(*theirs)
    cot = np.random.default_rng(cotangent_seed).standard_normal(out.shape).astype(np_dtype)
    out.backward(cot)
    tout.backward(torch.from_numpy(cot).reshape(tout.shape))
    grads = [x.grad for x in ours if isinstance(x, nl.Tensor)]
    tgrads = [
        x.grad if x.grad is not None else torch.zeros_like(x)
        for x in theirs if isinstance(x, torch.Tensor) and x.requires_grad
    ]
    return out, grads, tout, tgrads


@pytest.mark.parametrize("np_dtype, torch_dtype, rtol", DTYPES)
@pytest.mark.parametrize("op", ALL_CASES)
def test_op_matches_torch(op: Op, np_dtype, torch_dtype, rtol):
    out, grads, tout, tgrads = run_both(
        op.fn, op.torch, op.draw(), np_dtype, torch_dtype, zlib.crc32(op.name.encode())
    )
    assert out.dtype == np_dtype
    assert_close(out.data, tout, rtol, f"{op}: output")
    assert len(grads) == len(tgrads)
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        assert g is not None and g.dtype == np_dtype, f"{op}: gradient {k} is {g!r}"
        assert_close(g, tg, rtol, f"{op}: gradient of input {k}")


# ---------------------------------------------------------------------------- composites


def mlp(x, w1, b1, w2, b2, w3, b3, target):
    """Two hidden layers written with raw ops and a squared error; the same code runs on neuralab
    tensors and on torch tensors (the methods used exist in both)."""
    h1 = (x @ w1 + b1).relu()
    h2 = (h1 @ w2 + b2).tanh()
    out = (h2 @ w3 + b3).sigmoid()
    return ((out - target) ** 2).mean()


def diamond(x, w):
    """x feeds two branches that meet again, and w is used on both sides of the sum."""
    a = x * w
    return (a.exp() * a.tanh() + a * w).sum()


def _cross_entropy(z, y):
    return -(nl.log_softmax(z, axis=1)[np.arange(len(y)), y]).mean()


def _cross_entropy_one_hot(z, y):
    one_hot = np.eye(z.shape[1], dtype=np.float32)[y]
    return -(nl.log_softmax(z, axis=1) * one_hot).sum(axis=1).mean()


def _layer_norm(x, gain, bias):
    mu, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    return ((x - mu) / (var + 1e-5) ** 0.5 * gain + bias).sum(axis=0)


def _torch_layer_norm(x, gain, bias):
    mu, var = x.mean(dim=-1, keepdim=True), x.var(dim=-1, keepdim=True, correction=0)
    return ((x - mu) / (var + 1e-5) ** 0.5 * gain + bias).sum(dim=0)


_RNG = np.random.default_rng(7)
_LABELS = np.array([0, 2, 1, 2, 2, 0])
COMPOSITES = {
    "mlp": (
        mlp, mlp,
        [_RNG.standard_normal((8, 5)), _RNG.standard_normal((5, 16)) * 0.5,
         _RNG.standard_normal(16) * 0.1, _RNG.standard_normal((16, 8)) * 0.3,
         _RNG.standard_normal(8) * 0.1, _RNG.standard_normal((8, 3)) * 0.3,
         _RNG.standard_normal(3) * 0.1, _RNG.random((8, 3))],
    ),
    "log-softmax cross-entropy": (
        lambda z: _cross_entropy(z, _LABELS),
        lambda z: F.cross_entropy(z, torch.from_numpy(_LABELS)),
        [_RNG.standard_normal((6, 3)) * 3],
    ),
    "one-hot cross-entropy": (
        lambda z: _cross_entropy_one_hot(z, _LABELS),
        lambda z: F.cross_entropy(z, torch.from_numpy(_LABELS)),
        [_RNG.standard_normal((6, 3)) * 3],
    ),
    "diamond": (diamond, diamond, [_RNG.standard_normal((3, 4)), _RNG.standard_normal((3, 4))]),
    "layer norm from raw ops": (
        _layer_norm, _torch_layer_norm,
        [_RNG.standard_normal((5, 6)), _RNG.standard_normal(6), _RNG.standard_normal(6)],
    ),
    "linear + logsumexp": (
        lambda x, w, b: nl.logsumexp(nl.linear(x, w, b), axis=1).mean(),
        lambda x, w, b: torch.logsumexp(F.linear(x, w.T, b), dim=1).mean(),
        [_RNG.standard_normal((7, 4)), _RNG.standard_normal((4, 5)), _RNG.standard_normal(5)],
    ),
}


@pytest.mark.parametrize("np_dtype, torch_dtype, rtol", DTYPES)
@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composite_matches_torch(name, np_dtype, torch_dtype, rtol):
    fn, tfn, arrays = COMPOSITES[name]
    out, grads, tout, tgrads = run_both(fn, tfn, arrays, np_dtype, torch_dtype)
    assert out.dtype == np_dtype
    assert_close(out.data, tout, rtol, f"{name}: output")
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        assert g.dtype == np_dtype
        assert_close(g, tg, rtol, f"{name}: gradient of input {k}")


def test_mlp_and_cross_entropy_with_the_loss_value_checked_by_hand():
    """The cross-entropy composite also equals its definition -mean(log p[label])."""
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    y = np.array([0, 1])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = _cross_entropy(nl.tensor(z, dtype=np.float64), y)
    assert loss.item() == pytest.approx(-np.mean(np.log(p[[0, 1], y])), rel=1e-12)


# ---------------------------------------------------------------------------- extremes and ties

EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])
STABLE = {
    "log_softmax": (lambda a: nl.log_softmax(a, axis=1), lambda a: torch.log_softmax(a, 1)),
    "softmax": (lambda a: nl.softmax(a, axis=1), lambda a: torch.softmax(a, 1)),
    "logsumexp": (lambda a: nl.logsumexp(a, axis=1), lambda a: torch.logsumexp(a, 1)),
    "logsumexp all": (nl.logsumexp, lambda a: torch.logsumexp(a.reshape(-1), 0)),
    "sigmoid": (nl.sigmoid, torch.sigmoid),
    "cross-entropy": (lambda a: _cross_entropy(a, np.array([1, 0, 2])),
                      lambda a: F.cross_entropy(a, torch.tensor([1, 0, 2]))),
}


@pytest.mark.parametrize("np_dtype, torch_dtype, rtol", DTYPES)
@pytest.mark.parametrize("name", list(STABLE))
def test_stable_at_plus_minus_1000(name, np_dtype, torch_dtype, rtol):
    fn, tfn = STABLE[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out, grads, tout, tgrads = run_both(fn, tfn, [EXTREME], np_dtype, torch_dtype)
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(grads[0]))
    assert_close(out.data, tout, rtol, f"{name}: output")
    assert_close(grads[0], tgrads[0], rtol, f"{name}: gradient")


def test_sigmoid_saturates_exactly():
    out = nl.sigmoid(nl.tensor([1000.0, -1000.0])).data
    assert out[0] == 1.0 and out[1] == 0.0


TIES = {
    # the gradient of a tie is split evenly, as torch.amax / torch.maximum do
    "max": (lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1)),
    "min all": (lambda a: a.min(), lambda a: torch.amin(a)),
    "maximum": (lambda a: nl.maximum(a, 3.0), lambda a: torch.maximum(a, torch.tensor(3.0))),
    "minimum": (lambda a: nl.minimum(a, 1.0), lambda a: torch.minimum(a, torch.tensor(1.0))),
    "relu at 0": (nl.relu, torch.relu),
    "abs at 0": (nl.abs, torch.abs),
    "clip at the bounds": (lambda a: nl.clip(a, 1.0, 3.0), lambda a: torch.clamp(a, 1.0, 3.0)),
    "a ** 0 at 0": (lambda a: a**0, lambda a: a**0),
    "a ** array with zeros": (lambda a: a ** np.array([0.0, 1.0, 2.0, 0.0]),
                              lambda a: a ** torch.tensor([0.0, 1.0, 2.0, 0.0], dtype=a.dtype)),
}


@pytest.mark.parametrize("name", list(TIES))
def test_ties_and_kinks_follow_torch(name):
    fn, tfn = TIES[name]
    a = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0]])
    out, grads, tout, tgrads = run_both(fn, tfn, [a], np.float64, torch.float64)
    assert_close(out.data, tout, 1e-12, f"{name}: output")
    assert_close(grads[0], tgrads[0], 1e-12, f"{name}: gradient")
