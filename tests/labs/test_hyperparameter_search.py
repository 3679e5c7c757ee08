import math

import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import hyperparameter_search as hp


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    result, files = labs.run("hyperparameter-search", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    config = hp.Config.quick()
    assert [r.seed for r in result.per_seed] == list(config.seeds)
    assert (result.n_train, result.n_val, result.n_test) == (1077, 360, 360)
    for r in result.per_seed:
        scores = [t["score"] for t in result.trials if t["seed"] == r.seed]
        assert len(scores) == config.n_trials
        assert scores == sorted(scores, reverse=True)          # best first
        assert r.val_accuracy == scores[0]                      # the model the choice was made on
        assert r.median_val_accuracy == pytest.approx(np.median(scores))

    val = np.array([r.val_accuracy for r in result.per_seed])
    test = np.array([r.test_accuracy for r in result.per_seed])
    median = np.array([r.median_val_accuracy for r in result.per_seed])
    # the tolerance is the binomial standard error of the mean difference of two independent
    # accuracies (360 validation and 360 test images per seed), recomputed here
    se = math.sqrt(np.sum(val * (1 - val) / 360 + test * (1 - test) / 360)) / len(val)
    assert result.gap == pytest.approx(np.mean(val - test))
    assert result.gap_se == pytest.approx(se)
    assert abs(result.gap) <= hp.Z * se
    # Measured (seeds 0-4, kernels SkylakeX, Haswell, Sandybridge): chosen validation
    # 0.939-0.978, test 0.958-0.978, mean validation - test -0.0033 (tolerance 0.018), test of
    # the chosen model - median trial 0.117-0.119; seeds 0-9: test 0.908-0.978.
    assert np.all(test > 0.88) and np.median(test) > 0.93
    assert result.gain == pytest.approx(np.mean(test - median))
    assert result.gain > 0.06 and result.gain > hp.Z * result.gain_se
    # the search sampled on a log scale: both ends of four decades of lr are visited
    lrs = np.log10([t["lr"] for t in result.trials])
    assert lrs.min() < -2.5 and lrs.max() > -0.5
    assert "the choice matters" in result.summary()
    assert (tmp_path / "hyperparameter_search.png").stat().st_size > 10_000
    assert "hyperparameter_search.png" in {f.name for f in files}


def test_the_search_never_receives_the_test_set(monkeypatch):
    from neuralab.train import search as search_module

    seen, searches = [], []
    original = search_module._Search.fit

    def spy(self, X, y, **kwargs):
        seen.append(len(X) + len(kwargs["validation_data"][0]))
        searches.append(self)
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(search_module._Search, "fit", spy)
    result = hp.run(hp.Config(n_trials=2, epochs=1, seeds=(0, 1)))
    assert seen == [result.n_train + result.n_val] * 2          # training + validation only
    assert result.n_train + result.n_val + result.n_test == 1797
    # like with like: the model tested is the chosen trial's, not a new one refit on more data
    assert all(not s.refit and s.best_estimator_ is None for s in searches)


def test_same_config_same_numbers():
    config = hp.Config(n_trials=2, epochs=2, seeds=(3,))
    a, b = hp.run(config), hp.run(config)
    assert a.per_seed == b.per_seed and a.trials == b.trials


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="lr_min < lr_max"):
        hp.run(hp.Config(lr_min=1.0, lr_max=0.1))
    with pytest.raises(ValueError, match="distinct `seeds`"):
        hp.run(hp.Config(seeds=()))
    with pytest.raises(ValueError, match="distinct `seeds`"):
        hp.run(hp.Config(seeds=(1, 1)))
