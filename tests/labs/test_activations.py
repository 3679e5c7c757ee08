import numpy as np

from neuralab import labs
from neuralab.labs import activations


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    result, files = labs.run("activations", quick=True, out_dir=tmp_path)
    assert result.claim_holds
    # the lecture's numbers, from the closed forms: max sigmoid' = 1/4, max tanh' = 1
    assert abs(result.max_derivative["sigmoid"] - 0.25) < 1e-3
    assert abs(result.max_derivative["tanh"] - 1.0) < 1e-3
    assert result.derivative_at_5["relu"] == 1.0
    assert result.derivative_at_5["sigmoid"] < 0.01
    assert {f.name for f in files} == {"activations.png", "result.json", "summary.md"}
    assert (tmp_path / "activations.png").stat().st_size > 10_000


def test_derivatives_are_backpropagation_not_copies_of_the_formula():
    result = activations.run(activations.Config(points=101))
    x = np.asarray(result.x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(result.derivatives["sigmoid"], s * (1 - s), atol=1e-12)
    assert result.max_error_vs_closed_form["elu"] < 1e-12


def test_unknown_activation_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="unknown activation"):
        activations.run(activations.Config(functions=("swish",)))


def test_every_check_is_reported_and_the_tolerance_means_rounding():
    result = activations.run(activations.Config.quick())
    assert result.checks and all(result.checks.values())
    # measured under SkylakeX, Haswell and Sandybridge (quick and full grids): at most 1.11e-16,
    # an ulp or two of float64 (no BLAS involved, elementwise libm only); TOL = 1e-12 is ~4500 ulps
    for name, err in result.max_error_vs_closed_form.items():
        assert err < 1e3 * np.finfo(np.float64).eps, name
    assert activations.TOL >= 1e3 * np.finfo(np.float64).eps


def test_gelu_matches_torch():
    # GELU has no closed form in the lab; PyTorch is the oracle (value and derivative)
    import torch

    result = activations.run(activations.Config(points=101, functions=("gelu",)))
    x = torch.tensor(result.x, dtype=torch.float64, requires_grad=True)
    exact, approx = torch.nn.functional.gelu(x), torch.nn.functional.gelu(x, approximate="tanh")
    ours = np.asarray(result.values["gelu"])
    y = exact if np.allclose(ours, exact.detach().numpy(), atol=1e-9) else approx
    np.testing.assert_allclose(ours, y.detach().numpy(), atol=1e-9)
    y.sum().backward()
    np.testing.assert_allclose(result.derivatives["gelu"], x.grad.numpy(), atol=1e-9)


def test_the_softmax_sums_to_one_and_its_derivative_is_backpropagation():
    result = activations.run(activations.Config(points=61))
    x = np.asarray(result.x)
    z = np.column_stack([x, np.full_like(x, activations.SOFTMAX_LOGITS[0]),
                         np.full_like(x, activations.SOFTMAX_LOGITS[1])])
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.softmax, expected, atol=1e-12)
    p0 = expected[:, 0]
    np.testing.assert_allclose(result.softmax_derivative, p0 * (1 - p0), atol=1e-12)
    assert max(result.softmax_errors.values()) < activations.TOL
    # the first probability grows with its logit, the other two fall, at every grid step
    assert np.all(np.diff(expected[:, 0]) > 0) and np.all(np.diff(expected[:, 1]) < 0)
