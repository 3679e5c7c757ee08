"""Backpropagation made visible: the computational graph (계산 그래프) behind a tensor, as data and
as a picture, and the chain rule (연쇄법칙) replayed edge by edge.

>>> apple = nl.tensor(100.0, requires_grad=True)
>>> count = nl.tensor(2.0, requires_grad=True)
>>> tax = nl.tensor(1.1, requires_grad=True)
>>> price = apple * count * tax
>>> g = nl.graph(price, names=locals())     # nodes, edges, to_svg(), save("apple.svg")
>>> g.node("apple").grad.values              # d price / d apple = count x tax
2.200000047683716
>>> steps = nl.explain_backward(price, names=locals())
backward of price: upstream gradient x local derivative = downstream gradient, ...
d price / d price = 1
price = mul(#2 mul, tax): upstream 1
  -> #2 mul: 1 x 1.1 = 1.1
  -> tax: 1 x 200 = 200
...

:func:`graph` walks the graph that produced ``y`` (without recursion: a chain of 10,000 ops is
fine) and returns a :class:`Graph`: one :class:`Node` per tensor (a tensor used twice is one node
with two outgoing edges), one :class:`Edge` per input of an op, the layers of a left-to-right
drawing (longest path from the inputs) and a self-contained SVG drawn by this module (no graphviz).
Gradients are d y / d node, computed on the side by running each op's ``backward`` once, the
consumers of a tensor first: nothing is written to any ``.grad`` and the graph is not released, so
the numbers equal what ``y.backward()`` would accumulate into a fresh ``.grad``.
:func:`explain_backward` prints that same pass, edge by edge:
upstream gradient x local derivative = downstream gradient.

Both need the graph as it is before ``backward()`` releases it: call them first, or call
``y.backward(retain_graph=True)``.
"""

from __future__ import annotations

import heapq
import math
import os
import sys
from collections import Counter, namedtuple
from typing import TYPE_CHECKING, Any, Callable, Mapping, TextIO

import numpy as np

from .engine import unbroadcast
from .tensor import Tensor

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

#: graph(y) with collapse=None collapses when the graph has more nodes than this: first the ops of
#: each module call into one box, then, if still too many, runs of at least CHAIN_MIN ops
AUTO_COLLAPSE = 100
#: the shortest run of ops that collapse="chain" draws as one box
CHAIN_MIN = 3
#: arrays of at most this many elements keep their values in the data (Summary.values) and show
#: them with values="full" / grads="full" / show_values=True
SMALL = 16


_DTYPE_NAMES: dict[np.dtype, str] = {}


# ---------------------------------------------------------------------------- plain data
class Summary(namedtuple("Summary", "shape dtype min mean max values", defaults=(None,))):
    """What a node shows of an array (its value or its gradient): the shape, min/mean/max, and the
    elements themselves (nested lists of Python numbers) when there are at most :data:`SMALL`."""

    __slots__ = ()

    @classmethod
    def of(cls, a: np.ndarray) -> "Summary":
        a = np.asarray(a)
        dtype = _DTYPE_NAMES.get(a.dtype) or _DTYPE_NAMES.setdefault(a.dtype, str(a.dtype))
        if a.size == 1:  # the common case of a lecture's graph, without NumPy's reductions
            v = a.reshape(-1)[0].item()
            return cls(a.shape, dtype, float(v), float(v), float(v), a.tolist())
        if a.size == 0:
            return cls(a.shape, dtype, None, None, None, [] if a.ndim else None)
        f = a.astype(np.float64)
        with np.errstate(all="ignore"):
            stats = float(f.min()), float(f.mean()), float(f.max())
        return cls(a.shape, dtype, *stats, a.tolist() if a.size <= SMALL else None)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def lines(self, full: bool = False) -> list[str]:
        """The text: one number in full for a one-element array; the elements, one line per row,
        when ``full`` and the array is small; otherwise min/mean/max."""
        if self.size == 0:
            return ["empty"]
        if self.size == 1:
            return [_number(self.min, self.dtype)]
        if full and self.values is not None:
            a = np.asarray(self.values, dtype=self.dtype)
            rows = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a[None]
            return ["[" + ", ".join(_short(v, self.dtype) for v in row) + "]" for row in rows]
        return [f"min {self.min:.4g} mean {self.mean:.4g} max {self.max:.4g}"]

    def __str__(self) -> str:
        return " ".join(self.lines())


class Node(namedtuple("Node", "id kind op name shape value grad layer members", defaults=((),))):
    """One tensor of the graph, or one box of collapsed ones.

    ``kind`` is "input" or "parameter" (a leaf; an ``nn.Parameter`` is a parameter), "op",
    "module" (the ops of one module call) or "chain" (a run of ops); ``op`` is the Function's
    name ("mul"), the leaf's kind, the module's class or "chain".  ``name`` comes from
    ``names=``, from the module holding a parameter ("dense_1.weight"), or is the module's name
    for a box.  ``value`` and ``grad`` describe the tensor (for a box, its output); ``grad`` is
    d y / d tensor, None where no gradient flows.  ``members`` are a box's ops in order and the
    parameters folded into it."""

    __slots__ = ()

    @property
    def label(self) -> str:
        """The name, else "#id op" (as explain_backward prints it)."""
        return self.name if self.name is not None else f"#{self.id} {self.op}"


