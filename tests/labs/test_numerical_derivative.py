import math

import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import numerical_derivative as lab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("numerical-derivative")
    result, files = labs.run("numerical-derivative", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds, result.summary()
    assert {f.name for f in files} == {"numerical_derivative.png", "result.json", "summary.md"}
    assert (out / "numerical_derivative.png").stat().st_size > 10_000


def test_the_books_numbers(quick_run):
    # Deep Learning from Scratch, 4.3.2: 0.1999999999990898 and 0.2999999999986347
    result = quick_run[0]
    assert result.derivatives["5"]["numerical"] == pytest.approx(0.1999999999990898, abs=1e-12)
    assert result.derivatives["10"]["numerical"] == pytest.approx(0.2999999999986347, abs=1e-12)
    # 4.4.1: gradient_descent(f, init_x=[-3.0, 4.0], lr=0.1, step_num=100) gives ~(-6.1e-10,
    # 8.1e-10); here 20 steps: (0.8)^20 (-3, 4)
    end = result.paths["0.1"][-1]
    np.testing.assert_allclose(end, 0.8 ** 20 * np.array([-3.0, 4.0]), rtol=1e-8)
    # lr = 1e-10 leaves (-2.99999994, 3.99999992) after 100 steps, as in the book
    np.testing.assert_allclose(result.paths["1e-10"][-1], [-2.99999994, 3.99999992], atol=1e-8)


def test_difference_quotients_by_hand():
    # f(x) = x^3 at x = 2: the forward difference errs by 3 x h + h^2, the central one by h^2
    cube = lambda x: x ** 3  # noqa: E731
    h = 1e-3
    assert lab.forward(cube, 2.0, h) - 12 == pytest.approx(6 * h + h * h, rel=1e-6)
    assert lab.central(cube, 2.0, h) - 12 == pytest.approx(h * h, rel=1e-4)  # rounding 2e-12


def test_error_slopes_and_rounding(quick_run):
    result = quick_run[0]
    # measured quick and full, SkylakeX and Haswell: slopes 1.002 and 2.000, best h 1e-8 to
    # 5.6e-9 (forward: sqrt(eps_64) ~ 1.5e-8) and 3e-6 to 6e-6 (central: eps_64^(1/3) ~ 6e-6)
    assert abs(result.slopes["forward"] - 1) < 0.02 and abs(result.slopes["central"] - 2) < 0.02
    assert 1e-9 < result.best_h["forward"] < 1e-7 < 1e-6 < result.best_h["central"] < 1e-4
    # at the smallest h the rounding error dominates: larger than at the best h by orders
    assert result.central_error[0] > 1e3 * min(result.central_error)


def test_the_diverging_descent_follows_its_closed_form_until_rounding(quick_run):
    result = quick_run[0]
    path = np.asarray(result.paths["10"])
    exact = (-19.0) ** np.arange(len(path))[:, None] * np.array([-3.0, 4.0])
    small = np.linalg.norm(exact, axis=1) <= lab.BREAKDOWN
    np.testing.assert_allclose(path[small], exact[small], rtol=1e-6)
    # then the numerical gradient's rounding takes over: the path falls far behind (-19)^t
    assert result.breakdown_step["10"] is not None
    assert np.linalg.norm(path[-1]) < 1e-50 * np.linalg.norm(exact[-1])
    assert math.isfinite(result.final_norm["10"]) and result.final_norm["10"] > 1e6


def test_a_rate_that_converges_fails_the_divergence_check():
    config = lab.Config.quick()
    config.lr_large = 0.9  # |1 - 2 lr| = 0.8: converges, with alternating signs
    result = lab.run(config)
    assert not result.claim_holds
    assert any("diverges" in name and not ok for name, ok in result.checks.items())


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="h"):
        lab.run(lab.Config(h=0.0))
    with pytest.raises(ValueError, match="sweep"):
        lab.run(lab.Config(sweep=(-1.0, -5.0, 10)))
    with pytest.raises(ValueError, match="grid"):
        lab.run(lab.Config(grid=1))
