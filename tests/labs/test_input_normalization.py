import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import input_normalization as lab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("input-normalization")
    result, files = labs.run("input-normalization", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds, result.summary()
    assert {f.name for f in files} == {"input_normalization.png", "result.json", "summary.md"}
    assert (out / "input_normalization.png").stat().st_size > 10_000


def test_the_condition_numbers_are_the_hessians(quick_run):
    # recomputed here from the data: H = 2 A^T A / n with a column of ones for the bias
    result = quick_run[0]
    config = lab.Config.quick()
    for seed in config.seeds:
        inputs, y = lab._inputs(config, seed)
        for version, x in inputs.items():
            r = next(r for r in result.runs if (r.version, r.seed) == (version, seed))
            a = np.column_stack([np.ones(len(x)), x])
            eig = np.linalg.eigvalsh(2 * a.T @ a / len(x))
            assert r.kappa == pytest.approx(eig[-1] / eig[0], rel=1e-9)
            assert r.lr == pytest.approx(1 / eig[-1], rel=1e-12)
        # standardized: the bias column is orthogonal to the centered inputs, so H is block
        # diagonal and the 2 x 2 block's condition number is (1 + |rho|) / (1 - |rho|), unless
        # the bias eigenvalue (2) is the largest or smallest
        rho = abs(np.corrcoef(inputs["standardized"].T)[0, 1])
        eig = np.array([2.0, 2 * (1 - rho), 2 * (1 + rho)])
        r = next(r for r in result.runs if (r.version, r.seed) == ("standardized", seed))
        assert r.kappa == pytest.approx(eig.max() / eig.min(), rel=1e-6)


def test_standardized_converges_in_steps_raw_does_not(quick_run):
    result = quick_run[0]
    config = lab.Config.quick()
    # measured quick, SkylakeX and Haswell (float64 NumPy on 1000 x 3): standardized 12-14
    # steps (closed-form bounds 23.5-25.4), raw kappa 2.8e6-3.0e6 with an excess of 1.9-2.1
    # times var(y) - L* still left after 2000 steps
    for r in result.runs:
        if r.version == "standardized":
            assert r.steps is not None and r.steps <= r.bound and r.steps < 30
            assert r.left < config.tol
        else:
            assert r.steps is None and r.left > 1.0 and r.kappa > 1e6
        assert r.neuralab_difference < 1e-12
    assert all(result.checks.values()) and len(result.checks) == 4


def test_gradient_descent_reaches_the_least_squares_solution():
    # on a well-conditioned problem the loop converges to numpy's lstsq and counts its steps
    rng = np.random.default_rng(0)
    a = np.column_stack([np.ones(200), rng.normal(size=(200, 2))])
    y = a @ [1.0, 2.0, -3.0] + rng.normal(scale=0.1, size=200)
    lr = 1 / np.linalg.eigvalsh(2 * a.T @ a / 200)[-1]
    excess, path, steps = lab._gradient_descent(a, y, lr, 1e-10, 10_000)
    assert steps is not None and steps == len(excess) - 1 and excess[-1] < 1e-10
    np.testing.assert_allclose(path[-1], np.linalg.lstsq(a, y, rcond=None)[0], atol=1e-4)
    assert all(b <= a_ + 1e-15 for a_, b in zip(excess, excess[1:]))  # never up at 1 / L


def test_inputs_of_one_scale_fail_the_claim():
    # volatile acidity and citric acid have similar small spreads and means: raw is already
    # well conditioned (kappa ~150) and converges within the budget, so the claim must fail
    config = lab.Config.quick()
    config.features, config.seeds = ("volatile acidity", "citric acid"), (0,)
    result = lab.run(config)
    raw = next(r for r in result.runs if r.version == "raw")
    assert raw.kappa < 1e3 and raw.steps is not None and raw.steps < config.max_steps
    assert not result.claim_holds
    assert "FAILED" in result.summary()


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="two"):
        lab.run(lab.Config(features=("alcohol",)))
    with pytest.raises(ValueError, match="unknown feature"):
        lab.run(lab.Config(features=("alcohol", "colour")))
    with pytest.raises(ValueError, match="n_rows"):
        lab.run(lab.Config(n_rows=1))
    with pytest.raises(ValueError, match="tol"):
        lab.run(lab.Config(tol=0.0))
