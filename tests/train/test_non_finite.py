"""nan/inf at the door of the Trainer (issue 9.1): array inputs and targets are checked once per
call, and the error names where the first non-finite value is."""

from __future__ import annotations

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn, optim
from neuralab.train import Trainer


def trainer():
    nl.seed(0)
    model = nn.Sequential([nn.Dense(4, activation="relu", input_dim=3), nn.Dense(1)])
    return Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01))


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=(20, 1))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_refuses_non_finite_inputs_and_targets(bad):
    x, y = data()
    x[7, 2] = bad
    with pytest.raises(ValueError, match=r"fit got 1 non-finite value\(s\) in the inputs, the "
                                         r"first .* at index \(7, 2\)"):
        trainer().fit(x, y, epochs=1, verbose=0)
    x, y = data()
    y[[4, 9], 0] = bad
    with pytest.raises(ValueError, match=r"fit got 2 non-finite value\(s\) in the targets.*"
                                         r"index \(4, 0\)"):
        trainer().fit(x, y, epochs=1, verbose=0)
    x, y = data()
    xv = x.copy()
    xv[0, 0] = bad
    with pytest.raises(ValueError, match=r"validation_data got 1 non-finite"):
        trainer().fit(x, y, validation_data=(xv, y), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate got 1 non-finite"):
        trainer().evaluate(xv, y)
    with pytest.raises(ValueError, match=r"predict got 1 non-finite"):
        trainer().predict(xv)


def test_float64_beyond_float32_is_refused_not_turned_into_inf():
    x, y = data()
    x = x.astype(np.float64)
    x[3, 1] = 1e300  # finite in float64, inf once converted to float32 for training
    with pytest.raises(ValueError, match=r"in the inputs, the first inf at index \(3, 1\)"):
        trainer().fit(x, y, epochs=1, verbose=0)


def test_finite_data_with_a_float32_sum_beyond_range_is_accepted():
    # the cheap test sums in float64, so large finite values are not mistaken for inf
    x = np.full((4, 3), 3e38, np.float32)
    y = np.zeros((4, 1), np.float32)
    t = trainer()
    with np.errstate(over="ignore", invalid="ignore"):
        t.fit(x, y, epochs=1, verbose=0, batch_size=4)


def test_huge_finite_inputs_whose_sum_overflows_are_accepted():
    """The check sums the data in its own dtype: a float32 sum of values near float32's maximum
    overflows to inf, and that alone must not refuse finite data."""
    from neuralab.train.trainer import _check_finite

    x = np.full((40, 3), 3e38, dtype=np.float32)
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.sum(x))
    _check_finite(x, "the inputs", "fit")  # no error
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 non-finite value\(s\) in the inputs, the first nan "
                                         r"at index \(5, 1\)"):
        _check_finite(x, "the inputs", "fit")