class Edge(namedtuple("Edge", "src dst slot")):
    """Node ``src`` is input number ``slot`` of node ``dst`` (a value flows from src to dst)."""

    __slots__ = ()


class Step(namedtuple("Step", "output op input slot output_label input_label upstream local downstream total text")):
    """One edge of the backward pass that :func:`explain_backward` printed.

    ``upstream`` is d y / d output (output: the op's result, node ``output``), ``local`` is
    d output / d input element by element (for element-wise ops and one-element tensors; None where
    the local derivative is a Jacobian, as for matmul or sum), ``downstream`` this edge's share of
    d y / d input (upstream x local, summed over the axes broadcasting added, or the op's
    vector-Jacobian product).  ``total`` is d y / d input once this edge brought the last share,
    else None.  Node ids are those of ``graph(y, collapse=False)``."""

    __slots__ = ()


# ---------------------------------------------------------------------------- number formatting
def _number(x: float | None, dtype: str = "float64") -> str:
    """A number in full: the shortest text that reads back as the same value of ``dtype``."""
    if x is None:
        return "-"
    kind = np.dtype(dtype).kind
    if kind in "biu":
        return str(int(x))
    v = np.dtype(dtype).type(x) if kind == "f" else np.float64(x)
    if not np.isfinite(v):
        return str(float(v))
    if v == 0 or 1e-4 <= abs(v) < 1e6:
        return np.format_float_positional(v, unique=True, trim="-")
    return np.format_float_scientific(v, unique=True, trim="-")


def _short(x: float, dtype: str) -> str:
    """An element of an array shown in full: four significant digits."""
    if np.dtype(dtype).kind in "biu":
        return str(int(x))
    return f"{x:.4g}"


def _array_text(a: np.ndarray, values: bool) -> str:
    """A scalar (0-d) in full; an array by its shape, or its elements (four significant digits,
    one line) when ``values``."""
    a = np.asarray(a)
    if a.ndim == 0:
        return _number(float(a), str(a.dtype))
    if not values:
        return _shape(a.shape)
    return np.array2string(a, separator=", ", max_line_width=10**9, threshold=10**9,
                           formatter={"float_kind": lambda v: f"{v:.4g}"}).replace("\n", "")


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------------------- walking the graph
def _parents(t: Tensor, who: str) -> tuple:
    fn = t._ctx
    if fn is None:
        return ()
    if fn.parents is None:
        raise RuntimeError(
            f"{who}: the graph through {fn.name} was already released by backward(); call "
            f"{who}() before y.backward(), or call y.backward(retain_graph=True)")
    return fn.parents


def _walk(y: Tensor, who: str) -> list[Tensor]:
    """Every tensor ``y`` was computed from, ``y`` included, each once, in a topological order
    (a tensor after all its inputs; ``y`` last).  Post-order depth-first walk with an explicit
    stack, inputs in order: no recursion however long the graph."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{who} expected a Tensor, got {type(y).__name__}")
    order: list[Tensor] = []
    seen = {y}
    stack = [(y, iter(_parents(y, who)))]
    while stack:
        t, inputs = stack[-1]
        for p in inputs:
            if p is not None and p not in seen:
                seen.add(p)
                stack.append((p, iter(_parents(p, who))))
                break
        else:
            stack.pop()
            order.append(t)
    return order


def _side_backward(
    order: list[Tensor], seed: np.ndarray | None,
    visit: Callable[[int, int, int, np.ndarray, np.ndarray], None] | None = None,
) -> list[np.ndarray | None]:
    """d y / d t for every tensor of ``order`` (y = ``order[-1]``, d y / d y = ``seed``): each op's
    backward runs once, after every consumer of its result sent its share (reverse topological
    order), as in the engine, but no ``.grad`` changes and nothing is released.  ``visit(output,
    slot, input, upstream, downstream)`` is called for every edge that carries a gradient."""
    index = {t: i for i, t in enumerate(order)}
    grads: list[np.ndarray | None] = [None] * len(order)
    if seed is not None and order[-1].requires_grad:
        grads[-1] = seed
    for i in range(len(order) - 1, -1, -1):
        fn, g = order[i]._ctx, grads[i]
        if fn is None or g is None:
            continue
        parents = fn.parents
        shares = fn.backward(g)
        if len(shares) < len(parents):
            raise RuntimeError(
                f"{fn.name}.backward returned {len(shares)} gradient(s) for {len(parents)} "
                "input(s); return one per positional input (None where none)")
        for slot, (p, share) in enumerate(zip(parents, shares)):
            if p is None or not p.requires_grad or share is None:
                continue
            if share.shape != p.data.shape:
                share = unbroadcast(share, p.data.shape)
            j = index[p]
            if visit is not None:
                visit(i, slot, j, g, share)
            grads[j] = share if grads[j] is None else grads[j] + share
    return grads


def _seed(y: Tensor) -> np.ndarray:
    """d y / d y: 1, or ones for a y of several elements (the gradient of y.sum())."""
    return np.ones(y.data.shape, dtype=y.data.dtype if y.data.dtype.kind == "f" else np.float32)


def _leaf_kind(t: Tensor) -> str:
    # autograd may not import nn (the import layers): a Parameter is recognized by its class name
    return "parameter" if any(c.__name__ == "Parameter" for c in type(t).__mro__) else "input"


def _scope_chain(t: Tensor) -> list[Any]:
    """The module calls ``t``'s op was recorded in, innermost first."""
    chain = []
    scope = getattr(t._ctx, "scope", None) if t._ctx is not None else None
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    return chain


