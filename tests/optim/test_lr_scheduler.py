"""Learning-rate schedules against torch.optim.lr_scheduler step by step; their closed forms."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import neuralab as nl
from neuralab import optim
from neuralab.optim import lr_scheduler as ls

BASE_LRS = (0.1, 0.02)
EPOCHS = 40


def optimizers():
    """Ours and PyTorch's SGD with two param groups of different initial rates."""
    a, b = (nl.tensor(np.zeros(2), requires_grad=True) for _ in range(2))
    ours = optim.SGD([{"params": [a], "lr": BASE_LRS[0]}, {"params": [b], "lr": BASE_LRS[1]}],
                     lr=1.0, momentum=0.9)
    ta, tb = (torch.zeros(2, requires_grad=True) for _ in range(2))
    theirs = torch.optim.SGD(
        [{"params": [ta], "lr": BASE_LRS[0]}, {"params": [tb], "lr": BASE_LRS[1]}],
        lr=1.0, momentum=0.9,
    )
    return ours, theirs


def lambda_a(epoch):
    return 1.0 / (1.0 + 0.3 * epoch)


def lambda_b(epoch):
    return 0.95**epoch if epoch < 10 else 0.5


def torch_warmup_cosine(opt, T_max, warmup, eta_min=0.0):
    w = tls.LinearLR(opt, start_factor=1 / (warmup + 1), end_factor=1.0, total_iters=warmup)
    c = tls.CosineAnnealingLR(opt, T_max=T_max - warmup, eta_min=eta_min)
    return tls.SequentialLR(opt, [w, c], milestones=[warmup])


# name: (our factory, PyTorch factory)
CASES = {
    "step": (lambda o: optim.StepLR(o, step_size=7, gamma=0.5),
             lambda o: tls.StepLR(o, step_size=7, gamma=0.5)),
    "step-1": (lambda o: optim.StepLR(o, step_size=1, gamma=0.9),
               lambda o: tls.StepLR(o, step_size=1, gamma=0.9)),
    "multistep": (lambda o: optim.MultiStepLR(o, milestones=[15, 3, 8, 8], gamma=0.3),
                  lambda o: tls.MultiStepLR(o, milestones=[15, 3, 8, 8], gamma=0.3)),
    "exponential": (lambda o: optim.ExponentialLR(o, gamma=0.9),
                    lambda o: tls.ExponentialLR(o, gamma=0.9)),
    "cosine": (lambda o: optim.CosineAnnealingLR(o, T_max=12),
               lambda o: tls.CosineAnnealingLR(o, T_max=12)),
    "cosine-eta_min": (lambda o: optim.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
                       lambda o: tls.CosineAnnealingLR(o, T_max=15, eta_min=0.001)),
    "cosine-warmup": (lambda o: optim.CosineAnnealingLR(o, T_max=30, warmup_epochs=5),
                      lambda o: torch_warmup_cosine(o, 30, 5)),
    "cosine-warmup-eta_min": (
        lambda o: optim.CosineAnnealingLR(o, T_max=25, eta_min=0.005, warmup_epochs=1),
        lambda o: torch_warmup_cosine(o, 25, 1, eta_min=0.005),
    ),
    "lambda": (lambda o: optim.LambdaLR(o, lambda_a), lambda o: tls.LambdaLR(o, lambda_a)),
    "lambda-per-group": (lambda o: optim.LambdaLR(o, [lambda_a, lambda_b]),
                         lambda o: tls.LambdaLR(o, [lambda_a, lambda_b])),
}


def stepped(make, opt, epochs=EPOCHS):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's SequentialLR warns about its own internals
        sched = make(opt)
        rates = [list(sched.get_last_lr())]
        groups = [[g["lr"] for g in opt.param_groups]]
        for _ in range(epochs - 1):
            sched.step()
            rates.append(list(sched.get_last_lr()))
            groups.append([g["lr"] for g in opt.param_groups])
    return sched, np.array(rates, dtype=np.float64), np.array(groups, dtype=np.float64)


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_matches_torch_step_by_step(name):
    ours_make, torch_make = CASES[name]
    ours_opt, torch_opt = optimizers()
    sched, ours, ours_groups = stepped(ours_make, ours_opt)
    _, theirs, theirs_groups = stepped(torch_make, torch_opt)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ours, ours_groups)  # the optimizer really got these rates
    np.testing.assert_allclose(theirs_groups, ours_groups, rtol=1e-12, atol=1e-15)
    assert len(np.unique(ours[:, 0])) > 3  # the schedule moved

    # closed form: lr_at and lr_curve reproduce the stepped rates
    for group, base in enumerate(BASE_LRS):
        if name == "lambda-per-group":
            closed = [sched.lr_at(e, group=group) for e in range(EPOCHS)]
        else:
            closed = [sched.lr_at(e, base_lr=base) for e in range(EPOCHS)]
        np.testing.assert_allclose(closed, ours[:, group], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(optim.lr_curve(sched, EPOCHS), ours[:, 0], rtol=1e-12, atol=1e-15)


def test_lr_curve_from_a_name_or_class():
    curve = optim.lr_curve("cosine", 11, lr=0.1, T_max=10, warmup_epochs=2)
    expected = [0.1 / 3, 0.2 / 3] + [0.05 * (1 + math.cos(math.pi * k / 8)) for k in range(9)]
    np.testing.assert_allclose(curve, expected, rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(optim.lr_curve(optim.StepLR, 5, step_size=2), [1, 1, 0.1, 0.1, 0.01])
    with pytest.raises(TypeError, match="no closed form"):
        optim.lr_curve("plateau", 5)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        optim.lr_curve("linear", 5)


PLATEAU_CASES = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=0, factor=0.5, cooldown=2),
    dict(patience=1, factor=0.3, threshold=0.05, threshold_mode="abs"),
    dict(patience=1, factor=0.5, threshold=0.01, threshold_mode="rel", cooldown=1),
    dict(patience=1, factor=0.2, min_lr=[0.005, 0.0015]),
    dict(patience=0, factor=0.5, min_lr=0.01, eps=1e-3),
    dict(mode="max", patience=2, factor=0.5),
    dict(mode="max", patience=1, factor=0.5, threshold=0.02, threshold_mode="abs", cooldown=3),
]


