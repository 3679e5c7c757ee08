"""The engine around the ops: accumulation, shared sub-expressions, long chains, graph release,
no_grad, detach, error messages, dtype rules, seeding and gradcheck itself.  Expected values are
derived by hand in the comments (or come from torch), never from the code under test."""

from __future__ import annotations

import re
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.autograd.engine import unbroadcast

# ---------------------------------------------------------------------------- accumulation


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = nl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()  # d/dx sum x^2 = 2x
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, -8.0, 12.0])
    (3 * x).sum().backward()  # + 3
    np.testing.assert_array_equal(x.grad, [7.0, -5.0, 15.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, -4.0, 6.0])


def test_accumulation_matches_torch():
    data = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    x, tx = nl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for lib_x, f in ((x, lambda a: a.tanh().sum()), (tx, lambda a: a.tanh().sum())):
        f(lib_x).backward()
        (lib_x * lib_x).mean().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6)


def test_leaf_gradients_are_separate_arrays():
    a = nl.tensor([1.0, 2.0], requires_grad=True)
    b = nl.tensor([3.0, 4.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    (a + b).backward(g)  # add hands the same incoming array to both inputs
    a.grad += 10.0
    g += 100.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    assert not np.shares_memory(a.grad, b.grad) and not np.shares_memory(a.grad, a.data)


def test_only_tensors_that_require_grad_get_one():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    c = nl.tensor([3.0, 4.0])
    y = x * c
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert c.grad is None and y.grad is None  # intermediates keep no gradient by default
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    z = c * c
    assert not z.requires_grad and z.grad_fn is None


def test_retain_grad_keeps_an_intermediate_gradient():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).retain_grad()
    (y * y).sum().backward()  # dL/dy = 2y = 6x, dL/dx = 18x
    np.testing.assert_array_equal(y.grad, [6.0, 12.0])
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])


def test_backward_of_a_leaf_and_with_an_explicit_cotangent():
    x = nl.tensor([[1.0, 2.0]], requires_grad=True)
    x.backward(np.array([[5.0, 6.0]]))
    np.testing.assert_array_equal(x.grad, [[5.0, 6.0]])
    x.grad = None
    (x * 3).backward(nl.tensor([[1.0, -1.0]]))
    np.testing.assert_array_equal(x.grad, [[3.0, -3.0]])


# ---------------------------------------------------------------------------- shared subgraphs


def test_diamond_accumulates_every_path():
    x = nl.tensor([0.5, -1.5, 2.0], requires_grad=True, dtype=np.float64)
    y = x * x  # shared by both branches
    f = ((y + y) * y).sum()  # = 2 x^4, df/dx = 8 x^3
    f.backward()
    np.testing.assert_allclose(x.grad, 8 * x.data**3, rtol=1e-15)


def test_same_tensor_twice_in_one_op():
    x = nl.tensor([3.0, -2.0], requires_grad=True)
    (x * x + x / x + x - x).sum().backward()  # 2x + 0 + 1 - 1
    np.testing.assert_allclose(x.grad, [6.0, -4.0], rtol=1e-6)


def test_shared_graph_is_walked_once_per_node_not_once_per_path():
    # 200 stacked diamonds: 2**200 paths from y to x; each layer is the identity, so dy/dx = 1
    x = nl.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(200):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_100000_op_chain_needs_no_recursion():
    assert sys.getrecursionlimit() < 100_000
    x = nl.tensor([1.0, -1.0], requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(50_000):
        y = (y * 1.00001) + 0.5  # two ops per step, dy/dx = 1.00001 per step
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, [1.00001**50_000] * 2, rtol=1e-9)
    del y  # freeing a 100,000-deep graph must not overflow the C stack either


# ---------------------------------------------------------------------------- graph release


