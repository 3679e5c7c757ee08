import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

import neuralab as nl
from neuralab import labs
from neuralab.labs import gradient_check


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradient-check")
    result, files = labs.run("gradient-check", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds
    assert {f.name for f in files} == {"gradient_check.png", "result.json", "summary.md"}
    assert (out / "gradient_check.png").stat().st_size > 10_000


def test_numerical_and_backprop_gradients_agree_with_torch(quick_run):
    result = quick_run[0]
    # 4-16-3: 4*16 + 16 + 16*3 + 3 weights
    assert result.n_params == 131 == len(result.grad_backprop)
    # the oracle: torch's autograd in float64 on the same weights and standardized iris
    X, y = load_iris(return_X_y=True)
    X = torch.tensor(StandardScaler().fit_transform(X).astype(np.float32), dtype=torch.float64)
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in result.weights.items()}
    h = torch.sigmoid(X @ w["0.weight"] + w["0.bias"])
    loss = torch.nn.functional.cross_entropy(h @ w["1.weight"] + w["1.bias"], torch.tensor(y))
    loss.backward()
    expected = torch.cat([w[k].grad.reshape(-1) for k in
                          ("0.weight", "0.bias", "1.weight", "1.bias")]).numpy()
    np.testing.assert_allclose(result.grad_backprop, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(result.grad_numeric, expected, rtol=1e-5, atol=1e-8)
    assert result.rel_error_norm["float64"] < 1e-7
    assert result.gradcheck_ok
    # in float32 the rounding of L divided by 2h dominates: orders of magnitude worse
    assert result.rel_error_norm["float32"] > 1e3 * result.rel_error_norm["float64"]


def test_every_seed_agrees_in_float64(quick_run):
    result = quick_run[0]
    assert [r.seed for r in result.per_seed] == list(gradient_check.Config.quick().seeds)
    # measured, seeds 0-9, SkylakeX / Haswell / Sandybridge: rel norm 4.5e-10 to 1.1e-9, max rel
    # (components above 1e-5) 2.5e-8 to 2.8e-6, max abs 2.2e-10 to 3.3e-10 (the rounding estimate
    # eps_64 |L| / h ~ 2e-10), float32 rel norm 2.5e-3 to 5.7e-3
    for r in result.per_seed:
        assert r.gradcheck_ok
        assert r.rel_error_norm_float64 < 1e-7 < gradient_check.REL_NORM_TOL
        assert r.max_rel_error_float64 < 1e-5 < gradient_check.MAX_REL_TOL
        assert r.max_abs_error_float64 < 1e-8
        # float32: the rounding of L divided by 2h, orders of magnitude worse
        assert r.rel_error_norm_float32 > 1e3 * r.rel_error_norm_float64
    assert all(result.checks.values()) and len(result.checks) == 4


def test_cost_counts_and_scaling(quick_run):
    result = quick_run[0]
    hidden = gradient_check.Config.quick().timing_hidden
    # 4-h-3 has 8h + 3 parameters; the numerical gradient needs 2 forward passes for each
    assert result.timing_params == [8 * h + 3 for h in hidden]
    assert result.forward_passes_numeric == [2 * (8 * h + 3) for h in hidden]
    # relative timings only, with an order of magnitude of margin (the expected ratio is ~P);
    # measured quick, SkylakeX / Haswell / Sandybridge: slopes 1.26-1.31 (numerical) and
    # 0.11-0.13 (backprop), ratio at 1027 parameters 1449-1523
    assert result.slope_numeric > 0.7
    assert result.time_numeric[-1] > 10 * result.time_backprop[-1]


def test_numerical_gradient_of_a_known_function():
    # L(w) = sum(w^3) / 3 has dL/dw = w^2; central differences are exact for a cubic up to
    # the h^2 term: (w+h)^3 - (w-h)^3 = 6 w^2 h + 2 h^3, so g = w^2 + h^2 / 3
    w = nl.tensor(np.array([[-2.0, 0.5], [1.5, 3.0]]), dtype=np.float64)
    grads = gradient_check.numerical_gradient(lambda: float(np.sum(w.data ** 3) / 3), [w], 1e-3)
    np.testing.assert_allclose(grads[0], w.data ** 2 + 1e-6 / 3, rtol=1e-9)
    # the weights are restored after the check
    np.testing.assert_array_equal(w.data, [[-2.0, 0.5], [1.5, 3.0]])


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="activation"):
        gradient_check.run(gradient_check.Config(activation="swish", timing_hidden=(2, 3)))
    with pytest.raises(ValueError, match="timing_hidden"):
        gradient_check.run(gradient_check.Config(timing_hidden=(4,)))
    with pytest.raises(ValueError, match="seeds"):
        gradient_check.run(gradient_check.Config(timing_hidden=(2, 3), seeds=()))
