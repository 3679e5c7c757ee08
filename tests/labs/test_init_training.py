import math

import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import init_training as lab


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("init-training")
    result, files = labs.run("init-training", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figure(quick_run):
    result, files, out = quick_run
    assert result.claim_holds, result.summary()
    assert {f.name for f in files} == {"init_training.png", "result.json", "summary.md"}
    assert (out / "init_training.png").stat().st_size > 10_000


def test_the_curves_of_the_books_figure(quick_run):
    result = quick_run[0]
    config = lab.Config.quick()
    assert set(result.losses) == {"std=0.01", "xavier", "he"}
    for init, curves in result.losses.items():
        assert len(curves) == len(config.seeds)
        for curve, final in zip(curves, result.final[init], strict=True):
            assert len(curve) == config.iterations
            assert final == pytest.approx(np.mean(curve[-config.last:]))
            # every run starts near ln 10: small random logits guess uniformly
            assert abs(np.mean(curve[:5]) - math.log(10)) < 0.3
    # measured quick, SkylakeX and Haswell (the same digits): std=0.01 2.302-2.303, Xavier
    # 1.14-1.65, He 0.32-0.37
    assert max(abs(v - math.log(10)) for v in result.final["std=0.01"]) < 0.01
    assert max(result.final["he"]) < 0.6 < 1.0 < min(result.final["xavier"])
    assert all(result.checks.values()) and len(result.checks) == 3


def test_the_initializations_have_the_books_scales():
    config = lab.Config.quick()
    data = lab.common.load_data("digits", 100, 10, seed=0)
    for init, expected in (("std=0.01", lambda fan_in: 0.01),
                           ("xavier", lambda fan_in: math.sqrt(2 / (fan_in + 100))),
                           ("he", lambda fan_in: math.sqrt(2 / fan_in))):
        lab.set_seed(0)
        layer = lab.nn.Dense(100, kernel_initializer=lab.INITS[init], input_dim=64)
        assert np.std(layer.weight.data) == pytest.approx(expected(64), rel=0.1)
    assert data.n_features == 64 and config.units == 100


def test_too_few_iterations_fail_the_claim():
    config = lab.Config.quick()
    config.iterations, config.last, config.seeds = 20, 10, (0,)
    result = lab.run(config)
    assert not result.claim_holds  # nothing has learned yet
    assert "FAILED" in result.summary()


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="last"):
        lab.run(lab.Config(iterations=10, last=50))
    with pytest.raises(ValueError, match="lr"):
        lab.run(lab.Config(lr=0.0))
    with pytest.raises(ValueError, match="seeds"):
        lab.run(lab.Config(seeds=(3, 3)))