def test_graph_is_released_after_backward():
    x = nl.tensor(np.ones((4, 4)), requires_grad=True)
    e = x.exp()
    saved = weakref.ref(e.data)  # Exp saves its output; the next op holds the tensor
    y = (e * 2.0).sum()
    del e
    assert saved() is not None
    y.backward()
    assert saved() is None, "backward kept the intermediate arrays alive"
    assert y.grad_fn.parents is None


def test_second_backward_raises_a_clear_error():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"already released.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # 2 * 2x


def test_backward_through_a_released_subgraph_raises():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.sum().backward()
    with pytest.raises(RuntimeError, match="already released"):
        (h * 3).sum().backward()


# ---------------------------------------------------------------------------- no_grad, detach


def test_no_grad_records_nothing_and_restores_the_mode():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    assert nl.is_grad_enabled()
    with nl.no_grad():
        assert not nl.is_grad_enabled()
        y = (x * x).exp().sum()
        with nl.no_grad():
            pass
        assert not nl.is_grad_enabled()
    assert nl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with nl.no_grad():
            1 / 0
    assert nl.is_grad_enabled()


def test_no_grad_as_a_decorator():
    @nl.no_grad()
    def evaluate(t):
        """Evaluate without a graph."""
        return t * 2, nl.is_grad_enabled()

    x = nl.tensor([1.0], requires_grad=True)
    y, enabled = evaluate(x)
    assert not enabled and not y.requires_grad and y.grad_fn is None
    assert nl.is_grad_enabled()
    assert evaluate.__name__ == "evaluate" and "without a graph" in evaluate.__doc__


def test_enable_grad_inside_no_grad():
    x = nl.tensor([1.0], requires_grad=True)
    with nl.no_grad():
        with nl.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_enable_grad_as_a_decorator_enables_grad():
    # as torch.enable_grad: the decorated function records a graph even when called in no_grad
    @nl.enable_grad()
    def forward(t):
        return t * 2, nl.is_grad_enabled()

    x = nl.tensor([1.0], requires_grad=True)
    with nl.no_grad():
        y, enabled = forward(x)
        assert not nl.is_grad_enabled()
    assert enabled and y.requires_grad and y.grad_fn is not None


def test_detach_shares_data_and_stops_the_gradient():
    x = nl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.data, x.data)
    assert not d.requires_grad and d.grad_fn is None
    (x * x.detach()).sum().backward()  # the detached factor is a constant: grad = x, not 2x
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


# ---------------------------------------------------------------------------- errors


def test_backward_on_a_non_scalar_without_grad():
    x = nl.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape("one-element tensor, got shape (2, 3)")):
        (x * 2).backward()


def test_backward_with_a_wrongly_shaped_grad():
    x = nl.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("grad has shape (3,)")):
        (x * 2).backward(np.ones(3))


def test_backward_without_a_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nl.tensor([1.0]).backward()


def test_matmul_shape_mismatch_message():
    a, b = nl.tensor(np.ones((3, 4))), nl.tensor(np.ones((5, 2)))
    with pytest.raises(ValueError) as err:
        a @ b
    assert str(err.value) == "matmul: shapes (3, 4) and (5, 2) do not align"


def test_numpy_errors_inside_an_op_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"^add: .*\(3,\), \(4,\)"):
        nl.tensor(np.ones(3)) + nl.tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"^reshape: .*\(2, 3\)"):
        nl.tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match=r"^concatenate: "):
        nl.concatenate([nl.tensor(np.ones((2, 3))), nl.tensor(np.ones((2, 4)))], axis=0)
    with pytest.raises(ValueError, match=r"^linear: input has 4 features but the weight expects 5"):
        nl.linear(nl.tensor(np.ones((2, 4))), nl.tensor(np.ones((5, 3))))
    with pytest.raises(IndexError, match=r"^getitem: "):
        nl.tensor(np.ones(3))[5]
    # NumPy's ufunc errors cannot be rebuilt from a message; they still come out named
    with pytest.raises(TypeError, match=r"^add: .*did not contain a loop"):
        nl.tensor([1.0, 2.0]) + np.array(["a", "b"])


