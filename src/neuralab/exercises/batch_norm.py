"""batch-norm: training and evaluation forward passes and the running statistics against
neuralab.nn.BatchNorm (its fused op, in float64), the backward against central differences."""

from __future__ import annotations

import numpy as np

import neuralab as nl

from ..nn.normalization import BatchNormOp
from .compare import as_array, central_differences, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("batch-norm", "batch normalization, training vs evaluation", "배치 정규화", 3,
                    ("batchnorm_forward", "batchnorm_backward"))
N, D, MOMENTUM, EPS = 8, 3, 0.1, 1e-5


def _data(seed: int) -> tuple[np.ndarray, ...]:
    r = rng(seed)
    x = r.normal(loc=r.normal(scale=3, size=D), scale=r.uniform(0.5, 3, size=D), size=(N, D))
    return x, r.uniform(0.5, 2, size=D), r.normal(size=D), r.normal(size=D), \
        r.uniform(0.5, 2, size=D)


def _reference(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
               var: np.ndarray, training: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """nn.BatchNorm's op in float64: (y, running mean, running var) after one call."""
    mean, var = mean.copy(), var.copy()
    y = BatchNormOp.apply(nl.tensor(x, dtype=np.float64), nl.tensor(gamma, dtype=np.float64),
                          nl.tensor(beta, dtype=np.float64), running_mean=mean, running_var=var,
                          momentum=MOMENTUM, eps=EPS, training=training)
    return y.data, mean, var


def _forward(s: Student, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: dict,
             training: bool) -> tuple[np.ndarray, object]:
    y, cache = s.call("batchnorm_forward", x, gamma, beta, state, training=training,
                      momentum=MOMENTUM, eps=EPS, returns=2, copy=False)
    return as_array(y, "y", x.shape), cache


def _state(mean: np.ndarray, var: np.ndarray) -> dict:
    return {"mean": mean.copy(), "var": var.copy()}


@exercise.check("train-normalizes", "training output against nn.BatchNorm's",
                "the statistics are per feature, over the batch: mean and variance along "
                "axis 0 (the rows), the biased variance")
def _train(s: Student) -> None:
    _output(s, 110, True, "y in training")


def _output(s: Student, seed: int, training: bool, what: str) -> None:
    x, gamma, beta, mean, var = _data(seed)
    expected, _, _ = _reference(x, gamma, beta, mean, var, training)
    expect_close(_forward(s, x, gamma, beta, _state(mean, var), training)[0], expected, what,
                 atol=1e-9)


@exercise.check("running-stats", "a training step moves the running statistics as nn.BatchNorm",
                "running = (1 - momentum) running + momentum batch statistic (momentum is the "
                "weight of the new batch), with the unbiased variance",
                requires=("train-normalizes",))
def _running(s: Student) -> None:
    x, gamma, beta, mean, var = _data(111)
    _, ref_mean, ref_var = _reference(x, gamma, beta, mean, var, True)
    state = _state(mean, var)
    _forward(s, x, gamma, beta, state, True)
    expect_close(state.get("mean"), ref_mean, 'state["mean"] after training', atol=1e-10)
    expect_close(state.get("var"), ref_var, 'state["var"] after training', atol=1e-10)


@exercise.check("eval-running-stats", "evaluation output uses the running statistics",
                "batch norm using batch statistics at evaluation: there a prediction must not "
                "depend on the other rows; normalize with state's mean and var")
def _eval(s: Student) -> None:
    _output(s, 112, False, "y at evaluation")


@exercise.check("eval-leaves-state", "evaluation leaves the running statistics alone",
                "only training batches update the running statistics")
def _eval_state(s: Student) -> None:
    x, gamma, beta, mean, var = _data(113)
    state = _state(mean, var)
    _forward(s, x, gamma, beta, state, False)
    for key, before in (("mean", mean), ("var", var)):
        if not np.array_equal(np.asarray(state.get(key)), before):
            raise Fail(f'state["{key}"] changed in evaluation mode')


def _backward(s: Student, seed: int) -> tuple[tuple, list[np.ndarray]]:
    x, gamma, beta, mean, var = _data(seed)
    dy = rng(seed + 1).normal(size=(N, D))
    _, cache = _forward(s, x, gamma, beta, _state(mean, var), True)
    got = s.call("batchnorm_backward", dy, cache, returns=3)
    numeric = central_differences(
        lambda a, g, b: np.sum(_reference(a, g, b, mean, var, True)[0] * dy), x, gamma, beta)
    return got, numeric


@exercise.check("backward-dx", "dx against central differences",
                "x enters the batch mean and variance too: besides dy * gamma / std, dx has "
                "terms through mu and var (they make dx sum to zero over the batch)",
                requires=("train-normalizes",))
def _dx(s: Student) -> None:
    got, numeric = _backward(s, 114)
    expect_close(got[0], numeric[0], "dx", atol=1e-6, rtol=1e-4)


@exercise.check("backward-dgamma-dbeta", "dgamma and dbeta against central differences",
                "gamma and beta are shared by every row: their gradients add up over the "
                "batch (sums, not means)", requires=("train-normalizes",))
def _dgamma(s: Student) -> None:
    got, numeric = _backward(s, 116)
    expect_close(got[1], numeric[1], "dgamma", atol=1e-6, rtol=1e-4)
    expect_close(got[2], numeric[2], "dbeta", atol=1e-6, rtol=1e-4)
