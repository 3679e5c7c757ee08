"""Optimizers vs PyTorch: 100-step trajectories of a small MLP, state dicts, clipping, errors."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import optim

torch.set_num_threads(1)

# (our class, PyTorch class, keyword arguments) -- every option of every optimizer
CONFIGS = {
    "sgd": (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    "sgd-momentum": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    "sgd-dampening": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    "sgd-nesterov": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd-wd": (optim.SGD, torch.optim.SGD, dict(lr=0.1, weight_decay=0.05)),
    "sgd-nesterov-wd": (
        optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.02)
    ),
    "sgd-momentum-dampening-wd": (
        optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.01)
    ),
    "adagrad": (optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.05)),
    "adagrad-lr_decay": (optim.AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05)),
    "adagrad-init-wd-eps": (
        optim.AdaGrad, torch.optim.Adagrad,
        dict(lr=0.1, initial_accumulator_value=0.1, weight_decay=0.02, eps=1e-6),
    ),
    "rmsprop": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.005)),
    "rmsprop-alpha-eps": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.005, alpha=0.9, eps=1e-6)),
    "rmsprop-momentum": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.002, momentum=0.9)),
    "rmsprop-centered": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.002, centered=True)),
    "rmsprop-centered-momentum-wd": (
        optim.RMSProp, torch.optim.RMSprop,
        dict(lr=0.002, centered=True, momentum=0.5, weight_decay=0.01),
    ),
    "adam": (optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    "adam-betas-eps": (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "adam-wd": (optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.05)),
    "adam-amsgrad": (optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    "adamw": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    "adamw-wd": (optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    "adamw-amsgrad": (
        optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.05, amsgrad=True)
    ),
}

N_STEPS = 100
SHAPES = {"W1": (5, 16), "b1": (16,), "W2": (16, 3), "b2": (3,), "unused": (4,)}


def make_problem(dtype=np.float32, seed=0):
    """Initial weights and 4 fixed mini-batches of a 5-16-3 regression problem."""
    rng = np.random.default_rng(seed)
    weights = {k: (rng.standard_normal(s) * 0.5).astype(dtype) for k, s in SHAPES.items()}
    x = rng.standard_normal((32, 5)).astype(dtype)
    y = np.stack([np.sin(x[:, 0]) + x[:, 1], x[:, 2] * x[:, 3], np.cos(x[:, 4])], 1).astype(dtype)
    batches = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)]
    return weights, batches


def nl_loss(p, x, y):
    h = nl.tanh(nl.linear(x, p["W1"], p["b1"]))
    out = nl.linear(h, p["W2"], p["b2"])
    return ((out - y) ** 2).mean()


def torch_loss(p, x, y):
    h = torch.tanh(x @ p["W1"] + p["b1"])
    out = h @ p["W2"] + p["b2"]
    return ((out - y) ** 2).mean()


def nl_params(weights):
    return {k: nl.tensor(w.copy(), requires_grad=True, dtype=w.dtype) for k, w in weights.items()}


def nl_run(opt, params, batches, steps, start=0, scheduler_every=0, scheduler=None):
    for t in range(start, start + steps):
        x, y = batches[t % len(batches)]
        opt.zero_grad()
        nl_loss(params, x, y).backward()
        opt.step()
        if scheduler is not None and (t + 1) % scheduler_every == 0:
            scheduler.step()


def torch_trajectory(torch_cls, kwargs, weights, batches, steps, groups=None,
                     scheduler_fn=None, scheduler_every=0):
    params = {k: torch.tensor(w, requires_grad=True) for k, w in weights.items()}
    if groups is None:
        opt = torch_cls(list(params.values()), foreach=False, **kwargs)
    else:
        opt = torch_cls(
            [{**g, "params": [params[k] for k in g["params"]]} for g in groups],
            foreach=False, **kwargs,
        )
    sched = scheduler_fn(opt) if scheduler_fn else None
    for t in range(steps):
        x, y = batches[t % len(batches)]
        opt.zero_grad()
        torch_loss(params, torch.from_numpy(x), torch.from_numpy(y)).backward()
        opt.step()
        if sched is not None and (t + 1) % scheduler_every == 0:
            sched.step()
    return {k: v.detach().numpy() for k, v in params.items()}


def assert_close(ours, theirs, rtol):
    for k in theirs:
        a, b = ours[k].data, theirs[k]
        assert a.dtype == b.dtype, (k, a.dtype)
        # relative to the tensor's scale, so that entries passing through 0 do not dominate
        err = np.max(np.abs(a - b)) / np.max(np.abs(b))
        assert err <= rtol, f"{k}: relative error {err:.3g} > {rtol}"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_matches_torch_float32(name):
    ours_cls, torch_cls, kwargs = CONFIGS[name]
    weights, batches = make_problem(np.float32)
    params = nl_params(weights)
    opt = ours_cls(list(params.values()), **kwargs)
    nl_run(opt, params, batches, N_STEPS)
    expected = torch_trajectory(torch_cls, kwargs, weights, batches, N_STEPS)
    # the weights really moved, and the unused one (grad None) did not, and got no state
    assert np.max(np.abs(expected["W1"] - weights["W1"])) > 1e-2
    np.testing.assert_array_equal(params["unused"].data, weights["unused"])
    assert params["unused"] not in opt.state
    assert_close(params, expected, rtol=1e-5)
    for state in opt.state.values():
        assert state["step"] == N_STEPS
        for v in state.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_matches_torch_float64(name):
    ours_cls, torch_cls, kwargs = CONFIGS[name]
    weights, batches = make_problem(np.float64)
    params = nl_params(weights)
    opt = ours_cls(list(params.values()), **kwargs)
    nl_run(opt, params, batches, N_STEPS)
    expected = torch_trajectory(torch_cls, kwargs, weights, batches, N_STEPS)
    assert_close(params, expected, rtol=1e-10)


GROUP_CASES = {
    "sgd": (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9),
            [{"params": ["W1", "b1"], "lr": 0.1, "nesterov": True},
             {"params": ["W2", "b2", "unused"], "momentum": 0.5, "weight_decay": 0.01}]),
    "adam": (optim.Adam, torch.optim.Adam, dict(lr=0.01),
             [{"params": ["W1", "b1"], "betas": (0.8, 0.9)},
              {"params": ["W2", "b2", "unused"], "lr": 0.003, "amsgrad": True}]),
    "rmsprop": (optim.RMSProp, torch.optim.RMSprop, dict(lr=0.002),
                [{"params": ["W1", "b1"], "centered": True},
                 {"params": ["W2", "b2", "unused"], "momentum": 0.3}]),
}


@pytest.mark.parametrize("name", sorted(GROUP_CASES))
def test_param_groups_match_torch(name):
    ours_cls, torch_cls, kwargs, groups = GROUP_CASES[name]
    weights, batches = make_problem(np.float64)
    params = nl_params(weights)
    opt = ours_cls([{**g, "params": [params[k] for k in g["params"]]} for g in groups], **kwargs)
    nl_run(opt, params, batches, N_STEPS)
    expected = torch_trajectory(torch_cls, kwargs, weights, batches, N_STEPS, groups=groups)
    assert_close(params, expected, rtol=1e-10)


@pytest.mark.parametrize("name", ["sgd-momentum", "sgd-nesterov", "rmsprop-momentum", "adamw"])
def test_trajectory_with_step_schedule_matches_torch(name):
    # a changing lr is where PyTorch's momentum form and the book's differ
    ours_cls, torch_cls, kwargs = CONFIGS[name]
    weights, batches = make_problem(np.float64)
    params = nl_params(weights)
    opt = ours_cls(list(params.values()), **kwargs)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    nl_run(opt, params, batches, N_STEPS, scheduler=sched, scheduler_every=10)
    expected = torch_trajectory(
        torch_cls, kwargs, weights, batches, N_STEPS,
        scheduler_fn=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
        scheduler_every=10,
    )
    assert_close(params, expected, rtol=1e-10)


def test_lr_setter_changes_the_step():
    w = nl.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    opt.lr = 0.5
    assert opt.lr == 0.5 and opt.param_groups[0]["lr"] == 0.5
    w.grad = np.array([1.0, -1.0], dtype=np.float32)
    opt.step()
    np.testing.assert_allclose(w.data, [0.5, 2.5])
    with pytest.raises(ValueError, match=r"non-negative number for `lr`, got -1"):
        opt.lr = -1


def test_step_does_not_modify_gradients():
    weights, batches = make_problem()
    params = nl_params(weights)
    opt = optim.AdamW(list(params.values()), weight_decay=0.1)
    nl_loss(params, *batches[0]).backward()
    before = {k: p.grad.copy() for k, p in params.items() if p.grad is not None}
    opt.step()
    for k, g in before.items():
        np.testing.assert_array_equal(params[k].grad, g)


def test_zero_grad():
    weights, batches = make_problem()
    params = nl_params(weights)
    opt = optim.SGD(list(params.values()), lr=0.1)
    nl_loss(params, *batches[0]).backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is None or not p.grad.any() for p in params.values())
    assert params["W1"].grad is not None
    opt.zero_grad()
    assert all(p.grad is None for p in params.values())


def test_accepts_any_iterable_of_tensors():
    a = nl.tensor([1.0], requires_grad=True)
    b = nl.tensor([[2.0]], requires_grad=True)
    opt = optim.SGD((t for t in (a, b)), lr=0.1)
    assert opt.params == [a, b]


# ---------------------------------------------------------------------------- state dicts
def _is_plain(obj):
    """Only dicts with str keys, lists, str, bool, int, float, None and NumPy arrays."""
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_is_plain(v) for v in obj)
    return obj is None or isinstance(obj, (str, bool, int, float, np.ndarray))


def _json_round_trip(sd):
    def encode(o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(type(o))

    return json.loads(json.dumps(sd, default=encode))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_dict_round_trip_continues_exactly(name):
    ours_cls, _, kwargs = CONFIGS[name]
    weights, batches = make_problem()
    full = nl_params(weights)
    opt = ours_cls(list(full.values()), **kwargs)
    nl_run(opt, full, batches, N_STEPS)

    first = nl_params(weights)
    opt1 = ours_cls(list(first.values()), **kwargs)
    nl_run(opt1, first, batches, 37)
    sd = opt1.state_dict()
    assert _is_plain(sd)
    snapshot = {k: {n: np.copy(v) for n, v in s.items()} for k, s in sd["state"].items()}
    nl_run(opt1, first, batches, 5, start=37)  # stepping on must not change the snapshot
    for k, s in snapshot.items():
        for n, v in s.items():
            np.testing.assert_array_equal(sd["state"][k][n], v)

    # resume in a fresh optimizer (with other hyperparameters, overwritten by the load)
    resumed = {k: nl.tensor(first[k].data.copy(), requires_grad=True) for k in first}
    opt2 = ours_cls(list(resumed.values()), **{**kwargs, "lr": 123.0})
    opt2.load_state_dict(_json_round_trip(opt1.state_dict()))
    assert opt2.lr == kwargs["lr"]
    nl_run(opt2, resumed, batches, N_STEPS - 42, start=42)
    for k in full:
        np.testing.assert_array_equal(resumed[k].data, full[k].data)


def test_state_dict_through_safetensors():
    from safetensors.numpy import load, save

    weights, batches = make_problem()
    params = nl_params(weights)
    opt = optim.Adam(list(params.values()), lr=0.01, amsgrad=True)
    nl_run(opt, params, batches, 10)
    sd = opt.state_dict()
    arrays = {f"{i}.{k}": v for i, s in sd["state"].items() for k, v in s.items()
              if isinstance(v, np.ndarray)}
    rest = {"param_groups": sd["param_groups"],
            "steps": {i: s["step"] for i, s in sd["state"].items()}}
    arrays, rest = load(save(arrays)), json.loads(json.dumps(rest))
    state = {i: {"step": n} for i, n in rest["steps"].items()}
    for key, v in arrays.items():
        i, k = key.split(".")
        state[i][k] = v
    opt2 = optim.Adam([nl.tensor(p.data.copy(), requires_grad=True) for p in params.values()])
    opt2.load_state_dict({"state": state, "param_groups": rest["param_groups"]})
    for p, q in zip(opt.params, opt2.params):
        if p in opt.state:
            for k, v in opt.state[p].items():
                np.testing.assert_array_equal(opt2.state[q][k], v)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999) and opt2.param_groups[0]["amsgrad"]


def test_load_state_dict_rejects_mismatches():
    weights, batches = make_problem()
    params = nl_params(weights)
    opt = optim.Adam(list(params.values()))
    nl_run(opt, params, batches, 2)
    sd = opt.state_dict()
    fewer = optim.Adam([nl.tensor(np.ones(3), requires_grad=True)])
    with pytest.raises(ValueError, match="saved with 5 parameters"):
        fewer.load_state_dict(sd)
    other = [nl.tensor(np.ones(w.shape[::-1] + (1,)), requires_grad=True) for w in weights.values()]
    with pytest.raises(ValueError, match="has shape"):
        optim.Adam(other).load_state_dict(sd)
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        optim.SGD(list(nl_params(weights).values()), lr=0.1).load_state_dict(sd)


# ---------------------------------------------------------------------------- clipping
def _clip_setup(seed, scale):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    grads = [(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes]
    ours = [nl.tensor(np.zeros(s), requires_grad=True) for s in shapes]
    theirs = [torch.zeros(s, requires_grad=True) for s in shapes]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
    none = nl.tensor(np.zeros(2), requires_grad=True)  # no gradient: ignored
    return ours + [none], theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _clip_setup(1, 2.0)
    total = optim.clip_grad_norm(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected.item(), rtol=1e-6)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-6, atol=1e-7)
        assert o.grad.dtype == np.float32
    assert ours[-1].grad is None


def test_clip_grad_norm_nonfinite():
    ours, _ = _clip_setup(2, 1.0)
    ours[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="not finite"):
        optim.clip_grad_norm(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = _clip_setup(3, 2.0)
    optim.clip_grad_value(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad, t.grad.numpy())


# ---------------------------------------------------------------------------- errors, lookup
def test_errors():
    w = nl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"SGD expected a non-negative number for `lr`, got -0.1"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="Adam got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(2,\)\) does not require a grad"):
        optim.Adam([w, nl.tensor([1.0, 2.0])])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([w * 2])
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.Adam(w)
    with pytest.raises(TypeError, match="got ndarray at position 0"):
        optim.Adam([np.ones(2)])
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([w, w])
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\) for `betas\[1\]`, got 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"in \[0, 1\) for `alpha`"):
        optim.RMSProp([w], alpha=1.5)
    with pytest.raises(ValueError, match="unknown hyperparameters \\['momentum'\\]"):
        optim.Adam([{"params": [w], "momentum": 0.9}])
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamax' \(did you mean 'adam'\?\); expected one of"):
        optim.get("adamax", [w])


def test_get_by_name():
    w = nl.tensor([1.0], requires_grad=True)
    assert type(optim.get("Adam", [w], lr=0.1)) is optim.Adam
    assert type(optim.get("adamw", [w])) is optim.AdamW
    assert type(optim.get("RMSProp", [w])) is optim.RMSProp
    assert type(optim.get("adagrad", [w])) is optim.AdaGrad
    assert optim.get("sgd", [w], lr=0.1).param_groups[0]["momentum"] == 0
    nesterov = optim.get("nesterov", [w], lr=0.1)
    assert nesterov.param_groups[0]["momentum"] == 0.9 and nesterov.param_groups[0]["nesterov"]
    assert optim.get(optim.SGD, [w], lr=0.1).lr == 0.1


# ---------------------------------------------------------------------------- hot path
@pytest.mark.parametrize("name", ["sgd-nesterov-wd", "adagrad-init-wd-eps",
                                  "rmsprop-centered-momentum-wd", "adam-amsgrad", "adamw"])
def test_step_allocates_nothing_after_the_first(name):
    ours_cls, _, kwargs = CONFIGS[name]
    rng = np.random.default_rng(0)
    params = [nl.tensor(rng.standard_normal(s), requires_grad=True) for s in [(300, 200), (200,)]]
    for p in params:
        p.grad = rng.standard_normal(p.shape).astype(np.float32)
    opt = ours_cls(params, **kwargs)
    opt.step()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the largest parameter is 240 kB: any temporary array would show up
    assert peak - base < 20_000, f"a step allocated {peak - base} bytes"
    assert all(p.data.dtype == np.float32 for p in params)


def test_repr_and_closure():
    w = nl.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)
    assert "SGD" in repr(opt) and "lr=0.25" in repr(opt)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.data, [1.5])


def test_buffer_pool_grows_with_a_new_group():
    a = nl.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    a.grad = np.ones(3, dtype=np.float32)
    opt.step()
    b = nl.tensor(np.ones((50, 4)), requires_grad=True)
    opt.add_param_group({"params": [b], "lr": 0.2})
    b.grad = np.ones((50, 4), dtype=np.float32)
    opt.step()
    # Adam's first step moves every weight by lr (sign of the gradient)
    np.testing.assert_allclose(b.data, 0.8, rtol=1e-6)
    np.testing.assert_allclose(a.data, 0.8, rtol=1e-6)


# ---------------------------------------------------------------------------- the book's forms
# The lecture's book (Deep Learning from Scratch, common/optimizer.py) written out in NumPy on a
# quadratic bowl; the docstrings claim which of its rules equal PyTorch's and which do not.
_A = np.diag([1.0, 10.0])


def _run_ours(opt_cls, steps=30, **kwargs):
    w = nl.tensor([1.0, 1.0], requires_grad=True, dtype=np.float64)
    opt = opt_cls([w], **kwargs)
    for _ in range(steps):
        w.grad = _A @ w.data
        opt.step()
    return w.data


def _run_book(update, steps=30):
    x, state = np.array([1.0, 1.0]), {}
    for t in range(1, steps + 1):
        update(x, _A @ x, state, t)
    return x


def test_book_momentum_adagrad_rmsprop_equal_ours():
    lr, mu = 0.05, 0.9

    def momentum(x, g, s, t):
        s["v"] = mu * s.get("v", 0.0) - lr * g
        x += s["v"]

    def adagrad(x, g, s, t):
        s["h"] = s.get("h", 0.0) + g * g
        x -= lr * g / (np.sqrt(s["h"]) + 1e-7)

    def rmsprop(x, g, s, t):
        s["h"] = 0.99 * s.get("h", 0.0) + 0.01 * g * g
        x -= lr * g / (np.sqrt(s["h"]) + 1e-7)

    np.testing.assert_allclose(_run_ours(optim.SGD, lr=lr, momentum=mu), _run_book(momentum),
                               rtol=1e-12)
    np.testing.assert_allclose(_run_ours(optim.AdaGrad, lr=lr, eps=1e-7), _run_book(adagrad),
                               rtol=1e-12)
    np.testing.assert_allclose(_run_ours(optim.RMSProp, lr=lr, alpha=0.99, eps=1e-7),
                               _run_book(rmsprop), rtol=1e-12)


def test_book_nesterov_and_adam_differ_from_ours():
    lr, mu = 0.05, 0.9

    def book_nesterov(x, g, s, t):
        s["v"] = mu * s.get("v", 0.0) - lr * g
        x += mu * mu * s["v"] - (1 + mu) * lr * g

    def bengio_nesterov(x, g, s, t):  # mu^2 times the velocity *before* this step's update
        v_old = s.get("v", 0.0)
        s["v"] = mu * v_old - lr * g
        x += mu * mu * v_old - (1 + mu) * lr * g

    ours = _run_ours(optim.SGD, lr=lr, momentum=mu, nesterov=True)
    np.testing.assert_allclose(ours, _run_book(bengio_nesterov), rtol=1e-12)
    assert np.max(np.abs(ours - _run_book(book_nesterov))) > 1e-3

    def book_adam(x, g, s, t, eps=1e-7):
        s["m"] = s.get("m", 0.0) + 0.1 * (g - s.get("m", 0.0))
        s["v"] = s.get("v", 0.0) + 0.001 * (g * g - s.get("v", 0.0))
        x -= 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * s["m"] / (np.sqrt(s["v"]) + eps)

    # equal without eps; the book's eps sits before the bias correction
    np.testing.assert_allclose(
        _run_ours(optim.Adam, lr=0.01, eps=0.0),
        _run_book(lambda x, g, s, t: book_adam(x, g, s, t, eps=0.0)), rtol=1e-12,
    )


def test_empty_parameter_list_of_a_lazy_model_says_why():
    # a model of lazy layers has no parameters before its first call: the error must say so
    # rather than only "pass the tensors"
    model = nl.nn.Sequential([nl.nn.Dense(4), nl.nn.Dense(1)])
    with pytest.raises(ValueError, match=r"empty parameter list.*built lazily.*input_dim"):
        optim.Adam(model.parameters())
