"""Initializers: empirical mean and variance on a large tensor against the formulas, the fan rule
against PyTorch's, lookup by name."""

import math

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.nn import init

SHAPE = (600, 400)  # 240 000 draws: the variance estimate is within about 0.3 % (1 sigma)
FAN_IN, FAN_OUT = SHAPE


def _check(w, mean, var):
    n = w.size
    assert w.dtype == np.float32 and w.shape == SHAPE
    # 5 sigma bounds: the sample mean has sd sqrt(var / n), the sample variance ~ var sqrt(2 / n)
    # (a uniform's is smaller), so a wrong formula fails and a right one essentially never does
    assert abs(w.mean(dtype=np.float64) - mean) < 5 * math.sqrt(var / n)
    assert abs(w.var(dtype=np.float64) - var) < 5 * var * math.sqrt(2 / n)


@pytest.mark.parametrize("fn, kwargs, mean, var", [
    (init.uniform, {}, 0.0, 0.1**2 / 12),
    (init.uniform, {"low": 1.0, "high": 3.0}, 2.0, 4 / 12),
    (init.normal, {}, 0.0, 0.05**2),
    (init.normal, {"mean": 1.0, "std": 0.01}, 1.0, 0.01**2),
    (init.xavier_uniform, {}, 0.0, 2 / (FAN_IN + FAN_OUT)),
    (init.xavier_uniform, {"gain": 2.0}, 0.0, 4 * 2 / (FAN_IN + FAN_OUT)),
    (init.xavier_normal, {}, 0.0, 2 / (FAN_IN + FAN_OUT)),
    (init.he_uniform, {}, 0.0, 2 / FAN_IN),
    (init.he_normal, {}, 0.0, 2 / FAN_IN),
    (init.lecun_uniform, {}, 0.0, 1 / FAN_IN),
    (init.lecun_normal, {}, 0.0, 1 / FAN_IN),
])
def test_moments_match_the_formula(fn, kwargs, mean, var):
    _check(fn(SHAPE, rng=0, **kwargs), mean, var)


@pytest.mark.parametrize("fn, limit", [
    (init.xavier_uniform, math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (init.he_uniform, math.sqrt(6 / FAN_IN)),
    (init.lecun_uniform, math.sqrt(3 / FAN_IN)),
])
def test_uniform_bounds(fn, limit):
    w = fn(SHAPE, rng=1)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # and the range is actually used


def test_constant_zeros_ones():
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones(4), np.ones(4))
    np.testing.assert_array_equal(init.constant((2, 2), 0.5), np.full((2, 2), 0.5))
    assert init.constant((2,), 1.0, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("ours, theirs", [
    ((5, 7), (7, 5)),  # dense: ours (in, out), torch.nn.Linear (out, in)
    ((8, 4, 3, 3), (8, 4, 3, 3)),  # conv weight: (out, in, kh, kw) in both (nn.Conv2D's layout)
    ((6, 2, 5, 3), (6, 2, 5, 3)),  # non-square kernel
    ((5, 3, 1, 1), (5, 3, 1, 1)),  # 1 x 1 convolution
    ((4, 2, 3), (4, 2, 3)),        # conv1d layout (out, in, k)
])
def test_fans_agree_with_torch(ours, theirs):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(theirs))
    assert init.fans(ours) == expected


def test_fans_of_vectors_and_scalars():
    assert init.fans(()) == (1, 1)
    assert init.fans((6,)) == (6, 6)


def test_torch_and_ours_use_the_same_scale():
    # torch's he_normal (kaiming_normal_, fan_in, relu) on the transposed layout: std sqrt(2/fan_in)
    w = torch.empty(FAN_OUT, FAN_IN)
    torch.manual_seed(0)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
    ours = init.he_normal(SHAPE, rng=0)
    np.testing.assert_allclose(ours.std(), w.std().item(), rtol=0.01)
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    torch.nn.init.xavier_uniform_(w)
    np.testing.assert_allclose(init.xavier_uniform(SHAPE, rng=0).max(), w.max().item(), rtol=0.01)
    assert w.abs().max().item() <= bound


def test_rng_seed_and_dtype():
    np.testing.assert_array_equal(init.he_normal((3, 4), rng=9), init.he_normal((3, 4), rng=9))
    nl.seed(1)
    a = init.normal((3,))
    nl.seed(1)
    np.testing.assert_array_equal(a, init.normal((3,)))
    assert init.xavier_normal((3, 4), dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="floating dtype"):
        init.he_normal((3, 4), dtype=np.int32)


def test_get_by_name_and_aliases():
    assert init.get("he_normal") is init.he_normal
    assert init.get("glorot_uniform") is init.xavier_uniform
    assert init.get("Kaiming-Normal") is init.he_normal
    assert init.get(init.zeros) is init.zeros
    with pytest.raises(ValueError) as info:
        init.get("he_norm")
    assert all(name in str(info.value) for name in init.names())
    assert init.name_of(init.lecun_normal) == "lecun_normal" and init.name_of(print) is None


def test_bad_shapes_and_arguments():
    with pytest.raises(ValueError, match="non-negative ints"):
        init.zeros((2, -1))
    with pytest.raises(ValueError, match="low < high"):
        init.uniform((2,), low=1, high=0)
    with pytest.raises(ValueError, match="fan is 0"):
        init.he_normal((0, 3))