def test_requires_grad_on_integer_data():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got "
                                        "dtype int64"):
        nl.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        nl.tensor([1, 2]).requires_grad_()


def test_other_clear_errors():
    with pytest.raises(TypeError, match="expected numbers"):
        nl.tensor(["a", None])
    with pytest.raises(ValueError, match=re.escape("item() needs a tensor with one element, got "
                                                   "shape (2,)")):
        nl.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(nl.tensor([1.0, 2.0]))


# ---------------------------------------------------------------------------- dtypes


def test_creation_dtypes():
    assert nl.tensor([1.0, 2.0]).dtype == np.float32
    assert nl.tensor(np.ones(2, dtype=np.float64)).dtype == np.float32
    assert nl.tensor(3.5).dtype == np.float32 and nl.tensor(3.5).shape == ()
    assert nl.tensor([1, 2]).dtype == np.int64  # labels stay integer
    assert nl.tensor([True, False]).dtype == np.bool_
    assert nl.tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert nl.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_tensor_copies_its_data():
    data = np.array([1.0, 2.0], dtype=np.float32)
    x = nl.tensor(data)
    data[0] = 99.0
    assert x.data[0] == 1.0


@pytest.mark.parametrize("other", [
    np.ones((2, 2), dtype=np.float64),
    np.float64(1.5),
    np.ones((2, 2), dtype=np.int64),
    np.int64(3),
    nl.tensor([[1, 2], [3, 4]]),
    2,
    2.5,
], ids=["float64 array", "np.float64 scalar", "int array", "np.int64 scalar", "int tensor",
        "int", "float"])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "maximum"])
def test_operands_never_upcast_a_float32_tensor(op, other):
    x = nl.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    fns = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a / b, "**": lambda a, b: a**b, "maximum": nl.maximum,
    }
    for out in (fns[op](x, other), fns[op](other, x)):
        assert out.dtype == np.float32, f"x {op} {type(other).__name__} gave {out.dtype}"
        out.sum().backward()
        assert x.grad.dtype == np.float32
    assert (x @ np.ones((2, 2))).dtype == np.float32
    assert (np.ones((2, 2)) @ x).dtype == np.float32


def test_integer_tensors_meeting_floats_become_float32_as_in_torch():
    labels = nl.tensor([0, 1, 2])
    assert (labels * 0.5).dtype == np.float32
    assert (labels + nl.tensor([0.5, 0.5, 0.5])).dtype == np.float32
    assert (labels + 1).dtype == np.int64
    assert (torch.tensor([0, 1, 2]) * 0.5).dtype == torch.float32  # the rule we follow


FLOATING_RESULT_OPS = {
    # op: NumPy formula; each gives a floating result even for integer input
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a),
    "elu": lambda a: np.where(a > 0, a, np.exp(a) - 1),
    "gelu": lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3))),
    "softmax": lambda a: np.exp(a) / np.exp(a).sum(),
    "log_softmax": lambda a: a - np.log(np.exp(a).sum()),
    "logsumexp": lambda a: np.log(np.exp(a).sum()),
    "mean": np.mean, "var": np.var,
}


@pytest.mark.parametrize("name", list(FLOATING_RESULT_OPS))
def test_integer_input_to_a_floating_op_gives_float32(name):
    """As torch.exp(int tensor) is float32; NumPy would give float64 (and leaky_relu/elu would
    truncate their negative part back to integers)."""
    ints = np.array([-2, 1, 3])
    with np.errstate(invalid="ignore"):
        expected = FLOATING_RESULT_OPS[name](ints.astype(np.float64))
        for arg in (nl.tensor(ints), ints):
            out = getattr(nl, name)(arg)
            assert out.dtype == np.float32
            np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert nl.exp(1.0).dtype == np.float32  # a Python scalar too


