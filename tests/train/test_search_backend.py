"""Searches through a backend: the journal of finished trainings (resume), successive halving,
and the Ray backend giving the local backend's results."""

from __future__ import annotations

import json

import pytest

from neuralab import nn, optim
from neuralab.data import StandardScaler, load_iris
from neuralab.io.journal import Journal, JournalError
from neuralab.train import (
    LogUniform, RandomSearch, RayBackend, SuccessiveHalving, Trainer,
)
from neuralab.train.backend import LocalBackend, get_backend


@pytest.fixture(scope="module")
def iris():
    return load_iris()


class Spy:
    """build_fn that records every configuration it builds; raises KeyboardInterrupt at the
    ``interrupt_at``-th build (a Ctrl-C in the middle of a search)."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.built: list[float] = []
        self.interrupt_at = interrupt_at

    def __call__(self, params):
        if self.interrupt_at is not None and len(self.built) == self.interrupt_at:
            raise KeyboardInterrupt
        self.built.append(params["lr"])
        model = nn.Sequential([nn.Dense(8, activation="relu", input_dim=4), nn.Dense(3)])
        return Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(),
                                                                lr=params["lr"]))


def _search(build, **kwargs):
    return RandomSearch(build, {"lr": LogUniform(1e-3, 3e-1)}, n_trials=6, rng=0, refit=False,
                        **kwargs)


def _fit(search, X, y, **kwargs):
    return search.fit(X, y, cv=3, scaler=StandardScaler, epochs=9, batch_size=16, **kwargs)


def _table(search):
    return [(r["trial"], r["score"], r["fold_scores"], r.get("budget")) for r in search.results_]


def test_interrupted_search_resumes_without_redoing_finished_trainings(iris, tmp_path):
    X, y = iris
    log = tmp_path / "trials.jsonl"
    whole = _fit(_search(Spy()), X, y)
    first = Spy(interrupt_at=7)  # 2 trials of 3 folds, then the 8th training is interrupted
    with pytest.raises(KeyboardInterrupt):
        _fit(_search(first), X, y, log=str(log))
    lines = log.read_text().splitlines()
    assert len(lines) == 1 + 7 and json.loads(lines[0])["journal"] == "neuralab-search"
    second = Spy()
    resumed = _fit(_search(second), X, y, log=str(log))
    assert resumed.resumed_ == 7
    assert len(second.built) == 6 * 3 - 7  # only the unfinished trainings
    assert _table(resumed) == _table(whole)  # as if never interrupted
    again = Spy()
    assert _table(_fit(_search(again), X, y, log=str(log))) == _table(whole)
    assert again.built == []  # everything was in the journal


def test_journal_of_another_search_is_refused(iris, tmp_path):
    X, y = iris
    log = tmp_path / "trials.jsonl"
    _fit(_search(Spy()), X[:90], y[:90], log=str(log))
    with pytest.raises(JournalError, match="different search"):
        _fit(_search(Spy()), X, y, log=str(log))  # other data
    other_seed = RandomSearch(Spy(), {"lr": LogUniform(1e-3, 3e-1)}, n_trials=6, rng=1,
                              refit=False)
    with pytest.raises(JournalError, match="different search"):
        _fit(other_seed, X[:90], y[:90], log=str(log))
    (tmp_path / "notes.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(JournalError, match="not a neuralab-search journal"):
        _fit(_search(Spy()), X, y, log=str(tmp_path / "notes.jsonl"))


def test_torn_last_line_is_dropped_and_replaced(tmp_path):
    journal = Journal(tmp_path / "j.jsonl", kind="k", fingerprint="f")
    journal.append({"trial": 0, "score": 0.5})
    journal.append({"trial": 1, "score": float("nan")})  # strict JSON: null
    with open(journal.path, "ab") as f:
        f.write(b'{"trial": 2, "sco')  # the writer was killed here
    assert journal.records() == [{"trial": 0, "score": 0.5}, {"trial": 1, "score": None}]
    journal.append({"trial": 2, "score": 0.25})
    assert [r["trial"] for r in journal.records()] == [0, 1, 2]
    journal.path.write_text(journal.path.read_text().replace('"trial": 1', 'garbage'))
    with pytest.raises(JournalError, match="line 3"):
        journal.records()


def test_successive_halving_keeps_the_full_search_scores_of_its_survivors(iris):
    X, y = iris
    full = _fit(_search(Spy()), X, y)
    spy = Spy()
    halved = _fit(_search(spy, halving=SuccessiveHalving(min_epochs=1, eta=3)), X, y)
    assert SuccessiveHalving(1, 3).budgets(9) == [1, 3, 9]
    # 6 trials x 3 folds for 1 epoch, the best 2 for 3 epochs, the best 1 for 9
    assert len(spy.built) == 3 * (6 + 2 + 1)
    best = halved.results_[0]
    assert best["budget"] == 9 and [r["budget"] for r in halved.results_] == [9, 3, 1, 1, 1, 1]
    by_trial = {r["trial"]: r for r in full.results_}
    # a survivor's last round is a full training with the same seeds: the same score
    assert best["score"] == by_trial[best["trial"]]["score"]
    assert best["fold_scores"] == by_trial[best["trial"]]["fold_scores"]


def test_halving_arguments():
    with pytest.raises(ValueError, match="eta"):
        SuccessiveHalving(1, eta=1)
    with pytest.raises(ValueError, match="min_epochs=5 is more than"):
        SuccessiveHalving(5).budgets(3)
    with pytest.raises(TypeError, match="SuccessiveHalving"):
        RandomSearch(Spy(), {"lr": 0.1}, halving=3)
    assert SuccessiveHalving(2, 3).budgets(20) == [2, 6, 18, 20]


def test_backend_names():
    assert isinstance(get_backend("local"), LocalBackend)
    assert isinstance(get_backend("ray", address="auto"), RayBackend)
    with pytest.raises(ValueError, match="'local', 'ray'"):
        get_backend("spark")
    with pytest.raises(ValueError, match="backend='ray'"):
        get_backend("local", address="10.0.0.1:6379")
    with pytest.raises(ValueError, match="cpus_per_task"):
        RayBackend(cpus_per_task=0)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance of two CPUs for this module's Ray tests (started once)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_backend_gives_the_local_results(iris, tmp_path, local_ray):
    """The same search on two Ray workers (a local instance started here) and in this process:
    the same table, halving and journal included; the workers used one BLAS thread each."""
    ray = local_ray
    X, y = iris
    local = _fit(_search(Spy(), halving=SuccessiveHalving(1, 3)), X, y)
    log = tmp_path / "trials.jsonl"
    remote = _fit(_search(Spy(), halving=SuccessiveHalving(1, 3)), X, y, backend="ray",
                  log=str(log))
    assert _table(remote) == _table(local)
    assert len(log.read_text().splitlines()) == 1 + 3 * (6 + 2 + 1)

    @ray.remote(num_cpus=1)
    def blas_threads():
        from neuralab.train.backend import _ray_task
        from threadpoolctl import threadpool_info
        return _ray_task(lambda shared, item: [p["num_threads"] for p in threadpool_info()
                                               if p["user_api"] == "blas"], None, None)
    assert set(ray.get(blas_threads.remote())) == {1}


def _fold_score(X_tr, y_tr, X_va, y_va):
    """A fold's training for cross_validate (module level: Ray pickles it by reference)."""
    model = nn.Sequential([nn.Dense(8, activation="relu", input_dim=4), nn.Dense(3)])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05))
    trainer.fit(X_tr, y_tr, epochs=5, batch_size=16, verbose=0)
    return trainer.evaluate(X_va, y_va)


@pytest.mark.slow
def test_cross_validate_on_ray_gives_the_local_folds(iris, local_ray):
    """data.cross_validate with a backend: each fold a task, seeded on its own; the local and
    the Ray backend give the same fold scores (and a different rng gives others)."""
    from neuralab.data import cross_validate
    X, y = iris
    local = cross_validate(_fold_score, X, y, cv=3, scaler=StandardScaler, rng=0,
                           backend=LocalBackend())
    other = cross_validate(_fold_score, X, y, cv=3, scaler=StandardScaler, rng=1,
                           backend=LocalBackend())
    assert local["folds"] != other["folds"]
    remote = cross_validate(_fold_score, X, y, cv=3, scaler=StandardScaler, rng=0,
                            backend=RayBackend())
    assert remote["folds"] == local["folds"]
