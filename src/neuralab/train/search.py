"""Hyperparameter search on validation data (하이퍼파라미터 탐색, 검증 데이터).

Hyperparameters (learning rate, weight decay, layer sizes, ...) are chosen by training one model
per configuration and comparing them on data the weights were not fitted on: an explicit
validation set, a held-out split of the training data, or k-fold cross-validation.  Never on the
test set: a configuration chosen on the test set has been fitted to it, and its test score no
longer estimates the score on new data.  These classes have no argument for test data; evaluate
the chosen model on the test set once, at the end.

* :class:`RandomSearch` draws ``n_trials`` configurations from distributions
  (:class:`LogUniform` for scales such as the learning rate, :class:`Uniform`,
  :class:`IntUniform`, :class:`Choice`); Bergstra and Bengio (2012) showed it finds good values
  of the few hyperparameters that matter with far fewer trials than a grid.
* :class:`GridSearch` tries every combination of listed values.

>>> def build(params):
...     model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(10)])
...     model(X_train[:1])                                  # build the weights
...     opt = optim.AdamW(model.parameters(), lr=params["lr"],
...                       weight_decay=params["weight_decay"])
...     return Trainer(model, nn.CrossEntropyLoss(), opt)
>>> search = RandomSearch(build, {"lr": LogUniform(1e-4, 1e-1),
...                               "weight_decay": LogUniform(1e-6, 1e-1)}, n_trials=20, rng=0)
>>> search.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=20, batch_size=64)
>>> search.best_params_, search.best_score_
>>> search.best_estimator_.evaluate(X_test, y_test)     # the test set, once
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..data.split import KFold, fold_parts, make_splitter, scale_fold, train_test_split
from ..io.journal import Journal
from ..random import Seed, get_rng, seed as _seed_library
from .backend import Backend, get_backend
from .metrics import better_direction, get_metric

__all__ = [
    "Choice", "Distribution", "GridSearch", "IntUniform", "LogUniform", "RandomSearch",
    "SuccessiveHalving", "Uniform",
]

_RESERVED = {"rank", "trial", "params", "score", "score_std", "fold_scores", "budget"}


# ---------------------------------------------------------------------- distributions
class Distribution:
    """A range to draw a hyperparameter from: ``sample(rng)`` returns one value,
    ``sample(rng, size)`` an array."""

    def sample(self, rng: Seed = None, size: int | None = None) -> Any:
        raise NotImplementedError


def _number(value: Any, name: str, caller: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{caller} expected a finite number for `{name}`, got {value!r}")
    return float(value)


class Uniform(Distribution):
    """:math:`x \\sim U(\\text{low}, \\text{high})`: every value of the interval equally likely
    (dropout rate, momentum)."""

    def __init__(self, low: float, high: float) -> None:
        self.low = _number(low, "low", "Uniform")
        self.high = _number(high, "high", "Uniform")
        if not self.low < self.high:
            raise ValueError(f"Uniform expected low < high, got low={low!r}, high={high!r}")

    def sample(self, rng: Seed = None, size: int | None = None) -> Any:
        value = get_rng(rng).uniform(self.low, self.high, size=size)
        return float(value) if size is None else value

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


class LogUniform(Distribution):
    """:math:`\\log x \\sim U(\\log \\text{low}, \\log \\text{high})`: every decade equally
    likely, the right prior for scales such as the learning rate or the weight decay
    (``LogUniform(1e-4, 1e-1)`` draws as often from [1e-4, 1e-3] as from [1e-2, 1e-1]).
    The book's ``10 ** np.random.uniform(-6, -2)`` is ``LogUniform(1e-6, 1e-2)``."""

    def __init__(self, low: float, high: float) -> None:
        self.low = _number(low, "low", "LogUniform")
        self.high = _number(high, "high", "LogUniform")
        if not 0 < self.low < self.high:
            raise ValueError(f"LogUniform expected 0 < low < high, got low={low!r}, "
                             f"high={high!r}")

    def sample(self, rng: Seed = None, size: int | None = None) -> Any:
        value = np.exp(get_rng(rng).uniform(math.log(self.low), math.log(self.high), size=size))
        # exp(log(x)) can land a hair outside the bounds
        value = np.clip(value, self.low, self.high)
        return float(value) if size is None else value

    def __repr__(self) -> str:
        return f"LogUniform({self.low:g}, {self.high:g})"


