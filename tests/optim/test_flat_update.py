"""The flat-buffer update path (Optimizer._step_flat) must give exactly the per-parameter numbers,
fall back when a group does not qualify, and survive .data being replaced or state being loaded."""

import numpy as np
import pytest

import neuralab as nl
from neuralab import optim


def make_params(rng):
    return [
        nl.tensor(rng.standard_normal((5, 7)), requires_grad=True),
        nl.tensor(rng.standard_normal(7), requires_grad=True),
        nl.tensor(rng.standard_normal((7, 3)), requires_grad=True),
    ]


def loss_of(params, x, t):
    w1, b1, w2 = params
    return ((nl.tanh(nl.linear(x, w1, b1)) @ w2 - t) ** 2).mean()


def run(cls, kwargs, flat, steps=30, skip_at=None, rebind_at=None):
    rng = np.random.default_rng(0)
    params = make_params(rng)
    x, t = rng.standard_normal((8, 5)), rng.standard_normal((8, 3))
    opt = cls(params, **kwargs)
    opt._flat_update = flat
    for i in range(steps):
        opt.zero_grad()
        loss_of(params, x, t).backward()
        if i == skip_at:
            params[1].grad = None  # one parameter without gradient this step
        if i == rebind_at:
            params[0].data = params[0].data * 0.5  # replaced, not updated in place
        opt.step()
    return [p.data.copy() for p in params], opt


CASES = [
    (optim.Adam, {"lr": 0.01}),
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.RMSProp, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    (optim.AdaGrad, {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("cls,kwargs", CASES)
@pytest.mark.parametrize("events", [{}, {"skip_at": 10}, {"rebind_at": 12}])
def test_flat_path_equals_per_parameter_path(cls, kwargs, events):
    flat, opt = run(cls, kwargs, flat=True, **events)
    plain, _ = run(cls, kwargs, flat=False, **events)
    for a, b in zip(flat, plain):
        np.testing.assert_array_equal(a, b)
    if not events:
        assert opt._flat, "a fully-populated group should take the flat path"


def test_state_dict_of_flat_optimizer_round_trips():
    full, _ = run(optim.Adam, {"lr": 0.01}, flat=True, steps=20)
    rng = np.random.default_rng(0)
    params = make_params(rng)
    x, t = rng.standard_normal((8, 5)), rng.standard_normal((8, 3))
    opt = optim.Adam(params, lr=0.01)
    for _ in range(10):
        opt.zero_grad()
        loss_of(params, x, t).backward()
        opt.step()
    saved = opt.state_dict()
    opt2 = optim.Adam(params, lr=0.01)
    opt2.load_state_dict(saved)
    for _ in range(10):
        opt2.zero_grad()
        loss_of(params, x, t).backward()
        opt2.step()
    for a, p in zip(full, params):
        np.testing.assert_array_equal(a, p.data)
    # the per-parameter state entries are the optimizer's live state, shaped like the parameters
    st = opt2.state_dict()["state"]["0"]
    assert st["step"] == 20 and st["exp_avg"].shape == params[0].shape