def _labels(order: list[Tensor], names: Mapping[str, Any] | None) -> list[str | None]:
    """Each tensor's name: from ``names`` (name -> tensor; other values are ignored, so
    ``names=locals()`` works), else, for a parameter, "module.attribute" of the innermost module
    call that used it and holds it."""
    given: dict[Tensor, str] = {}
    for key, value in (names or {}).items():
        if isinstance(value, Tensor):
            given.setdefault(value, str(key))
    labels: list[str | None] = [given.get(t) for t in order]
    index = {t: i for i, t in enumerate(order)}
    held: dict[int, dict[Tensor, str]] = {}  # id(module) -> its parameters: tensor -> name
    for t in order:
        if t._ctx is None:
            continue
        for scope in _scope_chain(t):
            module = scope.owner
            if id(module) not in held:
                params = getattr(module, "named_parameters", None)
                held[id(module)] = {p: n for n, p in params()} if callable(params) else {}
            own = held[id(module)]
            for p in t._ctx.parents:
                if p is not None and p in own and labels[index[p]] is None:
                    labels[index[p]] = f"{getattr(module, 'name', type(module).__name__)}.{own[p]}"
    return labels


# ---------------------------------------------------------------------------- building the graph
class _Item:
    """A node while the graph is built (mutable; becomes a Node at the end)."""

    __slots__ = ("kind", "op", "name", "tensor", "grad", "members", "first")

    def __init__(self, kind, op, name, tensor, grad, members, first):
        self.kind, self.op, self.name = kind, op, name
        self.tensor, self.grad, self.members, self.first = tensor, grad, members, first


def _is_leaf(item: _Item) -> bool:
    return item.kind in ("input", "parameter")


def _merge(items: list[_Item], edges: list[tuple[int, int, int]], group: list[Any],
           make_box: Callable[[Any, list[_Item]], tuple[str, str, str | None]],
           ) -> tuple[list[_Item], list[tuple[int, int, int]]]:
    """Replace the items with the same (non-None) ``group`` key by one box; edges inside a box
    vanish, parallel edges into or out of a box become one.  ``make_box(key, members)`` gives
    the box's (kind, op, name).  The result is in a topological order, boxes placed by their first
    member."""
    consumers: list[list[int]] = [[] for _ in items]
    for s, d, _ in edges:
        consumers[s].append(d)
    groups: dict[Any, list[int]] = {}
    for i, key in enumerate(group):
        if key is not None:
            groups.setdefault(key, []).append(i)
    new: list[_Item] = []
    where = [-1] * len(items)
    for i, item in enumerate(items):
        key = group[i]
        if key is None:
            where[i] = len(new)
            new.append(item)
        elif groups[key][0] == i:
            members = [items[j] for j in groups[key]]
            inside = set(groups[key])
            outs = [j for j in groups[key] if j == len(items) - 1
                    or any(c not in inside for c in consumers[j])]
            out = items[outs[-1] if outs else groups[key][-1]]
            kind, op, name = make_box(key, members)
            listed = [m.op for m in members if not _is_leaf(m)]
            listed += [f"{m.name or m.op} {_shape(m.tensor.data.shape)}"
                       for m in members if _is_leaf(m)]
            for j in groups[key]:
                where[j] = len(new)
            new.append(_Item(kind, op, name, out.tensor, out.grad, tuple(listed), item.first))
    merged: list[tuple[int, int, int]] = []
    slots: dict[int, dict[int, int]] = {}  # box dst -> src -> slot
    seen: set[tuple[int, int]] = set()
    for s, d, slot in edges:
        ns, nd = where[s], where[d]
        if ns == nd:
            continue
        if new[nd].kind in ("module", "chain"):  # into a box: one edge per outside source
            if (ns, nd) in seen:
                continue
            seen.add((ns, nd))
            box = slots.setdefault(nd, {})
            slot = box.setdefault(ns, len(box))
        merged.append((ns, nd, slot))
    return _topological(new, merged)