class IntUniform(Distribution):
    """An integer in ``[low, high]`` (both included), each equally likely; with ``log=True``
    :math:`\\lfloor e^u \\rfloor`, :math:`u \\sim U(\\log \\text{low}, \\log(\\text{high}+1))`,
    so each integer's chance falls with its size and every doubling (8-15, 16-31, 32-63) is about
    equally likely (units per layer)."""

    def __init__(self, low: int, high: int, log: bool = False) -> None:
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"IntUniform expected an integer `{name}`, got {v!r}")
        if not low <= high:
            raise ValueError(f"IntUniform expected low <= high, got low={low}, high={high}")
        if log and low < 1:
            raise ValueError(f"IntUniform with log=True expected low >= 1, got {low}")
        self.low, self.high, self.log = int(low), int(high), bool(log)

    def sample(self, rng: Seed = None, size: int | None = None) -> Any:
        rng = get_rng(rng)
        if self.log:
            u = rng.uniform(math.log(self.low), math.log(self.high + 1), size=size)
            value = np.clip(np.floor(np.exp(u)), self.low, self.high).astype(np.int64)
        else:
            value = rng.integers(self.low, self.high + 1, size=size)
        return int(value) if size is None else value

    def __repr__(self) -> str:
        return f"IntUniform({self.low}, {self.high}{', log=True' if self.log else ''})"


class Choice(Distribution):
    """One of ``options``, each equally likely (activation, optimizer name, batch size)."""

    def __init__(self, options: Sequence[Any]) -> None:
        if isinstance(options, str) or not isinstance(options, Sequence) or len(options) == 0:
            raise ValueError(f"Choice expected a non-empty list of options, got {options!r}")
        self.options = list(options)

    def sample(self, rng: Seed = None, size: int | None = None) -> Any:
        index = get_rng(rng).integers(len(self.options), size=size)
        if size is None:
            return self.options[int(index)]
        return [self.options[int(i)] for i in index]

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"


