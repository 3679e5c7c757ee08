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
