"""The compiled dense-layer kernels (neuralab.kernels.nn) against their NumPy reference: the
fused Dense + ReLU op's output and all three gradients are equal bit for bit, signed zeros, NaN
and infinities included, and the compiled path is really taken."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import kernels
from neuralab.autograd.ops import linalg
from neuralab.kernels import nn as dense_kernels


def _special(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Random values with exact zeros of both signs, NaN and infinities sprinkled in."""
    a = rng.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 12), replace=False)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-38, -1e-38], dtype=dtype)
    flat[picks] = specials[np.arange(len(picks)) % len(specials)]
    return a


def _run(x, w, b, g, compiled: bool):
    with kernels.forced(compiled):
        xt = nl.tensor(x, requires_grad=True)
        wt = nl.tensor(w, requires_grad=True)
        bt = None if b is None else nl.tensor(b, requires_grad=True)
        out = linalg.linear_relu(xt, wt, bt)
        out.backward(g)
        return out.data, xt.grad, wt.grad, (None if bt is None else bt.grad)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 in both paths, on purpose
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (16, 4, 64), (37, 29, 13), (128, 64, 256),
                                   (3, 5, 7, 9)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_relu_compiled_equals_reference(dtype, shape, with_bias):
    rng = np.random.default_rng(sum(shape))
    lead, (n_in, n_out) = shape[:-2], shape[-2:]
    x = rng.standard_normal((*lead, n_in)).astype(dtype)
    w = rng.standard_normal((n_in, n_out)).astype(dtype)
    b = _special(rng, (n_out,), dtype) if with_bias else None
    g = _special(rng, (*lead, n_out), dtype)
    ref = _run(x, w, b, g, compiled=False)
    got = _run(x, w, b, g, compiled=True)
    for name, r, c in zip(("out", "dx", "dW", "db"), ref, got):
        if r is None:
            assert c is None
            continue
        assert r.dtype == c.dtype and r.shape == c.shape, name
        # bitwise: NaN payloads, -0.0 and +0.0 all count
        assert np.array_equal(r.view(np.uint8), c.view(np.uint8)), name


@pytest.mark.parametrize("length", [1, 5, 17, 4097])
def test_bias_relu_keeps_numpy_maximum_semantics(length):
    """maximum(v, 0) propagates NaN and turns -0.0 into +0.0 (also -0.0 + -0.0 in the bias
    add); the compiled loops must do the same, on the lengths of NumPy's vector loops and
    their tails."""
    out = np.resize(np.array([[-0.0, np.nan, -1.0, 2.0, 0.0]], dtype=np.float32), (1, length))
    bias = np.resize(np.array([-0.0, 0.0, 0.0], dtype=np.float32), length)
    expected = np.maximum(out + bias, 0)
    dense_kernels.bias_relu(out, bias, np.float32(0))
    assert np.array_equal(out.view(np.uint32), expected.view(np.uint32))
    out = np.resize(np.array([[-0.0, np.nan, -1.0, 2.0, 0.0]], dtype=np.float32), (1, length))
    expected = np.maximum(out, 0)  # here -0.0 meets maximum itself (no + 0.0 before it)
    dense_kernels.relu(out, np.float32(0))  # the same without a bias
    assert np.array_equal(out.view(np.uint32), expected.view(np.uint32))


def test_empty_batch_gives_zero_bias_gradient():
    grad = np.empty((0, 3), dtype=np.float32)
    gb = np.full(3, 7.0, dtype=np.float32)
    dense_kernels.relu_grad_bias(grad, grad, np.empty_like(grad), gb, np.float32(1),
                                 np.float32(0))
    assert np.array_equal(gb, np.zeros(3, dtype=np.float32))


def test_compiled_path_is_taken(monkeypatch):
    """Without this, the equality test above would pass with the kernels never called."""
    calls = []
    for name in ("bias_relu", "relu_grad_bias", "relu", "relu_grad"):
        original = getattr(dense_kernels, name)
        monkeypatch.setattr(dense_kernels, name,
                            lambda *a, _o=original, _n=name: (calls.append(_n), _o(*a))[1])
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((8, 3), (3, 4), (4,)))
    _run(x, w, b, np.ones((8, 4), np.float32), compiled=True)
    assert calls == ["bias_relu", "relu_grad_bias"]
    calls.clear()
    _run(x, w, None, np.ones((8, 4), np.float32), compiled=True)  # a layer without bias
    assert calls == ["relu", "relu_grad"]
    calls.clear()
    _run(x, w, b, np.ones((8, 4), np.float32), compiled=False)
    _run(x, w, None, np.ones((8, 4), np.float32), compiled=False)
    assert calls == []


def test_numba_is_installed_for_the_tests():
    """numba is in the [test] extra: the compiled path must be exercised, not skipped."""
    assert kernels.available()