def _topological(items: list[_Item], edges: list[tuple[int, int, int]],
                 ) -> tuple[list[_Item], list[tuple[int, int, int]]]:
    """Items renumbered in a topological order (Kahn's algorithm, ties by first member)."""
    indegree = [0] * len(items)
    out: list[list[int]] = [[] for _ in items]
    for s, d, _ in edges:
        indegree[d] += 1
        out[s].append(d)
    ready = [(items[i].first, i) for i in range(len(items)) if indegree[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for d in out[i]:
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(ready, (items[d].first, d))
    if len(order) != len(items):  # pragma: no cover - boxes are whole calls, which cannot loop
        raise RuntimeError("graph: collapsing made a cycle")
    rank = {old: new for new, old in enumerate(order)}
    return ([items[i] for i in order],
            sorted(((rank[s], rank[d], slot) for s, d, slot in edges), key=lambda e: (e[1], e[2])))


def _module_groups(order: list[Tensor], items: list[_Item]) -> list[Any]:
    """The module call each item belongs to (None: none).

    A box is the outermost call, on the chain of calls an op was recorded in, whose module holds
    parameters of its own or made no nested module call (a Dense with its activation is one box;
    a Sequential or a Residual is not, its layers are).  Calls chosen this way never nest, so
    each box holds all the ops made during one call and the boxed graph has no cycle.
    Parameters used only inside one box join it."""
    chains = [_scope_chain(t) if t._ctx is not None else [] for t in order]
    outer_calls = {id(s) for chain in chains for s in chain[1:]}
    own: dict[int, bool] = {}

    def eligible(scope: Any) -> bool:
        module = scope.owner
        if id(module) not in own:
            params = getattr(module, "named_parameters", None)
            own[id(module)] = callable(params) and any("." not in n for n, _ in params())
        return own[id(module)] or id(scope) not in outer_calls

    group: list[Any] = [next((s for s in reversed(chain) if eligible(s)), None) for chain in chains]
    _fold_parameters(order, items, group)
    return group


def _chain_groups(items: list[_Item], edges: list[tuple[int, int, int]]) -> list[Any]:
    """Runs of at least :data:`CHAIN_MIN` ops (not boxes) in which each op's one non-leaf input
    is the previous op and is used by nothing else."""
    inputs: list[list[int]] = [[] for _ in items]
    consumers: list[list[int]] = [[] for _ in items]
    for s, d, _ in edges:
        if s not in inputs[d]:
            inputs[d].append(s)
        if d not in consumers[s]:
            consumers[s].append(d)
    run = [-1] * len(items)
    for i, item in enumerate(items):
        if item.kind != "op":
            continue
        run[i] = i
        ops_in = [s for s in inputs[i] if not _is_leaf(items[s])]
        if len(ops_in) == 1 and items[ops_in[0]].kind == "op" and consumers[ops_in[0]] == [i]:
            run[i] = run[ops_in[0]]
    sizes = Counter(r for r in run if r >= 0)
    group: list[Any] = [("chain", r) if r >= 0 and sizes[r] >= CHAIN_MIN else None for r in run]
    for i, item in enumerate(items):  # parameters used only inside one run join it
        if item.kind == "parameter" and consumers[i] and group[i] is None:
            keys = {group[c] for c in consumers[i]}
            if len(keys) == 1 and None not in keys:
                group[i] = keys.pop()
    return group


def _fold_parameters(order: list[Tensor], items: list[_Item], group: list[Any]) -> None:
    index = {t: i for i, t in enumerate(order)}
    used_in: dict[int, set[int]] = {}
    boxes: dict[int, Any] = {}
    for i, t in enumerate(order):
        if t._ctx is None:
            continue
        for p in t._ctx.parents:
            if p is not None and items[index[p]].kind == "parameter":
                used_in.setdefault(index[p], set()).add(id(group[i]))
                boxes[id(group[i])] = group[i]
    for j, keys in used_in.items():
        if len(keys) == 1:
            key = boxes[next(iter(keys))]
            if key is not None and j != len(order) - 1:
                group[j] = key


def graph(y: Tensor, *, values: bool | str = True, grads: bool | str = True,
          collapse: str | bool | None = None, names: Mapping[str, Any] | None = None) -> "Graph":
    """The computational graph (계산 그래프) that produced ``y``, as a :class:`Graph`.

    * ``values``: show each tensor's value (True: a one-element tensor in full, an array as
      min/mean/max beside its shape; "full": the elements of arrays of at most :data:`SMALL`
      elements too; False: no values).
    * ``grads``: the same for d y / d tensor (for a ``y`` of several elements, the gradient of
      ``y.sum()``), computed on the side: no ``.grad`` changes and the graph is not released; equal
      to what ``y.backward()`` accumulates into a fresh ``.grad``.
    * ``collapse``: "module" draws the ops of one ``nn.Module`` call (a layer with its activation)
      as one box with the parameters only it uses; "chain" draws each run of at least
      :data:`CHAIN_MIN` ops that feed only the next one as one box; False draws every tensor;
      None (default) collapses by module and then by chain when the graph has more than
      :data:`AUTO_COLLAPSE` nodes.
    * ``names``: name -> tensor for the labels (other values are ignored, so ``names=locals()``
      works); a parameter used inside a module call is named after the module
      ("dense_1.weight") unless given here.

    The walk uses an explicit stack (no recursion).  The graph must not have been released by
    ``backward()`` yet: call ``graph`` first, or ``y.backward(retain_graph=True)``.
    """
    for flag, what in ((values, "values"), (grads, "grads")):
        if flag not in (True, False, "full"):
            raise ValueError(f"graph: {what} must be True, False or 'full', got {flag!r}")
    if collapse not in (None, False, "module", "chain"):
        raise ValueError(f"graph: collapse must be None (automatic), False, 'module' or 'chain', "
                         f"got {collapse!r}")
    order = _walk(y, "graph")
    labels = _labels(order, names)
    d = _side_backward(order, _seed(y)) if grads else [None] * len(order)
    index = {t: i for i, t in enumerate(order)}
    items, edges = [], []
    for i, t in enumerate(order):
        fn = t._ctx
        if fn is None:
            kind = _leaf_kind(t)
            items.append(_Item(kind, kind, labels[i], t, d[i], (), i))
            continue
        items.append(_Item("op", fn.name, labels[i], t, d[i], (), i))
        edges.extend((index[p], i, slot) for slot, p in enumerate(fn.parents) if p is not None)
    done = []
    if collapse == "module" or (collapse is None and len(items) > AUTO_COLLAPSE):
        group = _module_groups(order, items)
        if any(k is not None for k in group):
            items, edges = _merge(items, edges, group, _module_box)
            done.append("module")
    if collapse == "chain" or (collapse is None and len(items) > AUTO_COLLAPSE):
        group = _chain_groups(items, edges)
        if any(k is not None for k in group):
            items, edges = _merge(items, edges, group, _chain_box)
            done.append("chain")
    layers = _layers(len(items), edges)
    nodes = tuple(
        Node(i, it.kind, it.op, it.name, tuple(it.tensor.data.shape),
             Summary.of(it.tensor.data) if values else None,
             Summary.of(it.grad) if it.grad is not None else None,
             layers[i], it.members)
        for i, it in enumerate(items))
    return Graph(nodes, tuple(Edge(*e) for e in edges), "+".join(done) or None,
                 values == "full", grads == "full")


def _module_box(scope: Any, members: list[_Item]) -> tuple[str, str, str | None]:
    module = scope.owner
    return "module", type(module).__name__, getattr(module, "name", None)


def _chain_box(key: Any, members: list[_Item]) -> tuple[str, str, str | None]:
    return "chain", "chain", None


def _layers(n: int, edges: list[tuple[int, int, int]]) -> list[int]:
    """Layer of each node (nodes in topological order): an op one right of its furthest input
    (the longest path from the inputs), a leaf just left of its first consumer."""
    inputs: list[list[int]] = [[] for _ in range(n)]
    consumers: list[list[int]] = [[] for _ in range(n)]
    for s, d, _ in edges:
        inputs[d].append(s)
        consumers[s].append(d)
    layer = [0] * n
    for i in range(n):
        if inputs[i]:
            layer[i] = 1 + max(layer[s] for s in inputs[i])
    for i in range(n):
        if not inputs[i] and consumers[i]:
            layer[i] = min(layer[c] for c in consumers[i]) - 1
    return layer


# ---------------------------------------------------------------------------- the Graph
class Graph:
    """The graph returned by :func:`graph`: ``nodes`` in a topological order (inputs first, ``y``
    last; ``nodes[k].id == k``), ``edges`` (src -> dst), ``collapsed`` ("module", "chain",
    "module+chain" or None).  Plain data: it keeps no tensor.  ``full_values`` and
    ``full_grads`` say whether small arrays are drawn element by element."""

    __slots__ = ("nodes", "edges", "collapsed", "full_values", "full_grads")

    def __init__(self, nodes: tuple[Node, ...], edges: tuple[Edge, ...],
                 collapsed: str | None = None, full_values: bool = False,
                 full_grads: bool = False) -> None:
        self.nodes, self.edges, self.collapsed = nodes, edges, collapsed
        self.full_values, self.full_grads = full_values, full_grads

    def __repr__(self) -> str:
        return (f"<Graph of {self.root.label}: {len(self.nodes)} nodes, {len(self.edges)} "
                f"edges{', collapsed by ' + self.collapsed if self.collapsed else ''}>")

    @property
    def root(self) -> Node:
        return self.nodes[-1]

    def node(self, name: str) -> Node:
        """The node named ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"graph: no node is named {name!r}; named: "
                       f"{[n.name for n in self.nodes if n.name is not None]}")

    def inputs(self, node: Node | int) -> list[Node]:
        """The nodes feeding ``node``, by slot (a tensor used twice appears twice)."""
        k = node if isinstance(node, int) else node.id
        return [self.nodes[e.src] for e in sorted((e for e in self.edges if e.dst == k),
                                                  key=lambda e: e.slot)]

    def consumers(self, node: Node | int) -> list[Node]:
        """The nodes ``node`` feeds, one per edge."""
        k = node if isinstance(node, int) else node.id
        return [self.nodes[e.dst] for e in self.edges if e.src == k]

    def __str__(self) -> str:
        lines = []
        into: dict[int, list[Edge]] = {}
        for e in self.edges:
            into.setdefault(e.dst, []).append(e)
        for n in self.nodes:
            # "#2 linear (4, 2)", "price (mul)", "apple (input)", "dense (Dense) (4, 2)"
            text = n.label
            if n.name is not None or n.kind in ("module", "chain"):
                text += f" ({n.op})"
            if n.shape:
                text += f" {_shape(n.shape)}"
            ins = ", ".join(self.nodes[e.src].label
                            for e in sorted(into.get(n.id, []), key=lambda e: e.slot))
            if ins:
                text += f" <- {ins}"
            if n.value is not None:
                text += f"; value {' '.join(n.value.lines(self.full_values))}"
            if n.grad is not None:
                text += f"; grad {' '.join(n.grad.lines(self.full_grads))}"
            lines.append(text)
        return "\n".join(lines)

    # ------------------------------------------------------------------ drawing
    def to_svg(self) -> str:
        """The graph as a self-contained SVG document (no external reference, no script),
        laid out here: columns by layer, left to right."""
        return _svg(self)

    def to_html(self, title: str | None = None) -> str:
        """A self-contained HTML page holding the SVG."""
        title = title or f"Computational graph of {self.root.label}"
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{_escape(title)}</title>\n"
            "<style>body{font-family:sans-serif;margin:1.5em}.graph{overflow:auto}</style>\n"
            f"</head>\n<body>\n<h1>{_escape(title)}</h1>\n<p>{len(self.nodes)} nodes, "
            f"{len(self.edges)} edges. Values flow left to right; each box shows its value and, "
            "in red, the gradient of the output with respect to it.</p>\n"
            f"<div class=\"graph\">\n{self.to_svg()}</div>\n</body>\n</html>\n")

    def save(self, path: str | os.PathLike) -> Path:
        """Write the SVG (``.svg``) or the HTML page (``.html``) to ``path``, atomically."""
        from pathlib import Path  # here: `import neuralab` does not pay for pathlib

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            text = self.to_svg()
        elif suffix in (".html", ".htm"):
            text = self.to_html()
        else:
            raise ValueError(f"graph.save: {path} should end in .svg or .html, not {suffix!r}")
        return _write_atomically(path, text.encode("utf-8"))

    def _repr_svg_(self) -> str:  # drawn by Jupyter
        return self.to_svg()


def _write_atomically(path: Path, data: bytes) -> Path:
    """A temporary file beside ``path``, then a rename: readers see the old file or the new one.

    The one atomic writer of neuralab is ``neuralab.io.atomic_write``, but autograd is the lowest
    import layer (pyproject.toml) and may not import io; this is the small version of it (no
    removal of the temporaries of killed writers)."""
    import tempfile  # here: `import neuralab` does not pay for it

    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name[:200]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


# ---------------------------------------------------------------------------- the SVG
_CHAR_W = 7.2       # width of a character of the 12 px monospace font
_LINE_H = 15.0
_PAD_X, _PAD_Y = 8.0, 6.0
_GAP_X, _GAP_Y = 56.0, 18.0
_MARGIN = 12.0
_FILL = {"input": "#e3f2fd", "parameter": "#fff3e0", "op": "#f5f5f5", "module": "#e8f5e9",
         "chain": "#ede7f6"}


def _box_lines(g: Graph, n: Node) -> list[tuple[str, str]]:
    """The lines of text of a node's box, each with its CSS class (t: title, s: detail,
    v: value, g: gradient)."""
    shape = _shape(n.shape) if n.shape else ""
    ops = [m for m in n.members if not _is_folded(m)]
    # a few ops in order, more as counts: "linear -> sigmoid", "mul x5000, add x5000"
    listed = " -> ".join(ops) if len(ops) <= 6 else ", ".join(
        f"{op} x{k}" if k > 1 else op for op, k in Counter(ops).items())
    if n.kind == "chain":
        lines = [(f"chain of {len(ops)} ops", "t"), (listed, "s")]
    elif n.kind == "module":
        lines = [(n.name or n.op, "t"), (f"{n.op}: {listed}", "s")]
    else:
        title = n.name if n.name is not None else (n.op if n.kind == "op" else n.kind)
        lines = [(title, "t")]
        detail = " ".join(x for x in ((n.op if n.name is not None else ""), shape) if x)
        if detail:
            lines.append((detail, "s"))
    if n.kind in ("module", "chain"):
        lines += [(m, "s") for m in n.members if _is_folded(m)]
        if shape:
            lines.append((f"out {shape}", "s"))
    for summary, word, full, cls in ((n.value, "value", g.full_values, "v"),
                                     (n.grad, "grad", g.full_grads, "g")):
        if summary is not None:
            body = summary.lines(full)
            lines.append((f"{word} {body[0]}", cls))
            lines += [(" " * (len(word) + 1) + more, cls) for more in body[1:]]
    return lines


def _is_folded(member: str) -> bool:
    """Whether a box member is a folded leaf ("name (shape)") rather than an op name."""
    return " " in member


def _place(g: Graph, heights: list[float]) -> list[float]:
    """The top of each box: each layer is a column; boxes sit at the mean height of their
    neighbours (inputs first, then leaves near their consumers, then ops again), pushed apart
    where they would overlap."""
    n = len(g.nodes)
    ins: list[list[int]] = [[] for _ in range(n)]
    outs: list[list[int]] = [[] for _ in range(n)]
    for e in g.edges:
        ins[e.dst].append(e.src)
        outs[e.src].append(e.dst)
    columns: dict[int, list[int]] = {}
    for node in g.nodes:
        columns.setdefault(node.layer, []).append(node.id)
    layers = sorted(columns)
    center = [0.0] * n

    def pack(column: list[int], desired: dict[int, float]) -> None:
        column.sort(key=lambda k: desired[k])
        tops, bottom = [], -np.inf
        for k in column:
            top = max(desired[k] - heights[k] / 2, bottom + _GAP_Y)
            tops.append(top)
            bottom = top + heights[k]
        shift = _mean([desired[k] - heights[k] / 2 - t for k, t in zip(column, tops)])
        for k, t in zip(column, tops):
            center[k] = t + shift + heights[k] / 2

    for lay in layers:  # inputs: left to right
        column = columns[lay]
        placed = [k for k in column if ins[k]]
        desired = {k: _mean([center[s] for s in ins[k]]) for k in placed}
        bottom = max((desired[k] + heights[k] / 2 for k in placed), default=-_GAP_Y)
        for k in column:
            if not ins[k]:
                desired[k] = bottom + _GAP_Y + heights[k] / 2
                bottom = desired[k] + heights[k] / 2
        pack(column, desired)
    for lay in reversed(layers):  # leaves beside their consumers
        column = columns[lay]
        desired = {k: _mean([center[c] for c in outs[k]]) if not ins[k] and outs[k]
                   else center[k] for k in column}
        pack(column, desired)
    for lay in layers:  # ops between their inputs again
        column = columns[lay]
        desired = {k: _mean([center[s] for s in ins[k]]) if ins[k] else center[k]
                   for k in column}
        pack(column, desired)
    top = min((center[k] - heights[k] / 2 for k in range(n)), default=0.0)
    return [center[k] - heights[k] / 2 - top + _MARGIN for k in range(n)]


def _escape(text: str) -> str:
    """Text for XML and HTML: &, < and > (and quotes, for attributes) as entities."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _svg(g: Graph) -> str:
    boxes = [_box_lines(g, n) for n in g.nodes]
    widths = [max(48.0, max(len(t) for t, _ in b) * _CHAR_W + 2 * _PAD_X) for b in boxes]
    heights = [len(b) * _LINE_H + 2 * _PAD_Y for b in boxes]
    column_width: dict[int, float] = {}
    for n in g.nodes:
        column_width[n.layer] = max(column_width.get(n.layer, 0.0), widths[n.id])
    column_x, x = {}, _MARGIN
    for lay in sorted(column_width):
        column_x[lay] = x
        x += column_width[lay] + _GAP_X
    width = x - _GAP_X + _MARGIN
    tops = _place(g, heights)
    lefts = [column_x[n.layer] + (column_width[n.layer] - widths[n.id]) / 2 for n in g.nodes]
    height = max(t + h for t, h in zip(tops, heights)) + _MARGIN
    title = f"Computational graph of {g.root.label}: {len(g.nodes)} nodes, {len(g.edges)} edges"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, '
        f'Consolas, monospace" font-size="12">',
        f"<title>{_escape(title)}</title>",
        "<style>.t{font-weight:bold}.s{fill:#555}.v{fill:#111}.g{fill:#b3261e}"
        ".e{fill:none;stroke:#666;stroke-width:1.2}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker>'
        "</defs>",
    ]
    into: dict[int, list[Edge]] = {}
    for e in g.edges:
        into.setdefault(e.dst, []).append(e)
    slots = {d: len(es) for d, es in into.items()}
    rank: dict[Edge, int] = {}
    for es in into.values():
        for k, e in enumerate(sorted(es, key=lambda e: e.slot)):
            rank[e] = k
    out.append('<g class="edges">')
    for e in g.edges:
        x1 = lefts[e.src] + widths[e.src]
        y1 = tops[e.src] + heights[e.src] / 2
        x2 = lefts[e.dst]
        y2 = tops[e.dst] + heights[e.dst] * (rank[e] + 1) / (slots[e.dst] + 1)
        dx = max(24.0, (x2 - x1) / 2)
        out.append(f'<path class="e" d="M{x1:.1f},{y1:.1f} C{x1 + dx:.1f},{y1:.1f} '
                   f'{x2 - dx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>')
    out.append("</g>")
    out.append('<g class="nodes">')
    for n, lines in zip(g.nodes, boxes):
        x, y = lefts[n.id], tops[n.id]
        stroke = ' stroke-width="2.5"' if n.id == len(g.nodes) - 1 else ""
        out.append(f'<g id="n{n.id}"><rect x="{x:.1f}" y="{y:.1f}" width="{widths[n.id]:.1f}" '
                   f'height="{heights[n.id]:.1f}" rx="5" fill="{_FILL[n.kind]}" stroke="#444"'
                   f"{stroke}/>")
        for k, (text, cls) in enumerate(lines):
            ty = y + _PAD_Y + (k + 0.78) * _LINE_H
            out.append(f'<text x="{x + _PAD_X:.1f}" y="{ty:.1f}" class="{cls}" '
                       f'xml:space="preserve">{_escape(text)}</text>')
        out.append("</g>")
    out.append("</g>\n</svg>\n")
    return "\n".join(out)


