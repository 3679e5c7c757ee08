"""conv2d, max_pool2d and avg_pool2d: one table of cases (every option: stride, padding incl.
"same" and > 1, dilation, stride > kernel, odd sizes, a batch of one, non-square kernels, bias or
none) drives

* the forward pass against a direct NumPy reference (a loop over output pixels, so that it shares
  nothing with the im2col lowering), in float32 (the output stays float32) and float64;
* float64 gradchecks with a random cotangent (tiny shapes: two evaluations per input element);
* PyTorch parity of the output and of every gradient, in float32 (rtol 1e-5) and float64 (1e-10),
  element-wise with an absolute floor of rtol times the largest magnitude compared (as
  ``test_torch_parity.py``);
* that the gradients reaching the inputs are float32 and shaped like them.

Then max-pooling ties and NaN, and the error messages.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralab as nl
from test_ops_table import Probe
from test_torch_parity import DTYPES, assert_close, run_both

# torch's remark that it copies the input for an even kernel with padding="same" (so do we)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# ---------------------------------------------------------------------------- references


def _pads(padding, kernel, dilation):
    """((top, bottom), (left, right)) as PyTorch pads: "same" puts the odd row at the bottom."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return (ph, ph), (pw, pw)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_ref(x, w, b=None, stride=1, padding=0, dilation=1):
    """y[n, o, i, j] = b[o] + sum W[o, c, p, q] x_pad[n, c, i s + p d, j s + q d], one output
    pixel at a time."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    kh, kw = w.shape[2:]
    (t, bo), (le, r) = _pads(padding, (kh, kw), (dh, dw))
    xp = np.pad(x, ((0, 0), (0, 0), (t, bo), (le, r)))
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
            cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
            y[:, :, i, j] = np.einsum("ncpq,ocpq->no", xp[:, :, rows, cols], w)
    return y if b is None else y + b[None, :, None, None]


def pool_ref(reduce, fill):
    def ref(x, kernel_size, stride=None, padding=0):
        (kh, kw) = _pair(kernel_size)
        (sh, sw) = _pair(kernel_size if stride is None else stride)
        (ph, pw) = _pair(padding)
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
        ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
        y = np.zeros(x.shape[:2] + (ho, wo))
        for i in range(ho):
            for j in range(wo):
                window = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                y[:, :, i, j] = reduce(window, axis=(2, 3))
        return y

    return ref


max_pool_ref = pool_ref(np.max, -np.inf)
avg_pool_ref = pool_ref(np.mean, 0.0)


# ---------------------------------------------------------------------------- the table


def _distinct(rng, shape):
    # values at least 0.01 apart: max pooling has no ties (gradcheck's eps is 1e-6)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.01 - 0.005 * n).reshape(shape)


@dataclass(frozen=True)
class Case:
    """One call: ``op`` ("conv2d", "max_pool2d" or "avg_pool2d"), the input shapes (x, then
    weight and bias for conv2d) and the keyword arguments, identical in neuralab and torch."""

    name: str
    op: str
    shapes: tuple[tuple[int, ...], ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    def draw(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        draw = _distinct if self.op == "max_pool2d" else (lambda r, s: r.standard_normal(s))
        return [draw(rng, s) for s in self.shapes]

    def ours(self, *args):
        return getattr(nl, self.op)(*args, **self.kwargs)

    def torch(self, *args):
        return getattr(F, self.op)(*args, **self.kwargs)

    def ref(self, *args):
        if self.op == "conv2d":
            return conv2d_ref(*args, **self.kwargs)
        return (max_pool_ref if self.op == "max_pool2d" else avg_pool_ref)(*args, **self.kwargs)


def conv(name, x, w, bias=True, **kwargs):
    shapes = (x, w, (w[0],)) if bias else (x, w)
    return Case(f"conv2d {name}", "conv2d", shapes, kwargs)


CASES = [
    conv("3x3", (2, 3, 6, 7), (4, 3, 3, 3)),
    conv("no bias", (2, 3, 6, 7), (4, 3, 3, 3), bias=False),
    conv("stride 2", (2, 2, 7, 8), (3, 2, 3, 3), stride=2),
    conv("stride (2, 3)", (2, 2, 7, 8), (3, 2, 3, 3), stride=(2, 3)),
    conv("stride > kernel", (2, 2, 8, 9), (3, 2, 2, 2), stride=3),
    conv("padding 1", (2, 2, 5, 6), (3, 2, 3, 3), padding=1),
    conv("padding (2, 1) > 1", (2, 2, 5, 6), (3, 2, 3, 3), padding=(2, 1)),
    conv("padding 3, kernel 3", (1, 2, 4, 4), (2, 2, 3, 3), padding=3),
    conv("padding same", (2, 2, 5, 6), (3, 2, 3, 3), padding="same"),
    conv("padding same, even kernel", (2, 2, 5, 6), (3, 2, 4, 2), padding="same"),
    conv("padding same, dilation 2", (2, 2, 7, 6), (3, 2, 3, 2), padding="same", dilation=2),
    conv("padding valid", (2, 2, 5, 6), (3, 2, 3, 3), padding="valid"),
    conv("dilation 2", (2, 2, 7, 8), (3, 2, 3, 3), dilation=2),
    conv("dilation (1, 2), stride 2, padding 1", (2, 2, 7, 8), (3, 2, 3, 3), dilation=(1, 2),
         stride=2, padding=1),
    conv("non-square kernel 3x2", (2, 2, 6, 5), (3, 2, 3, 2)),
    conv("non-square kernel 1x4", (2, 2, 5, 6), (3, 2, 1, 4), padding=(0, 2)),
    conv("1x1 kernel", (2, 3, 4, 5), (4, 3, 1, 1)),
    conv("odd sizes", (3, 1, 7, 9), (5, 1, 5, 3), stride=(1, 2), padding=(2, 0)),
    conv("batch of one", (1, 3, 5, 5), (2, 3, 3, 3), padding=1),
    conv("kernel = padded input", (2, 2, 3, 4), (3, 2, 5, 4), padding=(1, 0)),
]
POOLS = [  # (name, input shape, arguments): each for max_pool2d and for avg_pool2d
    ("2", (2, 3, 6, 8), {"kernel_size": 2}),
    ("3, stride 2, padding 1", (2, 2, 7, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("(2, 3), stride (1, 2)", (2, 2, 5, 7), {"kernel_size": (2, 3), "stride": (1, 2)}),
    ("stride > kernel", (2, 2, 8, 8), {"kernel_size": 2, "stride": 3}),
    ("overlapping, stride 1", (2, 2, 5, 5), {"kernel_size": 3, "stride": 1}),
    ("odd size, padding (1, 0)", (2, 2, 7, 5), {"kernel_size": 2, "padding": (1, 0)}),
    ("odd size, padding (0, 1)", (2, 2, 7, 5), {"kernel_size": 2, "padding": (0, 1)}),
    ("batch of one", (1, 1, 5, 5), {"kernel_size": 2}),
]
CASES += [Case(f"{op} {name}", op, (shape,), kwargs)
          for op in ("max_pool2d", "avg_pool2d") for name, shape, kwargs in POOLS]
PARAMS = [pytest.param(case, id=case.name) for case in CASES]


def test_the_table_covers_every_conv_op():
    from neuralab.autograd.ops import conv as module

    assert sorted(module.__all__) == sorted({case.op for case in CASES})
    assert all(name in nl.__all__ for name in module.__all__)


# ---------------------------------------------------------------------------- forward, gradients


@pytest.mark.parametrize("case", PARAMS)
def test_forward_matches_numpy_in_float32_and_float64(case: Case):
    arrays = case.draw()
    out = case.ours(*[nl.tensor(a) for a in arrays])
    assert out.dtype == np.float32
    expected = case.ref(*[a.astype(np.float32).astype(np.float64) for a in arrays])
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    out64 = case.ours(*[nl.tensor(a, dtype=np.float64) for a in arrays])
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64.data, case.ref(*arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", PARAMS)
def test_gradcheck(case: Case):
    report = nl.gradcheck(case.ours, *case.draw(), seed=zlib.crc32(case.name.encode()))
    assert report.ok, f"{case}: {report}"


@pytest.mark.parametrize("np_dtype, torch_dtype, rtol", DTYPES)
@pytest.mark.parametrize("case", PARAMS)
def test_matches_torch(case: Case, np_dtype, torch_dtype, rtol):
    out, grads, tout, tgrads = run_both(case.ours, case.torch, case.draw(), np_dtype,
                                        torch_dtype, zlib.crc32(case.name.encode()))
    assert out.dtype == np_dtype
    assert_close(out.data, tout, rtol, f"{case}: output")
    assert len(grads) == len(tgrads) == len(case.shapes)
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        assert g is not None and g.dtype == np_dtype, f"{case}: gradient {k} is {g!r}"
        assert_close(g, tg, rtol, f"{case}: gradient of input {k}")


@pytest.mark.parametrize("case", PARAMS)
def test_gradients_reaching_inputs_stay_float32_and_shaped(case: Case):
    leaves = [nl.tensor(a, requires_grad=True) for a in case.draw()]
    Probe.seen = []
    out = case.ours(*[Probe.apply(x) for x in leaves])
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert [g.dtype for g in Probe.seen] == [np.float32] * len(leaves)
    for x in leaves:
        assert x.grad.shape == x.shape and x.grad.dtype == np.float32


def test_an_input_without_gradient_skips_col2im_and_the_weight_gradient_is_right():
    # the first layer's input is data: backward computes dW and db only (no dcols, no col2im)
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    w = nl.tensor(np.linspace(-1, 1, 18).reshape(2, 1, 3, 3), requires_grad=True)
    b = nl.tensor(np.zeros(2), requires_grad=True)
    nl.conv2d(x, w, b, padding=1).sum().backward()
    wt = torch.tensor(w.data, requires_grad=True)
    bt = torch.zeros(2, requires_grad=True)
    F.conv2d(torch.from_numpy(x), wt, bt, padding=1).sum().backward()
    np.testing.assert_allclose(w.grad, wt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad, bt.grad.numpy(), rtol=1e-5)


def test_conv2d_casts_a_float64_array_input_to_the_weights_float32():
    w = nl.tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    assert nl.conv2d(np.ones((1, 1, 4, 4)), w).dtype == np.float32
    assert nl.max_pool2d(np.ones((1, 1, 4, 4), dtype=np.int64), 2).dtype == np.float32


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES
                                  if c.name.endswith(("padding 1", "overlapping, stride 1"))])
def test_a_channel_major_input_gives_the_same_numbers(case: Case):
    # conv2d returns (N, C, H, W) views of (C, N, H, W) memory; the ops keep that layout, which
    # must change no number
    arrays = case.draw()
    x = arrays[0].astype(np.float32)
    moved = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    results = []
    for data in (x, moved):
        leaf = nl.tensor(data, requires_grad=True)
        others = [nl.tensor(a, requires_grad=True) for a in arrays[1:]]
        out = case.ours(leaf, *others)
        out.backward(np.arange(out.size, dtype=np.float32).reshape(out.shape) % 7 - 3)
        results.append([out.data, leaf.grad, *(o.grad for o in others)])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- ties, NaN


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_torch():
    # a lattice of few values: many ties inside windows, overlapping (stride 1) and not
    x = np.random.default_rng(0).integers(0, 3, (2, 2, 6, 6)).astype(np.float64)
    x[0, 0] = 0.0  # a whole channel of ties (what ReLU leaves behind)
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        out, (g,), tout, (tg,) = run_both(lambda a: nl.max_pool2d(a, **kwargs),
                                          lambda a: F.max_pool2d(a, **kwargs), [x],
                                          np.float32, torch.float32)
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        # the same elements receive a gradient; overlapping windows add theirs in another order
        np.testing.assert_array_equal(g != 0, tg.numpy() != 0)
        np.testing.assert_allclose(g, tg.numpy(), rtol=1e-6)


def test_max_pool_propagates_nan_like_torch():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 3, 3] = np.nan
    ours = nl.max_pool2d(x, 2).data
    np.testing.assert_array_equal(ours, F.max_pool2d(torch.from_numpy(x), 2).numpy())
    assert np.isnan(ours[0, 0, 0, 0]) and np.isnan(ours[0, 0, 1, 1])


# ---------------------------------------------------------------------------- errors

W3 = np.ones((4, 3, 3, 3), dtype=np.float32)


@pytest.mark.parametrize("call, message", [
    (lambda: nl.conv2d(np.ones((3, 8, 8)), W3),
     r"conv2d: expected input of shape \(N, C, H, W\), got shape \(3, 8, 8\); for one image of "
     r"shape \(3, 8, 8\) pass x\[None\]"),
    (lambda: nl.conv2d(np.ones((2, 1, 8, 8)), W3),
     r"conv2d: the input has 1 channels but the weight expects 3 \(input shape \(2, 1, 8, 8\), "
     r"weight shape \(4, 3, 3, 3\) = \(out, in, kh, kw\)\)"),
    (lambda: nl.conv2d(np.ones((2, 3, 2, 8)), W3),
     r"conv2d: the kernel \(3 x 3\) is larger than the padded input \(2 x 8"),
    (lambda: nl.conv2d(np.ones((2, 3, 4, 4)), W3, dilation=2),
     r"conv2d: the dilated kernel \(5 x 5\) is larger than the padded input \(4 x 4"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), W3, np.ones(3)),
     r"conv2d: expected a bias of shape \(4,\) for 4 output channels, got shape \(3,\)"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), np.ones((4, 3, 3))),
     r"conv2d: expected a weight of shape \(out_channels, in_channels, kh, kw\)"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), W3, stride=2, padding="same"),
     r"conv2d: padding='same' needs stride 1 \(as in PyTorch\), got stride \(2, 2\)"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), W3, padding="full"),
     r"conv2d: `padding` must be an int, a pair of ints, 'valid' or 'same', got 'full'"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), W3, stride=0),
     r"conv2d: `stride` must be at least 1, got 0"),
    (lambda: nl.conv2d(np.ones((2, 3, 8, 8)), W3, padding=(1, 2, 3)),
     r"conv2d: expected an int or a pair of ints \(height, width\) for `padding`"),
    (lambda: nl.max_pool2d(np.ones((3, 8, 8)), 2),
     r"max_pool2d: expected input of shape \(N, C, H, W\), got shape \(3, 8, 8\)"),
    (lambda: nl.max_pool2d(np.ones((1, 1, 8, 8)), 2, padding=2),
     r"max_pool2d: padding \(2, 2\) is more than half the kernel \(2, 2\)"),
    (lambda: nl.avg_pool2d(np.ones((1, 1, 2, 8)), 3),
     r"avg_pool2d: the kernel \(3 x 3\) is larger than the padded input \(2 x 8"),
    (lambda: nl.avg_pool2d(np.ones((1, 1, 8, 8)), 2, stride=-1),
     r"avg_pool2d: `stride` must be at least 1, got -1"),
])
def test_errors_name_the_problem_and_the_fix(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert re.match(message, str(info.value)), str(info.value)


def test_docs_list_the_ops():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "autograd.md").read_text()
    for name in ("conv2d", "max_pool2d", "avg_pool2d"):
        assert f"`nl.{name}(" in doc
