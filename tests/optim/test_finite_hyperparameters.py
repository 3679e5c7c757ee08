"""Non-finite hyperparameters are refused where an optimizer gets them (issue 9.1: `--lr inf`
trained to all-NaN weights and exited 0)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuralab import optim, tensor

# every numeric hyperparameter of every optimizer, with a valid value to start from
CASES = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0}),
    (optim.Adam, {"lr": 1e-3, "eps": 1e-8, "weight_decay": 0.0}),
    (optim.AdamW, {"lr": 1e-3, "eps": 1e-8, "weight_decay": 0.01}),
    (optim.RMSProp, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                     "momentum": 0.0}),
    (optim.AdaGrad, {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0,
                     "initial_accumulator_value": 0.0, "eps": 1e-10}),
]


def params():
    return [tensor(np.ones((2, 3), np.float32), requires_grad=True)]


@pytest.mark.parametrize("cls, valid", CASES, ids=[c.__name__ for c, _ in CASES])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_every_non_finite_hyperparameter_is_refused_at_construction(cls, valid, bad):
    cls(params(), **valid)  # the valid settings are accepted
    for key in valid:
        with pytest.raises(ValueError, match=rf"{cls.__name__} expected .*`{key}`"):
            cls(params(), **{**valid, key: bad})


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_non_finite_betas_are_refused(cls):
    with pytest.raises(ValueError, match=r"betas"):
        cls(params(), betas=(0.9, math.nan))


def test_non_finite_values_are_refused_in_groups_state_dicts_and_the_lr_setter():
    opt = optim.Adam(params(), lr=1e-3)
    with pytest.raises(ValueError, match="`lr`"):
        opt.lr = math.inf
    with pytest.raises(ValueError, match="`weight_decay`"):
        opt.add_param_group({"params": params(), "weight_decay": math.inf})
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = math.inf
    with pytest.raises(ValueError, match="`lr`"):
        opt.load_state_dict(state)
    assert opt.lr == 1e-3  # nothing was changed by the refused calls
    # an inf step would have made the weights non-finite: they stay as they were
    p = opt.params[0]
    p.grad = np.ones_like(p.data)
    opt.step()
    assert np.isfinite(p.data).all()