# ---------------------------------------------------------------------------- explain_backward
def explain_backward(y: Tensor, *, show_values: bool = False, file: TextIO | None = None,
                     names: Mapping[str, Any] | None = None) -> list[Step]:
    """Print the backward pass of ``y`` edge by edge, in reverse topological order (from ``y``
    back to the inputs): for each input of each op,
    upstream gradient x local derivative = downstream gradient.

    Scalars (0-d tensors) are printed in full, arrays by their shape (their elements, four
    significant digits, with ``show_values=True``).  Where a tensor feeds several ops, its shares
    are added up in one more line once the last one arrived.  The local derivative is printed as a
    number or an array for element-wise ops and one-element tensors; for others (matmul, sum, ...)
    it is a Jacobian, applied by the op's backward, and printed as such.

    The pass is computed on the side, as :func:`graph` does: no ``.grad`` changes and the graph is
    not released.  ``names`` labels tensors as in :func:`graph`; others are "#id op", the ids of
    ``graph(y, collapse=False)``.  Returns the steps as :class:`Step` data.
    """
    if not isinstance(y, Tensor) or not y.requires_grad:
        raise RuntimeError(
            "explain_backward: y does not require grad and has no graph; create the inputs with "
            "requires_grad=True and compute y outside no_grad()")
    file = sys.stdout if file is None else file
    order = _walk(y, "explain_backward")
    names_of = _labels(order, names)
    label = [names_of[i] if names_of[i] is not None else
             f"#{i} {t._ctx.name if t._ctx is not None else _leaf_kind(t)}"
             for i, t in enumerate(order)]
    edges_into = Counter()  # how many shares each tensor will receive
    for t in order:
        if t._ctx is not None:
            for p in t._ctx.parents:
                if p is not None and p.requires_grad:
                    edges_into[p] += 1
    index = {t: i for i, t in enumerate(order)}
    received: dict[int, list[np.ndarray]] = {}
    steps: list[Step] = []
    lines: list[str] = []
    current = [-1]
    root = len(order) - 1
    lines.append(f"backward of {label[root]}: upstream gradient x local derivative = "
                 "downstream gradient, from the output back to the inputs")
    lines.append(f"d {label[root]} / d {label[root]} = {_array_text(_seed(y), show_values)}"
                 + ("" if y.data.size == 1 else " (ones: the gradient of the sum)"))

    def visit(i: int, slot: int, j: int, upstream: np.ndarray, share: np.ndarray) -> None:
        t, p = order[i], order[j]
        fn = t._ctx
        if current[0] != i:
            current[0] = i
            ins = ", ".join(label[index[q]] if q is not None else "constant" for q in fn.parents)
            lines.append(f"{label[i]} = {fn.name}({ins}): upstream "
                         f"{_array_text(upstream, show_values)}")
        local = None
        scalars = t.data.size == 1 and p.data.size == 1
        if fn.elementwise or scalars:
            local = np.asarray(fn.backward(np.ones_like(upstream))[slot])
            if scalars:
                local = local.reshape(p.data.shape)
        if local is None:
            middle = f"Jacobian of {fn.name} [{_shape(t.data.shape)} by {_shape(p.data.shape)}]"
        else:
            middle = _array_text(local, show_values)
        text = (f"  -> {label[j]}: {_array_text(upstream, show_values)} x {middle} = "
                f"{_array_text(share, show_values)}")
        if local is not None and np.shape(local) != p.data.shape:
            text += ", summed over the broadcast axes"
        lines.append(text)
        shares = received.setdefault(j, [])
        shares.append(share)
        total = None
        if len(shares) == edges_into[p]:
            total = shares[0]
            for s in shares[1:]:
                total = total + s
            if len(shares) > 1:
                parts = " + ".join(_array_text(s, show_values) for s in shares)
                lines.append(f"  = {label[j]} is used {len(shares)} times, its shares add up: "
                             f"{parts} = {_array_text(total, show_values)}")
        steps.append(Step(i, fn.name, j, slot, label[i], label[j], np.array(upstream),
                          None if local is None else np.array(local), np.array(share),
                          None if total is None else np.array(total), text))

    _side_backward(order, _seed(y), visit)
    print("\n".join(lines), file=file)
    return steps


__all__ = ["AUTO_COLLAPSE", "CHAIN_MIN", "Edge", "Graph", "Node", "SMALL", "Step", "Summary",
           "explain_backward", "graph"]
