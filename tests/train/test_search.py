"""Hyperparameter search: sampling distributions (against scipy's uniform law and hand-derived
probabilities), the protocol on a cheap objective, that no test data is ever seen, refit and
reproducibility; one real neuralab Trainer and one scikit-learn estimator end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats  # a test dependency: the oracle for the sampling laws

from neuralab import nn, optim
from neuralab.data import KFold, StandardScaler, StratifiedKFold
from neuralab.train import (
    Choice,
    GridSearch,
    IntUniform,
    LogUniform,
    RandomSearch,
    Trainer,
    Uniform,
)



# ---------------------------------------------------------------------- distributions
def test_log_uniform_is_uniform_in_the_exponent():
    x = LogUniform(1e-4, 1e-1).sample(0, size=20000)
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    # log10 x ~ U(-4, -1): Kolmogorov-Smirnov against scipy's uniform law
    assert stats.kstest(np.log10(x), stats.uniform(loc=-4, scale=3).cdf).pvalue > 0.01
    # each decade gets a third of the draws (a uniform draw would put 90 % in the last one)
    decades = np.histogram(np.log10(x), bins=[-4, -3, -2, -1])[0] / len(x)
    np.testing.assert_allclose(decades, 1 / 3, atol=0.015)
    assert isinstance(LogUniform(1e-3, 1.0).sample(0), float)


def test_uniform_int_and_choice_distributions():
    u = Uniform(-2.0, 3.0).sample(1, size=20000)
    assert stats.kstest(u, stats.uniform(loc=-2, scale=5).cdf).pvalue > 0.01
    k = IntUniform(3, 7).sample(2, size=25000)
    assert set(np.unique(k)) == {3, 4, 5, 6, 7}
    np.testing.assert_allclose(np.bincount(k - 3) / len(k), 0.2, atol=0.01)
    # log=True: P(k) = log((k + 1) / k) / log((high + 1) / low)
    k = IntUniform(1, 8, log=True).sample(3, size=40000)
    expected = np.log(np.arange(2, 10) / np.arange(1, 9)) / np.log(9)
    np.testing.assert_allclose(np.bincount(k, minlength=9)[1:] / len(k), expected, atol=0.01)
    c = Choice(["relu", "tanh", "sigmoid"]).sample(4, size=9000)
    counts = {name: c.count(name) / 9000 for name in ("relu", "tanh", "sigmoid")}
    assert all(abs(v - 1 / 3) < 0.02 for v in counts.values())


def test_distribution_errors():
    with pytest.raises(ValueError, match="0 < low < high"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="low < high"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="non-empty"):
        Choice([])


# ---------------------------------------------------------------------- a cheap objective
class Quadratic:
    """A fake Trainer: its validation loss is (log10 lr + 2)^2 + wd, minimal at lr = 1e-2.

    Every array it receives is logged, so tests can check what the search showed it."""

    seen: list[np.ndarray] = []

    def __init__(self, params):
        self.params = params

    def fit(self, x, y, validation_data=None, **kwargs):
        Quadratic.seen.append(np.asarray(x))
        Quadratic.seen.append(np.asarray(y))
        if validation_data is not None:
            Quadratic.seen.extend(np.asarray(a) for a in validation_data)
        self.n_fit = len(x)
        self.kwargs = kwargs

    def evaluate(self, x, y):
        Quadratic.seen.append(np.asarray(x))
        return {"loss": expected_loss(self.params), "accuracy": -expected_loss(self.params)}


def expected_loss(params):
    return (math.log10(params["lr"]) + 2) ** 2 + params.get("wd", 0.0)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.random((60, 3)).astype(np.float32)      # training (and validation) rows in [0, 1)
    y = rng.integers(0, 2, 60)
    X_test = -1.0 - rng.random((20, 3)).astype(np.float32)   # marked: all negative
    Quadratic.seen = []
    return X, y, X_test


def assert_no_test_rows_seen():
    for a in Quadratic.seen:
        if a.dtype.kind == "f" and a.ndim == 2:
            assert (a >= 0).all(), "the search showed a test row to the model"


def test_random_search_finds_the_minimum_and_sorts_the_table(data):
    X, y, _ = data
    search = RandomSearch(Quadratic, {"lr": LogUniform(1e-5, 1.0), "wd": 0.0}, n_trials=40,
                          rng=0)
    search.fit(X[:45], y[:45], validation_data=(X[45:], y[45:]), epochs=3)
    scores = [row["score"] for row in search.results_]
    assert scores == sorted(scores)
    assert [row["rank"] for row in search.results_] == list(range(1, 41))
    for row in search.results_:
        assert row["score"] == pytest.approx(expected_loss(row["params"]))
        assert row["lr"] == row["params"]["lr"] and row["wd"] == 0.0
    assert search.best_params_ == search.results_[0]["params"]
    assert abs(math.log10(search.best_params_["lr"]) + 2) < 0.25
    assert search.best_score_ == scores[0]
    # refit on training + validation data, with the fit arguments
    assert search.best_estimator_.n_fit == 60
    assert search.best_estimator_.kwargs == {"epochs": 3, "verbose": 0}
    assert "rank" in search.table() and len(search.table().splitlines()) == 41


@pytest.mark.parametrize("mode", ["validation_data", "validation_split", "cv", "stratified"])
def test_the_test_set_is_never_passed(data, mode):
    X, y, X_test = data
    search = RandomSearch(Quadratic, {"lr": LogUniform(1e-4, 1.0)}, n_trials=4, rng=1)
    if mode == "validation_data":
        search.fit(X[:40], y[:40], validation_data=(X[40:], y[40:]))
    elif mode == "validation_split":
        search.fit(X, y, validation_split=0.25)
    elif mode == "cv":
        search.fit(X, y, cv=3)
    else:
        search.fit(X, y, cv=StratifiedKFold(3, shuffle=True, rng=0))
    assert_no_test_rows_seen()
    assert not any(a.shape == X_test.shape and np.array_equal(a, X_test) for a in Quadratic.seen)
    # the only evaluation of the test set is the user's, once, at the end
    assert search.best_estimator_.evaluate(X_test, None)["loss"] == search.best_score_


def test_validation_parts_are_disjoint_from_training_parts(data):
    X, y, _ = data
    pairs = []

    class Recorder(Quadratic):
        def fit(self, x, y, validation_data=None, **kwargs):
            pairs.append((x, validation_data[0]) if validation_data else (x, None))

    RandomSearch(Recorder, {"lr": LogUniform(1e-3, 1.0)}, n_trials=2, rng=0,
                 refit=False).fit(X, y, cv=KFold(4, shuffle=True, rng=0))
    assert len(pairs) == 8                           # 2 trials x 4 folds
    for x_tr, x_va in pairs:
        assert len(x_tr) == 45 and len(x_va) == 15
        rows_tr = {r.tobytes() for r in x_tr}
        assert not any(r.tobytes() in rows_tr for r in x_va)
    pairs.clear()
    RandomSearch(Recorder, {"lr": LogUniform(1e-3, 1.0)}, n_trials=1, rng=0,
                 refit=False).fit(X, y, validation_split=0.2)
    assert [len(pairs[0][0]), len(pairs[0][1])] == [48, 12]


def test_scaler_is_fitted_on_training_parts_only(data):
    X, y, _ = data
    fitted_on = []

    class SpyScaler(StandardScaler):
        def fit(self, X):
            fitted_on.append(len(X))
            return super().fit(X)

    search = GridSearch(Quadratic, {"lr": [1e-2, 1e-1]}, rng=0)
    search.fit(X, y, cv=3, scaler=SpyScaler)
    # once per fold on its training part (every configuration sees the same scaled fold), then
    # once on all the data for the refit
    assert fitted_on == [40, 40, 40, 60]
    assert search.scaler_ is not None and search.scaler_.is_fitted


def test_reproducible_by_seed_and_longer_searches_extend_shorter_ones(data):
    X, y, _ = data
    space = {"lr": LogUniform(1e-4, 1.0), "act": Choice(["relu", "tanh"]), "units": IntUniform(
        8, 64, log=True)}

    def run(n, seed):
        s = RandomSearch(Quadratic, space, n_trials=n, rng=seed, refit=False)
        return s.fit(X, y, validation_split=0.2).results_

    a, b, c = run(6, 3), run(6, 3), run(6, 4)
    assert a == b and a != c
    by_trial = {r["trial"]: r["params"] for r in run(10, 3)}
    assert all(by_trial[r["trial"]] == r["params"] for r in a)
    assert all(isinstance(r["units"], int) and 8 <= r["units"] <= 64 for r in a)


def test_grid_search_tries_every_combination(data):
    X, y, _ = data
    grid = {"lr": [1e-3, 1e-2, 1e-1], "wd": [0.0, 0.5]}
    search = GridSearch(Quadratic, grid).fit(X, y, validation_split=0.2)
    assert len(search.results_) == 6
    combos = {(r["lr"], r["wd"]) for r in search.results_}
    assert combos == {(lr, wd) for lr in grid["lr"] for wd in grid["wd"]}
    assert search.best_params_ == {"lr": 1e-2, "wd": 0.0}
    assert len(GridSearch(Quadratic, [{"lr": [1.0]}, {"lr": [2.0, 3.0], "wd": [1.0]}])) == 3


def test_metric_mode_and_failed_trials(data):
    X, y, _ = data

    class Diverges(Quadratic):
        def evaluate(self, x, y):
            return {"loss": math.nan if self.params["lr"] > 0.5 else expected_loss(self.params),
                    "accuracy": -expected_loss(self.params)}

    grid = {"lr": [1e-3, 1e-2, 0.9]}
    search = GridSearch(Diverges, grid).fit(X, y, validation_split=0.2)
    assert math.isnan(search.results_[-1]["score"]) and search.results_[-1]["lr"] == 0.9
    # accuracy is maximized
    acc = GridSearch(Quadratic, grid, metric="accuracy").fit(X, y, validation_split=0.2)
    assert acc.best_params_ == {"lr": 1e-2}
    assert acc.results_[0]["score"] >= acc.results_[1]["score"]


def test_argument_errors(data):
    X, y, _ = data
    search = RandomSearch(Quadratic, {"lr": LogUniform(1e-3, 1.0)}, n_trials=2)
    with pytest.raises(ValueError, match="exactly one of"):
        search.fit(X, y)
    with pytest.raises(ValueError, match="exactly one of"):
        search.fit(X, y, validation_split=0.2, cv=3)
    with pytest.raises(ValueError, match="reserved"):
        RandomSearch(Quadratic, {"score": [1]}, n_trials=1).fit(X, y, validation_split=0.2)
    with pytest.raises(ValueError, match="n_trials"):
        RandomSearch(Quadratic, {"lr": [1]}, n_trials=0)


# ---------------------------------------------------------------------- real models
def test_with_a_neuralab_trainer_on_iris():
    from neuralab.data import load_iris, train_test_split

    X, y = load_iris()
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, stratify=y, rng=0)

    def build(params):
        model = nn.Sequential([nn.Dense(16, activation="relu", input_dim=4), nn.Dense(3)])
        return Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(),
                                                                 lr=params["lr"]))

    search = GridSearch(build, {"lr": [1e-5, 3e-2]}, rng=0, metric="accuracy")
    search.fit(X_tr, y_tr, validation_data=(X_va, y_va), scaler=StandardScaler, epochs=30,
               batch_size=16)
    assert search.best_params_ == {"lr": 3e-2}
    assert search.best_score_ > 0.85 > search.results_[1]["score"]
    # the refit model scores its own validation accuracy again on the same (scaled) data
    X_va_scaled = search.scaler_.transform(X_va)
    assert search.best_estimator_.evaluate(X_va_scaled, y_va)["accuracy"] > 0.85


def test_with_a_scikit_learn_estimator_matches_its_own_scores():
    from sklearn import linear_model
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=80)
    X_tr, y_tr, X_va, y_va = X[:60], y[:60], X[60:], y[60:]
    search = GridSearch(lambda p: linear_model.Ridge(alpha=p["alpha"]),
                        {"alpha": [0.01, 1.0, 100.0]})
    search.fit(X_tr, y_tr, validation_data=(X_va, y_va))
    for row in search.results_:     # the default metric is the estimator's own score (R^2)
        oracle = linear_model.Ridge(alpha=row["alpha"]).fit(X_tr, y_tr).score(X_va, y_va)
        assert row["score"] == pytest.approx(oracle)
    assert search.results_[0]["score"] >= search.results_[-1]["score"]
    mae = GridSearch(lambda p: linear_model.Ridge(alpha=p["alpha"]), {"alpha": [0.01, 100.0]},
                     metric="mae").fit(X_tr, y_tr, validation_data=(X_va, y_va))
    assert mae.results_[0]["score"] <= mae.results_[1]["score"]   # errors are minimized


def test_the_example_of_docs_search_runs(capsys):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "search.md"
    blocks = re.findall(r"^```python\n(.*?)^```$", page.read_text(encoding="utf-8"),
                        flags=re.S | re.M)
    assert len(blocks) == 3  # the search, successive halving, scikit-learn's GridSearchCV
    namespace = {"__name__": "__doc__"}
    for i, block in enumerate(blocks):  # one session: later examples reuse `build`, `X_dev`
        exec(compile(block, f"docs/search.md example {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "rank" in out and "'accuracy'" in out and "budget" in out
    assert "neuralclassifier__learning_rate" in out