def test_true_division_of_integers_gives_float32():
    i = nl.tensor([1, 2, 3])
    for out in (i / 2, 3 / i, i / i, nl.div(np.array([1, 2]), 2)):
        assert out.dtype == np.float32
    np.testing.assert_allclose((i / 2).data, [0.5, 1.0, 1.5])
    assert (torch.tensor([1, 2, 3]) / 2).dtype == torch.float32  # the rule we follow


def test_concatenate_and_stack_of_float_and_integer_pieces_are_float32():
    x, labels = nl.tensor([[1.0, 2.0]], requires_grad=True), nl.tensor([[3, 4]])
    assert nl.concatenate([labels, x]).dtype == np.float32
    assert nl.stack([x, labels, np.array([[5, 6]])]).dtype == np.float32
    assert nl.concatenate([labels, labels]).dtype == np.int64


def test_astype():
    x = nl.tensor([1.5, -2.5], requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()  # 2x, cast back to the leaf's float32
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, -5.0])
    i = x.astype(np.int64)  # integers cannot carry a gradient: outside the graph, as in torch
    assert i.dtype == np.int64 and not i.requires_grad and i.grad_fn is None


def test_float64_is_kept_when_asked_for():
    x = nl.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = (x * 2.5 + np.ones(2, dtype=np.float32)).tanh().sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    # tensor-with-tensor mixing of precisions promotes, as in torch
    assert (x + nl.tensor([1.0, 2.0])).dtype == np.float64


# ---------------------------------------------------------------------------- unbroadcast


@pytest.mark.parametrize("grad_shape, shape, axes", [
    ((3, 4), (3, 4), ()),
    ((3, 4), (), (0, 1)),
    ((3, 4), (4,), (0,)),
    ((3, 4), (1, 4), (0,)),
    ((3, 4), (3, 1), (1,)),
    ((2, 3, 4), (3, 1), (0, 2)),
    ((2, 3, 4), (1, 1, 1), (0, 1, 2)),
])
def test_unbroadcast_sums_the_broadcast_axes(grad_shape, shape, axes):
    grad = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape)
    expected = grad.sum(axis=axes).reshape(shape) if axes else grad
    out = unbroadcast(grad, shape)
    assert out.shape == shape
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------------------- seed


def test_seed_returns_and_installs_the_generator():
    rng = nl.seed(123)
    assert isinstance(rng, np.random.Generator)
    assert nl.get_rng() is rng
    np.testing.assert_array_equal(rng.standard_normal(5),
                                  np.random.default_rng(123).standard_normal(5))
    first = nl.get_rng().random(3)
    nl.seed(123)
    nl.get_rng().standard_normal(5)
    np.testing.assert_array_equal(nl.get_rng().random(3), first)


def test_get_rng_resolves_its_argument():
    rng = np.random.default_rng(1)
    assert nl.get_rng(rng) is rng
    np.testing.assert_array_equal(nl.get_rng(5).random(2), np.random.default_rng(5).random(2))
    with pytest.raises(TypeError, match="rng expected"):
        nl.get_rng("seed")


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0"])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed expected a non-negative integer"):
        nl.seed(bad)


# ---------------------------------------------------------------------------- gradcheck itself


