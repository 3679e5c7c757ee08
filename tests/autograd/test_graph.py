"""neuralab.graph and neuralab.explain_backward: the graph's nodes and edges on the lecture's
examples, gradients equal to autograd's, the module boxes (and the scope nn.Module.__call__ leaves
on each op), a 10,000-op chain, a well-formed self-contained SVG, and explain_backward's numbers."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn
from neuralab.autograd.function import SCOPE
from neuralab.autograd.graph import AUTO_COLLAPSE, SMALL

SVG = "{http://www.w3.org/2000/svg}"


def apple_shopping():
    """Deep Learning from Scratch, ch. 5: 2 apples at 100 each, consumption tax 1.1."""
    apple = nl.tensor(100.0, requires_grad=True)
    count = nl.tensor(2.0, requires_grad=True)
    tax = nl.tensor(1.1, requires_grad=True)
    apple_price = apple * count
    price = apple_price * tax
    return price, {"apple": apple, "count": count, "tax": tax, "apple_price": apple_price,
                   "price": price}


def used_twice():
    x = nl.tensor(3.0, requires_grad=True)
    y = x * x + x
    return y, {"x": x, "y": y}


def xor_network():
    """A 2-2-1 sigmoid network on the four XOR points, written with raw ops."""
    rng = np.random.default_rng(0)
    X = nl.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    target = np.array([[0], [1], [1], [0]], dtype=np.float32)
    W1 = nl.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    b1 = nl.tensor(rng.standard_normal(2), requires_grad=True)
    W2 = nl.tensor(rng.standard_normal((2, 1)), requires_grad=True)
    b2 = nl.tensor(rng.standard_normal(1), requires_grad=True)
    a1 = X @ W1
    z1 = a1 + b1
    h = nl.sigmoid(z1)
    a2 = h @ W2
    z2 = a2 + b2
    out = nl.sigmoid(z2)
    diff = out - target
    sq = diff ** 2
    loss = sq.mean()
    names = {k: v for k, v in locals().items() if isinstance(v, nl.Tensor)}
    return loss, names


def _edges_from(g, node):
    return sorted((e.dst, e.slot) for e in g.edges if e.src == node.id)


# ---------------------------------------------------------------------------- structure
def test_apple_graph_nodes_edges_and_gradients():
    price, names = apple_shopping()
    g = nl.graph(price, names=names)
    assert [n.label for n in g.nodes] == ["apple", "count", "apple_price", "tax", "price"]
    assert [n.kind for n in g.nodes] == ["input", "input", "op", "input", "op"]
    assert [n.op for n in g.nodes] == ["input", "input", "mul", "input", "mul"]
    assert [(e.src, e.dst, e.slot) for e in g.edges] == [(0, 2, 0), (1, 2, 1), (2, 4, 0), (3, 4, 1)]
    assert [n.layer for n in g.nodes] == [0, 0, 1, 1, 2]
    assert g.root.name == "price" and g.root.value.min == pytest.approx(220)
    assert [g.node(k).grad.lines()[0] for k in ("apple", "count", "tax", "apple_price", "price")] \
        == ["2.2", "110", "200", "1.1", "1"]
    price.backward()
    for key in ("apple", "count", "tax"):
        assert g.node(key).grad.values == pytest.approx(float(names[key].grad), rel=0, abs=0)


def test_a_value_used_twice_is_one_node_with_an_edge_per_use():
    y, names = used_twice()
    g = nl.graph(y, names=names)
    assert [n.label for n in g.nodes] == ["x", "#1 mul", "y"]
    x = g.node("x")
    assert _edges_from(g, x) == [(1, 0), (1, 1), (2, 1)]  # x * x, then + x
    assert [n.label for n in g.inputs(g.nodes[1])] == ["x", "x"]
    assert x.grad.values == 7.0  # d(x^2 + x)/dx = 2x + 1 at x = 3
    a = nl.tensor(0.5, requires_grad=True)
    b = a * 2.0
    z = b.exp() + b
    g = nl.graph(z, names={"a": a, "b": b})
    assert _edges_from(g, g.node("b")) == [(2, 0), (3, 1)]
    assert sum(n.name == "b" for n in g.nodes) == 1
    z.backward()
    assert g.node("a").grad.values == pytest.approx(float(a.grad), rel=1e-6)


def test_xor_gradients_of_every_node_equal_autograd():
    loss, names = xor_network()
    for t in names.values():
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    g = nl.graph(loss, names=names, values="full", grads="full")
    assert len(g.nodes) == len(names) and g.collapsed is None
    assert g.node("X").kind == "input" and g.node("X").grad is None  # data: no gradient
    loss.backward()
    for key, t in names.items():
        node = g.node(key)
        assert node.shape == t.shape
        np.testing.assert_array_equal(np.asarray(node.value.values), t.data)
        if t.requires_grad:
            np.testing.assert_allclose(np.asarray(node.grad.values), t.grad, rtol=1e-6, atol=1e-9)


def test_values_and_grads_options():
    loss, names = xor_network()
    g = nl.graph(loss, names=names, values=False, grads=False)
    assert all(n.value is None and n.grad is None for n in g.nodes)
    g = nl.graph(loss, names=names)
    h = g.node("h")
    assert h.value.values is not None and len(h.value.lines()) == 1  # min/mean/max
    assert h.value.lines()[0].startswith("min ")
    full = nl.graph(loss, names=names, values="full").node("h").value.lines(full=True)
    assert len(full) == 4 and full[0].startswith("[")  # one line per row of the (4, 2) array
    big = nl.tensor(np.arange(SMALL + 1.0), requires_grad=True)
    assert nl.graph((big * 2).sum(), values="full").nodes[0].value.values is None
    with pytest.raises(ValueError, match="values must be"):
        nl.graph(loss, values="some")
    with pytest.raises(ValueError, match="collapse must be"):
        nl.graph(loss, collapse="layers")


def test_graph_of_a_non_scalar_output_shows_the_gradient_of_its_sum():
    x = nl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    g = nl.graph(y)
    assert g.nodes[0].grad.values == [2.0, 4.0, 6.0]


def test_graph_changes_no_gradient_and_keeps_the_graph():
    loss, names = xor_network()
    loss.backward(retain_graph=True)
    before = {k: t.grad.copy() for k, t in names.items() if t.grad is not None}
    nl.graph(loss, names=names)
    steps = nl.explain_backward(loss, names=names, file=io.StringIO())
    assert steps and {k: t.grad for k, t in names.items() if t.grad is not None}.keys() \
        == before.keys()
    for key, grad in before.items():
        np.testing.assert_array_equal(names[key].grad, grad)
    loss.backward()  # the graph is still there
    np.testing.assert_allclose(names["W1"].grad, 2 * before["W1"], rtol=1e-6)


def test_a_released_graph_is_refused_with_the_way_out():
    price, _ = apple_shopping()
    price.backward()
    with pytest.raises(RuntimeError, match=r"already released.*retain_graph=True"):
        nl.graph(price)
    with pytest.raises(RuntimeError, match="explain_backward"):
        nl.explain_backward(price)
    with pytest.raises(RuntimeError, match="does not require grad"):
        nl.explain_backward(nl.tensor(1.0))
    leaf = nl.graph(nl.tensor([1.0, 2.0]))
    assert len(leaf.nodes) == 1 and leaf.edges == () and leaf.root.grad is None


# ---------------------------------------------------------------------------- modules
def _xor_model():
    nl.seed(0)
    return nn.Sequential([nn.Dense(2, activation="sigmoid", input_dim=2),
                          nn.Dense(1, activation="sigmoid")])


def test_module_calls_collapse_into_boxes_with_their_parameters():
    model = _xor_model()
    X = nl.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    loss = nn.MSELoss()(model(X), np.array([[0], [1], [1], [0]], dtype=np.float32))
    full = nl.graph(loss)
    assert full.collapsed is None
    assert [n.label for n in full.nodes if n.kind == "parameter"] == [
        "dense.weight", "dense.bias", "dense_1.weight", "dense_1.bias"]
    g = nl.graph(loss, collapse="module")
    assert g.collapsed == "module"
    assert [(n.kind, n.op, n.name) for n in g.nodes] == [
        ("input", "input", None), ("module", "Dense", "dense"), ("module", "Dense", "dense_1"),
        ("module", "MSELoss", "mse_loss")]
    assert g.nodes[1].members == ("linear", "sigmoid", "dense.weight (2, 2)", "dense.bias (2,)")
    assert [(e.src, e.dst) for e in g.edges] == [(0, 1), (1, 2), (2, 3)]
    loss.backward()
    out = full.nodes[[n.op for n in full.nodes].index("sigmoid")]
    assert g.nodes[1].grad == out.grad and g.nodes[1].value == out.value  # the box's output
    w = full.node("dense.weight")
    np.testing.assert_allclose(np.asarray(w.grad.values), model[0].weight.grad, rtol=1e-6)


def test_two_calls_of_one_module_are_two_boxes_and_containers_are_not_boxes():
    nl.seed(0)
    dense = nn.Dense(3, activation="tanh", input_dim=3)
    block = nn.Residual(nn.Sequential([nn.Dense(3, activation="relu"), nn.Dense(3)]))
    x = nl.tensor(np.ones((2, 3)), requires_grad=True)
    y = block(dense(dense(x))).sum()
    g = nl.graph(y, collapse="module")
    boxes = [n for n in g.nodes if n.kind == "module"]
    assert [n.name for n in boxes] == ["dense", "dense", "dense", "dense_1"]
    assert [n.op for n in g.nodes if n.kind == "op"] == ["add", "sum"]  # Residual's x + F(x)
    shared = g.node("dense.weight")
    assert len(g.consumers(shared)) == 2  # used by both calls of dense: not folded into either
    h = dense(x)
    g = nl.graph((h * h).sum(), collapse="module")
    assert [n.label for n in g.inputs(g.nodes[-2])] == ["dense", "dense"]  # a box's output twice


def test_a_parameterless_module_around_a_layer_gives_no_cycle():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Dense(2, input_dim=2)

        def forward(self, x):
            return self.inner(x * 2.0) + x

    nl.seed(0)
    x = nl.tensor(np.ones((1, 2)), requires_grad=True)
    g = nl.graph(Block()(x).sum(), collapse="module")
    assert [n.kind for n in g.nodes] == ["input", "op", "module", "op", "op"]
    assert all(g.nodes[e.src].layer < g.nodes[e.dst].layer for e in g.edges)


def test_module_call_scope_is_recorded_and_restored():
    class Failing(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    dense = nn.Dense(2, input_dim=2)
    out = dense(nl.tensor(np.ones((1, 2))))
    assert out.grad_fn.scope.owner is dense and out.grad_fn.scope.parent is None
    assert SCOPE.current is None
    with pytest.raises(ValueError, match="boom"):
        Failing()(1.0)
    assert SCOPE.current is None
    assert not hasattr((nl.tensor(1.0, requires_grad=True) * 2).grad_fn, "scope")


def test_large_graphs_collapse_on_their_own():
    nl.seed(0)
    model = nn.Sequential([nn.Dense(4, activation="tanh", input_dim=4) for _ in range(60)])
    y = model(nl.tensor(np.ones((1, 4)))).sum()
    assert len(nl.graph(y, collapse=False).nodes) > AUTO_COLLAPSE
    g = nl.graph(y)
    assert g.collapsed == "module" and len(g.nodes) == 62  # input, 60 layers, sum


# ---------------------------------------------------------------------------- long chains, SVG
def _chain(n):
    x = nl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def test_a_10000_op_chain_is_walked_and_drawn_without_recursion():
    # no wall-clock bound (speed is measured in bench/, never asserted): a recursive walk fails
    # here with RecursionError, a quadratic one makes this test visibly slow in --durations
    x, y = _chain(10_000)
    g = nl.graph(y, collapse=False)
    svg = g.to_svg()
    assert len(g.nodes) == 10_001 and g.root.layer == 10_000
    assert svg.count("<rect") == 10_001
    auto = nl.graph(y)
    assert auto.collapsed == "chain" and [n.kind for n in auto.nodes] == ["input", "chain"]
    assert auto.nodes[1].members == ("mul",) * 10_000
    y.backward()
    assert auto.nodes[0].grad.values == pytest.approx(float(x.grad), rel=1e-6)
    ET.fromstring(auto.to_svg())


def test_chain_collapse_keeps_branches():
    x = nl.tensor(2.0, requires_grad=True)
    a = x.exp().tanh().sqrt()  # a run of three
    y = a * x + a
    g = nl.graph(y, collapse="chain")
    assert [n.kind for n in g.nodes] == ["input", "chain", "op", "op"]
    assert g.nodes[1].members == ("exp", "tanh", "sqrt")


def _assert_self_contained(text):
    without_namespace = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http" not in without_namespace and "href" not in without_namespace
    assert "<script" not in text


def test_svg_is_well_formed_and_self_contained():
    for y, names in (apple_shopping(), used_twice(), xor_network()):
        g = nl.graph(y, names=names)
        svg = g.to_svg()
        root = ET.fromstring(svg)
        assert root.tag == SVG + "svg"
        assert len(root.findall(f".//{SVG}rect")) == len(g.nodes)
        assert len(root.findall(f".//{SVG}path[@class='e']")) == len(g.edges)
        texts = "".join(t.text or "" for t in root.iter(SVG + "text"))
        for n in g.nodes:
            assert (n.name or n.op) in texts
        _assert_self_contained(svg)
        assert g._repr_svg_() == svg
        page = g.to_html()
        assert page.startswith("<!DOCTYPE html>") and svg in page
        _assert_self_contained(page)
    names = {"a<b": nl.tensor(1.0, requires_grad=True)}
    ET.fromstring(nl.graph(names["a<b"] * 2, names=names).to_svg())  # names are escaped


def test_save_writes_svg_or_html_atomically(tmp_path):
    price, names = apple_shopping()
    g = nl.graph(price, names=names)
    assert g.save(tmp_path / "apple.svg").read_text(encoding="utf-8") == g.to_svg()
    (tmp_path / "apple.html").write_text("old")
    assert g.save(tmp_path / "apple.html").read_text(encoding="utf-8") == g.to_html()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apple.html", "apple.svg"]
    with pytest.raises(ValueError, match=r"\.svg or \.html"):
        g.save(tmp_path / "apple.png")


# ---------------------------------------------------------------------------- explain_backward
def _explain(y, names, **kwargs):
    out = io.StringIO()
    steps = nl.explain_backward(y, names=names, file=out, **kwargs)
    return steps, out.getvalue()


def test_explain_backward_of_the_apple_graph():
    price, names = apple_shopping()
    steps, text = _explain(price, names)
    assert text.splitlines()[1:] == [
        "d price / d price = 1",
        "price = mul(apple_price, tax): upstream 1",
        "  -> apple_price: 1 x 1.1 = 1.1",
        "  -> tax: 1 x 200 = 200",
        "apple_price = mul(apple, count): upstream 1.1",
        "  -> apple: 1.1 x 2 = 2.2",
        "  -> count: 1.1 x 100 = 110",
    ]
    assert [(s.output_label, s.input_label, s.slot) for s in steps] == [
        ("price", "apple_price", 0), ("price", "tax", 1), ("apple_price", "apple", 0),
        ("apple_price", "count", 1)]
    price.backward()
    for s in steps:
        if s.input_label in ("apple", "count", "tax"):
            assert s.total == names[s.input_label].grad
            assert s.upstream * s.local == s.downstream


def test_explain_backward_adds_the_shares_of_a_value_used_twice():
    y, names = used_twice()
    steps, text = _explain(y, names)
    assert text.splitlines()[2:] == [
        "y = add(#1 mul, x): upstream 1",
        "  -> #1 mul: 1 x 1 = 1",
        "  -> x: 1 x 1 = 1",
        "#1 mul = mul(x, x): upstream 1",
        "  -> x: 1 x 3 = 3",
        "  -> x: 1 x 3 = 3",
        "  = x is used 3 times, its shares add up: 1 + 3 + 3 = 7",
    ]
    x_steps = [s for s in steps if s.input_label == "x"]
    assert [float(s.downstream) for s in x_steps] == [1.0, 3.0, 3.0]
    assert [s.total for s in x_steps[:2]] == [None, None]
    y.backward()
    assert x_steps[-1].total == names["x"].grad == 7.0


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def test_explain_backward_of_the_xor_network_prints_autograd_gradients():
    loss, names = xor_network()
    for t in names.values():
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    steps, text = _explain(loss, names, show_values=True)
    _, by_shape = _explain(loss, names)
    loss.backward()
    assert {s.input_label for s in steps} == {
        k for k, t in names.items() if t.requires_grad and k != "loss"}
    for s in steps:
        grad = names[s.input_label].grad
        np.testing.assert_allclose(s.downstream, grad, rtol=1e-6, atol=1e-9)  # used once each
        np.testing.assert_allclose(s.total, grad, rtol=1e-6, atol=1e-9)
        assert s.text in text
        printed = s.text.split(" = ")[-1].split(", summed")[0]
        numbers = np.array([float(v) for v in _NUMBER.findall(printed)])
        np.testing.assert_allclose(numbers, grad.ravel(), rtol=1e-3, atol=1e-6)
        if s.local is not None:  # element-wise: upstream x local, summed over broadcast axes
            product = s.upstream * s.local
            np.testing.assert_allclose(product.sum(axis=0) if product.shape != grad.shape
                                       else product, grad, rtol=1e-6, atol=1e-9)
    by_line = {s.input_label: line for s in steps for line in by_shape.splitlines()
               if line.startswith(f"  -> {s.input_label}:")}
    assert by_line["W1"] == "  -> W1: (4, 2) x Jacobian of matmul [(4, 2) by (2, 2)] = (2, 2)"
    assert by_line["b1"] == "  -> b1: (4, 2) x (4, 2) = (2,), summed over the broadcast axes"
    assert "sq = power(diff, constant)" in by_shape
