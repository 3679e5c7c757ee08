import numpy as np

from neuralab import labs
from neuralab.labs import hyperparameter_search as hp


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    result, files = labs.run("hyperparameter-search", quick=True, out_dir=tmp_path)
    assert result.claim_holds
    scores = [t["score"] for t in result.trials]
    assert len(scores) == hp.Config.quick().n_trials
    assert scores == sorted(scores, reverse=True)          # best first
    assert result.best_val_accuracy == scores[0]
    # the choice matters: bad learning rates fail, the chosen one is far above the median
    assert result.best_val_accuracy > 0.95 and result.best_val_accuracy - min(scores) > 0.5
    assert result.best_val_accuracy - result.median_val_accuracy > 0.1
    # the configuration chosen on validation scores about the same on the untouched test set
    assert abs(result.test_accuracy - result.best_val_accuracy) < 0.03
    assert result.test_accuracy > 0.94
    # the search sampled on a log scale: both ends of four decades of lr are visited
    lrs = np.log10([t["lr"] for t in result.trials])
    assert lrs.min() < -2.5 and lrs.max() > -0.5
    assert (tmp_path / "hyperparameter_search.png").stat().st_size > 10_000
    assert "hyperparameter_search.png" in {f.name for f in files}


def test_the_search_never_receives_the_test_set(monkeypatch):
    from neuralab.train import search as search_module

    seen = []
    original = search_module._Search.fit

    def spy(self, X, y, **kwargs):
        seen.append(len(X) + len(kwargs["validation_data"][0]))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(search_module._Search, "fit", spy)
    config = hp.Config(n_trials=2, epochs=1)
    result = hp.run(config)
    assert seen == [result.n_train + result.n_val]          # training + validation only
    assert result.n_train + result.n_val + result.n_test == 1797