class OffByOne(nl.Function):
    """z = a * b with a deliberately wrong backward: 1 too much for b at index (1, 2)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        gb = grad * self.a
        gb[1, 2] += 1.0
        return grad * self.b, gb


class WrongTanh(nl.Function):
    """tanh with the classic slip: 1 - z instead of 1 - z^2."""

    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, grad):
        return (grad * (1 - self.out),)


def test_gradcheck_finds_a_wrong_backward_and_says_where():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    report = nl.gradcheck(OffByOne.apply, a, b)
    assert report.ok is False and not report
    assert report.worst_input == 1 and report.worst_index == (1, 2)
    assert report.max_abs_error == pytest.approx(1.0, abs=1e-6)
    assert "FAILED" in str(report) and "input 1" in str(report) and "(1, 2)" in str(report)
    # the first input's gradient is right
    np.testing.assert_allclose(report.analytic[0], report.numeric[0], atol=1e-6)


def test_gradcheck_finds_a_subtly_wrong_derivative():
    report = nl.gradcheck(WrongTanh.apply, np.linspace(-2, 2, 7))
    assert not report.ok and report.worst_input == 0


def test_gradcheck_passes_a_right_backward_and_reports_its_numbers():
    x = np.array([[0.5, -1.0, 2.0]])
    report = nl.gradcheck(lambda t: t * t, nl.tensor(x))  # a float32 tensor is promoted
    assert report.ok is True and bool(report)
    assert report.max_abs_error < 1e-6 and "passed" in str(report)
    # L = sum(v * x^2) with the documented cotangent v ~ N(0, 1) from default_rng(seed=0)
    v = np.random.default_rng(0).standard_normal(x.shape)
    assert report.analytic[0].dtype == np.float64
    np.testing.assert_allclose(report.analytic[0], 2 * x * v, rtol=1e-12)
    np.testing.assert_allclose(report.numeric[0], 2 * x * v, rtol=1e-8)


class NanGrad(nl.Function):
    """2 a with a backward that returns NaN for the second element."""

    def forward(self, a):
        return a * 2

    def backward(self, grad):
        g = grad * 2
        g[1] = np.nan
        return (g,)


def test_gradcheck_fails_a_nan_gradient():
    # NaN compares false with every tolerance: it must count as a failure, not be skipped
    report = nl.gradcheck(NanGrad.apply, np.array([1.0, 2.0, 3.0]))
    assert not report.ok and report.worst_input == 0 and report.worst_index == (1,)
    assert np.isnan(report.max_abs_error) and "FAILED" in str(report)


def test_gradcheck_passes_integer_inputs_through():
    labels = np.array([2, 0])
    report = nl.gradcheck(lambda z, y: nl.log_softmax(z, axis=1)[np.arange(2), y],
                          np.random.default_rng(1).standard_normal((2, 3)), labels)
    assert report.ok and len(report.analytic) == 1


def test_gradcheck_errors():
    with pytest.raises(ValueError, match="no floating-point input"):
        nl.gradcheck(lambda y: y * 1.0, np.array([1, 2]))
    with pytest.raises(TypeError, match="must return a Tensor"):
        nl.gradcheck(lambda x: 1.0, np.ones(2))
    with pytest.raises(TypeError, match="lower precision"):
        nl.gradcheck(lambda x: x.astype(np.float32), np.ones(2))


# ---------------------------------------------------------------------------- the docs


def test_code_in_docs_autograd_runs():
    """The examples of docs/autograd.md (its ```python blocks, run in order) stay true."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "autograd.md"
    blocks = re.findall(r"^```python\n(.*?)^```", doc.read_text(), flags=re.S | re.M)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(doc), "exec"), namespace)  # noqa: S102 - our own documentation


def test_linear_on_a_scalar_input_names_the_feature_axis():
    w = nl.tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"linear: the input needs a feature axis, got a scalar"):
        nl.linear(nl.tensor(1.0), w)


def test_a_backward_returning_too_few_gradients_is_a_clear_error():
    class Broken(nl.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            return (grad,)  # forgot the second input

    a = nl.tensor([1.0, 2.0], requires_grad=True)
    b = nl.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"broken.backward returned 1 gradient\(s\) for 2"):
        Broken.apply(a, b).sum().backward()


def test_numerical_gradient_matches_the_derivative_and_refuses_non_contiguous_arrays():
    w = nl.tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), dtype=np.float64)
    (g,) = nl.numerical_gradient(lambda: float(np.sum(np.sin(w.data))), [w], 1e-6)
    np.testing.assert_allclose(g, np.cos(w.data), atol=1e-8)
    np.testing.assert_array_equal(w.data, [[1.0, -2.0], [0.5, 3.0]])  # restored
    with pytest.raises(ValueError, match="C-contiguous"):
        nl.numerical_gradient(lambda: 0.0, [np.ones((3, 4)).T])