def _as_distribution(value: Any) -> Distribution | None:
    """A distribution, a list (a :class:`Choice`), or None for a constant."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, (list, tuple)):
        return Choice(value)
    return None


# ---------------------------------------------------------------------- the search
class _Search:
    def __init__(self, build_fn: Callable[[dict[str, Any]], Any], *, metric: Any = None,
                 mode: str = "auto", refit: bool = True, rng: Seed = None,
                 verbose: int = 0, halving: SuccessiveHalving | None = None) -> None:
        if not callable(build_fn):
            raise TypeError(f"{type(self).__name__} expected a callable build_fn(params) that "
                            f"returns a Trainer, got {type(build_fn).__name__}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__} expected `mode` 'auto', 'min' or 'max', got "
                             f"{mode!r}")
        self.build_fn = build_fn
        self.metric = metric
        self.mode = mode
        self.refit = bool(refit)
        self.rng = rng
        self.verbose = int(verbose)
        if halving is not None and not isinstance(halving, SuccessiveHalving):
            raise TypeError(f"{type(self).__name__} expected halving=SuccessiveHalving(...) or "
                            f"None, got {halving!r}")
        self.halving = halving
        self.resumed_ = 0
        self.results_: list[dict[str, Any]] = []
        self.best_params_: dict[str, Any] | None = None
        self.best_score_: float | None = None
        self.best_estimator_: Any = None
        self.scaler_: Any = None
        self._last_was_trainer = True

    # -- what subclasses provide
    def _configurations(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        raise NotImplementedError

    # -- the protocol
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float | None = None,
        cv: int | KFold | None = None,
        stratify: bool = False,
        scaler: Callable[[], Any] | None = None,
        backend: str | Backend = "local",
        log: str | None = None,
        **fit_kwargs: Any,
    ) -> _Search:
        """Train and score every configuration, then (``refit``) train the best one on all the
        data given.

        Args:
            X, y: the data the search may use: training data (with ``validation_data``) or
                training plus validation data (``validation_split``, ``cv``).  Never the test
                set.
            validation_data: ``(X_val, y_val)`` to score on.
            validation_split: fraction of ``X`` held out (shuffled once with the search's rng,
                the same split for every configuration).
            cv: number of folds (a shuffled :class:`~neuralab.data.KFold`) or a splitter such as
                :class:`~neuralab.data.StratifiedKFold`; the score is the mean over folds.
            stratify: keep the class proportions of ``y`` in ``validation_split`` (and use
                stratified folds for an integer ``cv``).
            scaler: optional factory (``StandardScaler``): a fresh one is fitted on each
                training part only and applied to its validation part; the one fitted for the
                refit is kept as ``scaler_`` to transform the test set.
            backend: where the trainings run: ``"local"`` (here, one after another),
                ``"ray"`` (Ray tasks on a local instance) or a
                :class:`~neuralab.train.backend.RayBackend` (a cluster's ``address``, CPUs per
                task).  The results are the same on every backend; with Ray, the trained trial
                models stay in the workers (``refit`` trains the best one here).
            log: a JSON-lines file to which each finished training is appended as it finishes;
                a search started again with the same ``log`` (and the same data, settings and
                ``rng``) takes the finished ones from it instead of training them again
                (``resumed_`` counts them).  A log of another search is refused.
            **fit_kwargs: passed to each ``trainer.fit`` (``epochs``, ``batch_size``,
                ``callbacks``...; ``verbose`` defaults to 0).  A Trainer is also given the
                validation part as ``validation_data``, so its history and callbacks such as
                early stopping see it.

        Exactly one of ``validation_data``, ``validation_split`` and ``cv`` must be given.
        """
        X, y = np.asarray(X), np.asarray(y)
        name = type(self).__name__
        if len(X) != len(y):
            raise ValueError(f"{name}.fit expected X and y with the same number of samples, got "
                             f"{len(X)} and {len(y)}")
        given = [k for k, v in (("validation_data", validation_data),
                                ("validation_split", validation_split), ("cv", cv))
                 if v is not None]
        if len(given) != 1:
            raise ValueError(f"{name}.fit needs exactly one of validation_data, validation_split "
                             f"or cv to score configurations on, got "
                             f"{', '.join(given) if given else 'none'}")
        fit_kwargs.setdefault("verbose", 0)
        # One root number, then an independent stream per role: the split, the draws, and a
        # seed per trial and fold.  Trial t's configuration and seeds do not depend on n_trials
        # (a longer search with the same rng repeats the shorter one first), nor on where or in
        # which order the trainings run (the backend).
        root = int(get_rng(self.rng).integers(2**63 - 1))
        splits = self._splits(X, y, validation_data, validation_split, cv, stratify,
                              np.random.default_rng([root, 0]), scaler)
        configurations = self._configurations(np.random.default_rng([root, 1]))
        reseed = self.rng is not None
        bad = _RESERVED.intersection(set().union(*configurations))
        if bad:
            raise ValueError(f"{name}: the hyperparameter name(s) {sorted(bad)} are reserved for "
                             f"the results table; rename them")
        budgets = self._budgets(fit_kwargs)
        journal = None
        if log is not None:
            journal = Journal(log, kind="neuralab-search", fingerprint=search_fingerprint(
                root if reseed else None, configurations, splits, fit_kwargs, self.metric,
                budgets))
        shared = {"build_fn": self.build_fn, "splits": splits, "fit_kwargs": fit_kwargs,
                  "metric": self.metric}
        n_folds = len(splits)

        def seed_of(trial: int, fold: int) -> int | None:
            return _derived_seed(root, 2, trial, *((fold,) if fold else ())) if reseed else None

        def report(record: dict[str, Any]) -> None:
            if self.verbose:
                t, f, e = record["trial"], record["fold"], record["epochs"]
                shown = ", ".join(f"{k}={_fmt(v)}" for k, v in record["params"].items())
                where = f" fold {f + 1}/{n_folds}" if n_folds > 1 else ""
                budget = f" ({e} epochs)" if e is not None else ""
                print(f"trial {t + 1}/{len(configurations)}{where}{budget}: {shown} -> "
                      f"{self._metric_name()} {record['score']:.4g}", flush=True)

        def rank_sign(records: list[dict[str, Any]]) -> float:
            self._last_was_trainer = all(r["trainer"] for r in records)
            return -1.0 if self._resolve_mode() == "max" else 1.0

        rounds = run_rounds(_score_task, shared, configurations, n_folds=n_folds,
                            budgets=budgets, seed_of=seed_of, backend=backend, journal=journal,
                            sign=rank_sign, eta=self.halving.eta if self.halving else 3,
                            on_result=report)
        done, reached = rounds.done, rounds.reached
        self.resumed_ = rounds.resumed
        self._last_was_trainer = all(r["trainer"] for r in done.values())
        sign = -1.0 if self._resolve_mode() == "max" else 1.0
        rows = []
        for trial, params in enumerate(configurations):
            epochs = budgets[reached[trial]]
            values = np.asarray([done[(trial, f, epochs)]["score"] for f in range(n_folds)],
                                dtype=np.float64)
            row = {"rank": 0, "trial": trial, **params, "score": float(values.mean()),
                   "score_std": float(values.std()), "fold_scores": values.tolist(),
                   "params": dict(params)}
            if self.halving is not None:
                row["budget"] = epochs
            rows.append(row)
        # trials that went further rank first; failed ones (NaN, diverged) last; ties keep
        # trial order
        rows.sort(key=lambda r: (-reached[r["trial"]], math.isnan(r["score"]),
                                 sign * r["score"] if not math.isnan(r["score"]) else 0.0,
                                 r["trial"]))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        self.results_ = rows
        self.best_params_ = dict(rows[0]["params"])
        self.best_score_ = rows[0]["score"]
        if self.refit:
            if reseed:
                _seed_library(_derived_seed(root, 3, 0))
            if validation_data is not None:
                X_all = np.concatenate([X, np.asarray(validation_data[0])])
                y_all = np.concatenate([y, np.asarray(validation_data[1])])
            else:
                X_all, y_all = X, y
            self.scaler_ = None
            if scaler is not None:
                self.scaler_ = scaler()
                X_all = self.scaler_.fit_transform(X_all)
            self.best_estimator_ = _fit_one(self.build_fn, self.best_params_, X_all, y_all,
                                            None, fit_kwargs)
        return self

    def _budgets(self, fit_kwargs: dict[str, Any]) -> list[int | None]:
        """The epochs of each round: [None] (the fit's own) without halving."""
        if self.halving is None:
            return [None]
        if "epochs" not in fit_kwargs:
            raise ValueError(f"{type(self).__name__}: successive halving needs the full number "
                             f"of epochs as fit(..., epochs=N)")
        return self.halving.budgets(int(fit_kwargs["epochs"]))

    def _splits(self, X: np.ndarray, y: np.ndarray, validation_data: Any,
                validation_split: float | None, cv: Any, stratify: bool,
                rng: np.random.Generator, scaler: Callable[[], Any] | None
                ) -> list[tuple[np.ndarray, ...]]:
        """The (X_train, y_train, X_val, y_val) parts every trial is scored on, each scaled on
        its own training part once (the same for every trial)."""
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise TypeError(f"{type(self).__name__}.fit expected validation_data as a pair "
                                f"(X_val, y_val), got {type(validation_data).__name__}")
            X_tr, X_va = scale_fold(scaler, X, np.asarray(validation_data[0]))
            return [(X_tr, y, X_va, np.asarray(validation_data[1]))]
        if validation_split is not None:
            X_tr, X_va, y_tr, y_va = train_test_split(
                X, y, test_size=validation_split, stratify=y if stratify else None, rng=rng)
            X_tr, X_va = scale_fold(scaler, X_tr, X_va)
            return [(X_tr, y_tr, X_va, y_va)]
        splitter = make_splitter(cv, stratify=stratify, rng=int(rng.integers(2**31 - 1)),
                                 who=f"{type(self).__name__}.fit")
        return list(fold_parts(X, y, splitter, scaler))

    def _metric_name(self) -> str:
        if callable(self.metric):
            return getattr(self.metric, "__name__", "score")
        return self.metric or "score"

    def _resolve_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        if self.metric is None:
            # a Trainer's loss is minimized, an estimator's score() maximized
            return "min" if self._last_was_trainer else "max"
        # the metric's declared direction (better_direction, as the monitors ask it); a scorer
        # that declares none is maximized, scikit-learn's convention for scores
        return better_direction(self.metric) or "max"

    def table(self, max_rows: int | None = None) -> str:
        """The results as text, best first: rank, hyperparameters, score and its spread over
        folds (and, with halving, the epochs each trial reached)."""
        if not self.results_:
            return f"{type(self).__name__}: not fitted"
        names = list(self.results_[0]["params"])
        budget = ["budget"] if "budget" in self.results_[0] else []  # with halving
        header = ["rank", *names, self._metric_name(), "std", *budget]
        lines = []
        for row in self.results_[: max_rows or len(self.results_)]:
            lines.append([str(row["rank"]), *(_fmt(row[n]) for n in names), _fmt(row["score"]),
                          _fmt(row["score_std"]), *(_fmt(row[b]) for b in budget)])
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        out = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
        out += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines]
        return "\n".join(out)