def _metrics(mode, n=60, seed=0):
    """A loss curve that improves, flattens and wobbles (negated for mode='max')."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 1.0 / (1 + 0.3 * t) + 0.3 + 0.02 * rng.standard_normal(n)
    values[20:30] = values[19]  # an exact plateau
    return list(values if mode == "min" else -values)


def _case_id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults"


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=_case_id)
def test_reduce_on_plateau_matches_torch(kwargs):
    ours_opt, torch_opt = optimizers()
    ours = optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = tls.ReduceLROnPlateau(torch_opt, **kwargs)
    reductions = 0
    for value in _metrics(kwargs.get("mode", "min")):
        before = ours.get_last_lr()
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in ours_opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter
        )
        reductions += ours.get_last_lr() != before
    assert reductions >= 1


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt, _ = optimizers()
    sched = optim.ReduceLROnPlateau(opt, patience=0)
    sched.step(nl.tensor(1.0))
    sched.step(nl.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.02 * 0.1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_state_dict_round_trip(name):
    make = CASES[name][0]
    opt, _ = optimizers()
    _, full, _ = stepped(make, opt)

    opt1, _ = optimizers()
    sched1 = make(opt1)
    for _ in range(9):
        sched1.step()
    sd = json.loads(json.dumps(sched1.state_dict()))
    opt_sd = opt1.state_dict()

    opt2, _ = optimizers()
    sched2 = make(opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    rates = [sched2.get_last_lr()]
    for _ in range(EPOCHS - 10):
        sched2.step()
        rates.append(sched2.get_last_lr())
    np.testing.assert_array_equal(np.array(rates), full[9:])


def test_plateau_state_dict_round_trip():
    metrics = _metrics("min")
    opt, _ = optimizers()
    sched = optim.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    for v in metrics:
        sched.step(v)
    opt1, _ = optimizers()
    sched1 = optim.ReduceLROnPlateau(opt1, patience=1, factor=0.5, cooldown=1)
    for v in metrics[:25]:
        sched1.step(v)
    sd, opt_sd = json.loads(json.dumps(sched1.state_dict())), opt1.state_dict()
    opt2, _ = optimizers()
    sched2 = optim.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    for v in metrics[25:]:
        sched2.step(v)
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert (sched2.best, sched2.num_bad_epochs, sched2.last_epoch) == (
        sched.best, sched.num_bad_epochs, sched.last_epoch
    )


def test_a_second_schedule_shares_the_initial_rates():
    opt, _ = optimizers()
    optim.StepLR(opt, step_size=1, gamma=0.5).step()
    assert opt.lr == 0.05
    second = optim.ExponentialLR(opt, gamma=0.5)
    assert second.base_lrs == list(BASE_LRS)
    assert opt.lr == 0.1


def test_schedule_errors():
    opt, torch_opt = optimizers()
    with pytest.raises(TypeError, match="expected a neuralab Optimizer, got SGD"):
        optim.StepLR(torch_opt, step_size=2)
    with pytest.raises(ValueError, match="positive integer for `step_size`, got 0"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="`warmup_epochs` < T_max = 5, got 5"):
        optim.CosineAnnealingLR(opt, T_max=5, warmup_epochs=5)
    with pytest.raises(ValueError, match=r"`factor` in \[0, 1\), got 1.5"):
        optim.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="`mode` 'min' or 'max', got 'minimum'"):
        optim.ReduceLROnPlateau(opt, mode="minimum")
    with pytest.raises(ValueError, match="expected 2 functions"):
        optim.LambdaLR(opt, [lambda_a])
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        ls.get("warmup", opt)
    assert isinstance(ls.get("Cosine", opt, T_max=3), optim.CosineAnnealingLR)
    assert isinstance(ls.get("multi_step", opt, milestones=[2]), optim.MultiStepLR)