class RandomSearch(_Search):
    """Random search: ``n_trials`` configurations drawn independently from ``space``.

    Args:
        build_fn: ``build_fn(params) -> Trainer`` (a fresh model, loss and optimizer for the
            configuration ``params``, a dict), or an estimator with ``fit``/``predict`` (such as
            scikit-learn's), or a pair ``(trainer, fit_kwargs)`` to vary ``epochs`` or
            ``batch_size`` too.
        space: name -> :class:`LogUniform`, :class:`Uniform`, :class:`IntUniform`,
            :class:`Choice`, a list (a choice) or a constant.
        n_trials: configurations to try.
        metric: what to compare: a key of ``trainer.evaluate`` (default ``"loss"``; pass
            ``"accuracy"`` with a classification Trainer), a metric name for
            :func:`~neuralab.train.get_metric`, or a callable ``(y_true, y_pred)``; for an
            estimator without ``metric``, its ``score`` method.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (minimize losses and errors, maximize
            anything else).
        refit: train the best configuration again on all the data given to ``fit``
            (training + validation) as ``best_estimator_``.
        rng: a Generator or an integer seed; it seeds the draws, the validation split or folds,
            and the library generator before each trial (so each trial's weights and shuffles
            do not depend on the trials before it).  The same integer gives the same table.
        verbose: print one line per trial.
        halving: :class:`SuccessiveHalving` to stop bad trials early (trainers only).

    After ``fit``: ``results_`` (list of dicts sorted best first, with ``rank``, ``trial``,
    each hyperparameter, ``score``, ``score_std``, ``fold_scores`` and ``params``),
    ``best_params_``, ``best_score_``, ``best_estimator_`` (with ``refit``), ``scaler_``,
    ``table()``.
    """

    def __init__(self, build_fn: Callable[[dict[str, Any]], Any], space: Mapping[str, Any],
                 n_trials: int = 10, rng: Seed = None, *, metric: Any = None,
                 mode: str = "auto", refit: bool = True, verbose: int = 0,
                 halving: SuccessiveHalving | None = None) -> None:
        super().__init__(build_fn, metric=metric, mode=mode, refit=refit, rng=rng,
                         verbose=verbose, halving=halving)
        if not isinstance(space, Mapping) or not space:
            raise ValueError(f"RandomSearch expected `space` as a non-empty dict name -> "
                             f"distribution, got {space!r}")
        if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) \
                or n_trials < 1:
            raise ValueError(f"RandomSearch expected a positive integer `n_trials`, got "
                             f"{n_trials!r}")
        self.space = dict(space)
        self.n_trials = int(n_trials)

    def _configurations(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        dists = {name: _as_distribution(spec) for name, spec in self.space.items()}
        return [{name: (spec if dists[name] is None else _plain(dists[name].sample(rng)))
                 for name, spec in self.space.items()}
                for _ in range(self.n_trials)]

    def __repr__(self) -> str:
        return f"RandomSearch(space={self.space!r}, n_trials={self.n_trials}, rng={self.rng!r})"


class GridSearch(_Search):
    """Grid search: every combination of the listed values (the cartesian product, the last
    name varying fastest).

    ``grid`` is a dict name -> list of values, or a list of such dicts (the union of their
    grids).  Other arguments as :class:`RandomSearch`; ``rng`` only seeds the validation split
    or folds and the library generator before each trial.

    >>> GridSearch(build, {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0, 1e-4]}, rng=0)
    """

    def __init__(self, build_fn: Callable[[dict[str, Any]], Any],
                 grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
                 rng: Seed = None, *, metric: Any = None, mode: str = "auto",
                 refit: bool = True, verbose: int = 0,
                 halving: SuccessiveHalving | None = None) -> None:
        super().__init__(build_fn, metric=metric, mode=mode, refit=refit, rng=rng,
                         verbose=verbose, halving=halving)
        grids = [grid] if isinstance(grid, Mapping) else list(grid)
        if not grids:
            raise ValueError("GridSearch expected a non-empty grid")
        for g in grids:
            if not isinstance(g, Mapping) or not g:
                raise ValueError(f"GridSearch expected a dict name -> list of values, got {g!r}")
            for name, values in g.items():
                if isinstance(values, str) or not isinstance(values, Iterable) or \
                        len(list(values)) == 0:
                    raise ValueError(f"GridSearch expected a non-empty list of values for "
                                     f"{name!r}, got {values!r}")
        self.grid = [{k: list(v) for k, v in g.items()} for g in grids]

    def _configurations(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        configs = []
        for g in self.grid:
            names = list(g)
            for combo in itertools.product(*(g[n] for n in names)):
                configs.append(dict(zip(names, combo)))
        return configs

    def __len__(self) -> int:
        return len(self._configurations(np.random.default_rng(0)))

    def __repr__(self) -> str:
        return f"GridSearch(grid={self.grid!r}, rng={self.rng!r})"


# ---------------------------------------------------------------------- the rounds
class Rounds:
    """What :func:`run_rounds` found: ``done`` maps ``(trial, fold, epochs)`` to its record,
    ``reached`` each trial to the last round it trained in, ``resumed`` counts the records
    taken from the journal."""

    def __init__(self, done: dict[tuple[Any, ...], dict[str, Any]], reached: dict[int, int],
                 resumed: int) -> None:
        self.done, self.reached, self.resumed = done, reached, resumed

    def scores(self, trial: int, epochs: int | None, n_folds: int) -> list[float]:
        return [float(self.done[(trial, f, epochs)]["score"]) for f in range(n_folds)]


def run_rounds(task: Callable[[Any, tuple[Any, ...]], dict[str, Any]], shared: Any,
               configurations: list[dict[str, Any]], *, n_folds: int,
               budgets: list[int | None], seed_of: Callable[[int, int], int | None],
               backend: str | Backend = "local", journal: Journal | None = None,
               sign: Callable[[list[dict[str, Any]]], float] = lambda records: 1.0,
               eta: int = 3, on_result: Callable[[dict[str, Any]], None] | None = None
               ) -> Rounds:
    """The engine of a search: every configuration on every fold, round by round.

    In each round (one per entry of ``budgets``, the epochs of that round; ``[None]`` is one
    round of the fit's own epochs) the trainings ``task(shared, (trial, fold, epochs, params,
    seed))`` of the trials still in the search run on ``backend`` (those found in ``journal``
    are taken from it); each returns a dict with ``"score"``; each finished one is appended to
    the journal at once and passed to ``on_result``.  After a round that is not the last, the
    best ``ceil(n / eta)`` trials by mean score over folds go on (``sign(records)``: 1.0 when
    lower is better, -1.0 when higher is; NaN last).
    """
    runner = get_backend(backend)
    done = {(r["trial"], r["fold"], r["epochs"]): r
            for r in (journal.records() if journal is not None else [])}
    resumed = len(done)
    alive = list(range(len(configurations)))
    reached: dict[int, int] = {}
    for rung, epochs in enumerate(budgets):
        items = [(t, f, epochs) for t in alive for f in range(n_folds)]
        todo = [(t, f, epochs, configurations[t], seed_of(t, f))
                for t, f, e in items if (t, f, e) not in done]
        for index, result in runner.map_unordered(task, shared, todo):
            t, f, e = todo[index][:3]
            record = {"trial": t, "fold": f, "epochs": e, "params": configurations[t],
                      **result, "score": float(result["score"])}
            done[(t, f, e)] = record
            if journal is not None:
                journal.append(record)
            if on_result is not None:
                on_result(record)
        for t in alive:
            reached[t] = rung
        if rung + 1 < len(budgets):
            direction = sign([done[k] for k in items])

            def key(t: int) -> tuple[Any, ...]:
                score = float(np.mean([done[(t, f, epochs)]["score"] for f in range(n_folds)]))
                return (math.isnan(score), direction * score if not math.isnan(score) else 0.0,
                        t)

            alive = sorted(sorted(alive, key=key)[:math.ceil(len(alive) / eta)])
    return Rounds(done, reached, resumed)


# ---------------------------------------------------------------------- one training
def _build(build_fn: Callable[[dict[str, Any]], Any],
           params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    built = build_fn(dict(params))
    extra: dict[str, Any] = {}
    if isinstance(built, tuple):
        if len(built) != 2 or not isinstance(built[1], Mapping):
            raise TypeError("build_fn should return a Trainer (or an estimator with fit), or "
                            "a pair (trainer, dict of fit arguments)")
        built, extra = built[0], dict(built[1])
    if not hasattr(built, "fit"):
        raise TypeError(f"build_fn returned {type(built).__name__}, which has no fit method; "
                        f"return a neuralab Trainer or an estimator with fit/predict")
    return built, extra


def _fit_one(build_fn: Callable[[dict[str, Any]], Any], params: dict[str, Any], X: np.ndarray,
             y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None,
             fit_kwargs: dict[str, Any], epochs: int | None = None) -> Any:
    model, extra = _build(build_fn, params)
    if _is_trainer(model):
        kwargs = {**fit_kwargs, **extra}
        if epochs is not None:  # a round of successive halving
            kwargs["epochs"] = epochs
        if validation is not None:
            kwargs["validation_data"] = validation
        model.fit(X, y, **kwargs)
    else:
        model.fit(X, y, **extra)
    return model


def _score_task(shared: dict[str, Any], item: tuple[Any, ...]) -> dict[str, Any]:
    """One training of a search, wherever it runs: configuration ``params`` on fold ``fold``
    (seeded with ``seed``), scored on the fold's validation part."""
    trial, fold, epochs, params, seed = item
    if seed is not None:
        _seed_library(seed)
    X_tr, y_tr, X_va, y_va = shared["splits"][fold]
    model = _fit_one(shared["build_fn"], params, X_tr, y_tr, (X_va, y_va), shared["fit_kwargs"],
                     epochs)
    score, trainer = _score_model(model, shared["metric"], X_va, y_va)
    return {"score": score, "trainer": trainer}


def _score_model(model: Any, metric: Any, X_va: np.ndarray, y_va: np.ndarray
                 ) -> tuple[float, bool]:
    trainer = _is_trainer(model)
    if callable(metric):
        return float(metric(y_va, _predict(model, X_va))), trainer
    if trainer:
        logs = model.evaluate(X_va, y_va)
        key = metric or "loss"
        if key in logs:
            return float(logs[key]), trainer
        # not one of the trainer's metrics: compute it from the predictions
        return float(get_metric(key)(y_va, _predict(model, X_va))), trainer
    if metric is None:
        if not hasattr(model, "score"):
            raise ValueError("the estimator has no score method; pass `metric` (a name or a "
                             "callable (y_true, y_pred)) to the search")
        return float(model.score(X_va, y_va)), trainer
    return float(get_metric(metric)(y_va, _predict(model, X_va))), trainer


def _describe(value: Any) -> Any:
    """A stable, JSON-able description of a setting for the fingerprint (objects by type)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _describe(v) for k, v in value.items()}
    return f"<{type(value).__module__}.{getattr(type(value), '__qualname__', type(value))}>"


def search_fingerprint(root: int | None, configurations: list[dict[str, Any]],
                 splits: list[tuple[np.ndarray, ...]], fit_kwargs: dict[str, Any], metric: Any,
                 budgets: list[int | None]) -> str:
    """A digest of everything that decides a search's results: the seed, the configurations,
    the data of every split, the fit arguments, the metric and the halving rounds."""
    digest = hashlib.sha256()
    head = {"root": root, "configurations": _describe(configurations),
            "fit": _describe(fit_kwargs), "budgets": budgets,
            "metric": getattr(metric, "__qualname__", None) if callable(metric) else metric}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for part in splits:
        for array in part:
            a = np.ascontiguousarray(array)
            digest.update(f"{a.dtype.str}{a.shape}".encode())
            digest.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    return digest.hexdigest()


class SuccessiveHalving:
    """Stop bad trials early (successive halving, Jamieson and Talwalkar 2016; Li et al. 2018's
    Hyperband repeats it): every configuration trains for ``min_epochs``, the best
    ``1 / eta`` of them for ``eta`` times as many epochs, and so on until the survivors train
    for the fit's full ``epochs``.  Each round trains from scratch with the same seeds, so a
    survivor's final score equals that of a full search's trial; the pruned ones rank after
    the survivors, by the round they reached.

    >>> RandomSearch(build, space, n_trials=27, rng=0, halving=SuccessiveHalving(min_epochs=5))
    """

    def __init__(self, min_epochs: int, eta: int = 3) -> None:
        for name, value, low in (("min_epochs", min_epochs, 1), ("eta", eta, 2)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < low:
                raise ValueError(f"SuccessiveHalving expected an integer {name} >= {low}, got "
                                 f"{value!r}")
        self.min_epochs = int(min_epochs)
        self.eta = int(eta)

    def budgets(self, epochs: int) -> list[int]:
        """The epochs of each round, ending with ``epochs``."""
        if epochs < self.min_epochs:
            raise ValueError(f"SuccessiveHalving: min_epochs={self.min_epochs} is more than the "
                             f"fit's epochs={epochs}")
        out = []
        budget = self.min_epochs
        while budget < epochs:
            out.append(budget)
            budget *= self.eta
        return [*out, epochs]

    def __repr__(self) -> str:
        return f"SuccessiveHalving(min_epochs={self.min_epochs}, eta={self.eta})"


# ---------------------------------------------------------------------- helpers
def _is_trainer(model: Any) -> bool:
    return hasattr(model, "evaluate") and hasattr(model, "fit")


def _predict(model: Any, X: np.ndarray) -> np.ndarray:
    if not hasattr(model, "predict"):
        raise TypeError(f"{type(model).__name__} has no predict method to score with `metric`")
    return np.asarray(model.predict(X))


def _derived_seed(*key: int) -> int:
    return int(np.random.default_rng(list(key)).integers(2**31 - 1))


def _plain(value: Any) -> Any:
    """NumPy scalars as Python numbers (results stay JSON-able)."""
    return value.item() if isinstance(value, np.generic) else value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
