"""``neuralab compare DATA``: the network of ``neuralab train`` against scikit-learn's models on the
same folds (the lecture's wine practical: "model it with other ML algorithms and compare").

1. the table is read and prepared exactly as ``neuralab train`` does it
   (:func:`~neuralab.apps.tabular.prepare_table`: the columns, the rows with a target, the task
   rule, the encoded target);
2. K folds of the same rows (``cv``, default 5; stratified for classes, shuffled by ``seed``):
   every model is trained on the same training rows and scored on the same test rows;
3. on each fold one :class:`~neuralab.data.TablePreprocessor` is fitted on the training rows, and
   every model gets its output (the same inputs for all);
4. the models: neuralab's network with the settings of ``neuralab train`` (its validation rows for
   early stopping are taken from the fold's training rows, as ``train`` takes them from its own),
   and scikit-learn's linear or logistic regression, k-NN, random forest, histogram gradient
   boosting, SVM (SVC/SVR) and MLP (MLPClassifier/MLPRegressor), each with scikit-learn's
   defaults (the logistic regression with ``max_iter=1000``, so that it converges);
5. on each test fold the metrics of ``train``: accuracy and macro F1 for classes; MAE, RMSE, R^2
   (and the accuracy within 0.5 and 1.0 for whole-number targets) for numbers, predicted numbers
   clipped to the range of the fold's training targets for every model; their mean and standard
   deviation (``ddof=1``) over the folds, and the seconds each fit took.

The run directory (``out``, written as a unit by :class:`~neuralab.io.RunDirectory`) holds
``compare.json`` (``metric`` and ``rows`` as :mod:`neuralab.apps.report` reads them, plus every
metric per fold and the settings), ``predictions.csv`` (every row's out-of-fold prediction by
every model, with its fold), ``compare.png`` (each model's metric per fold and its mean),
``metrics.json`` (what the report's summary shows) and ``report.html``.

scikit-learn comes with the ``[lab]`` extra (``pip install 'neuralab[lab]'``).
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data.split import make_splitter
from ..io import RunDirectory, atomic_write, figures, to_jsonable
from ..random import seed as set_seed
from ..train.metrics import better_direction
from .tabular import (
    PreparedTable,
    TabularConfig,
    _check_settings,
    _predict_arrays,
    build_network,
    check_size,
    data_profile,
    fit_network,
    fit_preprocessor,
    prepare_table,
    split_off,
    task_metrics,
)

#: model key -> (its name for classes, its name for numbers), in the order of the table
MODELS: dict[str, tuple[str, str]] = {
    "neuralab": ("neuralab MLP", "neuralab MLP"),
    "linear": ("LogisticRegression", "LinearRegression"),
    "knn": ("KNeighborsClassifier", "KNeighborsRegressor"),
    "random_forest": ("RandomForestClassifier", "RandomForestRegressor"),
    "gradient_boosting": ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"),
    "svm": ("SVC", "SVR"),
    "sklearn_mlp": ("MLPClassifier", "MLPRegressor"),
}
#: the metric that ranks the models (compare.json's "metric"), per task
HEADLINE = {"classification": "accuracy", "regression": "r2"}
LAB_EXTRA = "pip install 'neuralab[lab]'"


@dataclass
class CompareConfig:
    """Settings of :func:`compare_models`.  ``table`` holds the data, the columns, the task, the
    seed and the network's settings, all as ``neuralab train`` takes them (its defaults are
    train's); the rest says how to compare."""

    table: TabularConfig = field(default_factory=TabularConfig)
    cv: int = 5  # folds
    models: tuple[str, ...] = tuple(MODELS)
    rows: int = 0  # compare on a seeded sample of this many rows (0: all)
    out: str = ""  # the run directory ("": nothing written)
    overwrite: bool = False
    verbose: int = 1  # 0 silent, 1 a line per model as it finishes


@dataclass
class ModelScores:
    """One model's results: the metrics of every fold, the seconds of every fit, the
    out-of-fold prediction of every row (class indices or numbers)."""

    key: str
    name: str
    folds: list[dict[str, float]]
    fit_seconds: list[float]
    predictions: np.ndarray
    notes: list[str] = field(default_factory=list)

    def values(self, metric: str) -> list[float]:
        return [fold[metric] for fold in self.folds]

    def mean(self, metric: str) -> float:
        return float(np.mean(self.values(metric)))

    def std(self, metric: str) -> float:
        values = self.values(metric)
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


@dataclass
class CompareResult:
    data: PreparedTable = field(repr=False)
    metric: str
    folds: list[tuple[np.ndarray, np.ndarray]] = field(repr=False)  # (training, test) rows
    scores: list[ModelScores]
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def metric_names(self) -> list[str]:
        return list(self.scores[0].folds[0]) if self.scores else []

    def summary(self) -> str:
        """The comparison as a table: every metric's mean +- standard deviation over the folds,
        and the mean seconds of a fit."""
        d = self.data
        lines = [f"task: {d.task} ({d.rule})",
                 f"{len(d.table)} rows in {len(self.folds)} folds"
                 f"{' (stratified)' if d.classes else ''}; {len(d.features)} columns",
                 *self.notes, ""]
        names = self.metric_names
        width = max([len(s.name) for s in self.scores] + [5])
        widths = [max(len(n), 17) for n in names]  # "0.9533 +- 0.0115" and a space
        lines.append(f"{'model':<{width}}  " + "  ".join(f"{n:<{w}}" for n, w in
                                                         zip(names, widths)) + "  fit seconds")
        for s in self.scores:
            cells = "  ".join(f"{s.mean(n):.4f} +- {s.std(n):.4f}".ljust(w)
                              for n, w in zip(names, widths))
            lines.append(f"{s.name:<{width}}  {cells}  {np.mean(s.fit_seconds):.3f}")
        lines += [f"note: {s.name}: {note}" for s in self.scores for note in s.notes]
        best = self.best()
        if best is not None:
            lines.append(f"best mean {self.metric}: {best.name}")
        return "\n".join(lines)

    def best(self) -> ModelScores | None:
        finite = [s for s in self.scores if math.isfinite(s.mean(self.metric))]
        if not finite:
            return None
        sign = -1 if better_direction(self.metric) == "min" else 1
        return max(finite, key=lambda s: sign * s.mean(self.metric))


# ---------------------------------------------------------------------- the models
class NetworkModel:
    """The network of ``neuralab train`` as an estimator: :meth:`fit` holds out
    ``config.validation_split`` of the rows it is given for early stopping (stratified for
    classes, seeded by ``config.seed + 1``, as ``train`` does), seeds the library with
    ``config.seed`` and trains; :meth:`predict` gives class indices or numbers."""

    def __init__(self, config: TabularConfig, classes: list[str] | None) -> None:
        self.config = config
        self.classes = classes
        self.model: Any = None
        self.epochs_run = 0

    def fit(self, X: np.ndarray, y: np.ndarray) -> NetworkModel:
        labels = y.reshape(-1) if self.classes else None
        fit_rows, val_rows = split_off(np.arange(len(X)), self.config.validation_split, labels,
                                       self.config.seed + 1)
        set_seed(self.config.seed)
        trainer = build_network(self.config, X.shape[1], self.classes)
        history, _ = fit_network(self.config, trainer, (X[fit_rows], y[fit_rows]),
                                 (X[val_rows], y[val_rows]))
        self.model = trainer.model
        self.epochs_run = len(history.history["loss"])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        outputs = _predict_arrays(self.model, X, self.classes, None)
        return outputs.argmax(axis=1) if self.classes else outputs


def _sklearn_model(key: str, classification: bool, seed: int) -> Any:
    try:
        from sklearn import ensemble, linear_model, neighbors, neural_network, svm
    except ImportError:
        raise ImportError(f"neuralab compare trains scikit-learn's models, which come with the "
                          f"[lab] extra: {LAB_EXTRA}") from None
    classes = {  # key -> (for classes, for numbers), named as in MODELS
        "linear": (linear_model.LogisticRegression, linear_model.LinearRegression),
        "knn": (neighbors.KNeighborsClassifier, neighbors.KNeighborsRegressor),
        "random_forest": (ensemble.RandomForestClassifier, ensemble.RandomForestRegressor),
        "gradient_boosting": (ensemble.HistGradientBoostingClassifier,
                              ensemble.HistGradientBoostingRegressor),
        "svm": (svm.SVC, svm.SVR),
        "sklearn_mlp": (neural_network.MLPClassifier, neural_network.MLPRegressor),
    }
    cls = classes[key][0 if classification else 1]
    kwargs: dict[str, Any] = {}
    if "random_state" in cls().get_params():  # the randomized ones: seeded
        kwargs["random_state"] = seed
    if cls is linear_model.LogisticRegression:
        kwargs["max_iter"] = 1000  # instead of 100, so that it converges
    return cls(**kwargs)


def make_model(key: str, data: PreparedTable, network: TabularConfig) -> Any:
    """A fresh, unfitted model ``key`` of :data:`MODELS` for the task of ``data``, with
    ``fit(X, y)`` and ``predict(X)`` (class indices or numbers)."""
    if key == "neuralab":
        return NetworkModel(network, data.classes)
    return _SklearnModel(_sklearn_model(key, data.classes is not None, network.seed))


class _SklearnModel:
    """A scikit-learn estimator with 1-D targets; what it warned about while fitting is kept
    (a ConvergenceWarning, typically)."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.warnings: list[str] = []

    def fit(self, X: np.ndarray, y: np.ndarray) -> _SklearnModel:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.estimator.fit(X, y.reshape(-1))
        self.warnings = sorted({w.category.__name__ for w in caught})
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(X))


def model_name(key: str, data: PreparedTable, network: TabularConfig) -> str:
    name = MODELS[key][0 if data.classes else 1]
    if key == "neuralab":
        name += f" ({'-'.join(map(str, network.hidden))})"
    return name


# ---------------------------------------------------------------------- comparing
def _check(config: CompareConfig) -> None:
    _check_settings(config.table)
    if isinstance(config.cv, bool) or not isinstance(config.cv, int) or config.cv < 2:
        raise ValueError(f"cv must be a whole number of folds, at least 2, got {config.cv!r}")
    if isinstance(config.rows, bool) or not isinstance(config.rows, int) or config.rows < 0:
        raise ValueError(f"rows must be a whole number >= 0 (0: all), got {config.rows!r}")
    unknown = [m for m in config.models if m not in MODELS]
    if unknown or not config.models:
        raise ValueError(f"unknown model(s) {unknown} (--models); the models are "
                         f"{', '.join(MODELS)}")
    if any(m != "neuralab" for m in config.models):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise ImportError(f"neuralab compare trains scikit-learn's models, which come with "
                              f"the [lab] extra: {LAB_EXTRA} (or compare --models neuralab "
                              "alone)") from None


def sample_rows(data: PreparedTable, rows: np.ndarray) -> PreparedTable:
    """``data`` restricted to ``rows`` (positions), in their order."""
    return replace(data, table=data.table.select(rows), y=data.y[rows],
                   stratify=data.stratify[rows] if data.stratify is not None else None,
                   notes=list(data.notes))


def make_folds(data: PreparedTable, cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` folds of the rows of ``data``, shuffled by ``seed``, stratified for classes:
    ``(training rows, test rows)`` per fold; every row is in exactly one test part."""
    splitter = make_splitter(cv, stratify=data.classes is not None, rng=seed, who="compare")
    rows = np.arange(len(data.table))
    return list(splitter.split(rows, data.stratify))


def cross_validate_models(data: PreparedTable, folds: list[tuple[np.ndarray, np.ndarray]],
                          keys: tuple[str, ...], network: TabularConfig,
                          progress: Callable[[ModelScores], None] | None = None
                          ) -> list[ModelScores]:
    """Every model of ``keys`` trained on each fold's training rows and scored on its test rows,
    all with the same preprocessing (one :class:`TablePreprocessor` per fold, fitted on its
    training rows); ``progress`` is called with each model's scores as it finishes."""
    classes = data.classes
    parts = []
    for train_rows, test_rows in folds:
        prep = fit_preprocessor(network, data.table.select(train_rows))
        X_train = prep.transform(data.table.select(train_rows))
        X_test = prep.transform(data.table.select(test_rows))
        parts.append((X_train, data.y[train_rows], X_test, data.y[test_rows]))
    if "neuralab" in keys:
        check_size(network, parts[0][0].shape[1], len(classes) if classes else 1)
    results = []
    for key in keys:
        fold_metrics, seconds, notes = [], [], []
        predictions = np.zeros(len(data.table), dtype=np.int64 if classes else np.float64)
        warned: dict[str, int] = {}
        for (X_train, y_train, X_test, y_test), (_, test_rows) in zip(parts, folds):
            model = make_model(key, data, network)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds.append(time.perf_counter() - start)
            predicted = model.predict(X_test)
            if not classes:  # as train: within the range of the training targets
                predicted = np.clip(predicted.astype(np.float64).reshape(-1),
                                    float(y_train.min()), float(y_train.max()))
            predictions[test_rows] = predicted
            fold_metrics.append(task_metrics(y_test, predicted, classes))
            for name in getattr(model, "warnings", []):
                warned[name] = warned.get(name, 0) + 1
        notes += [f"scikit-learn warned {name} on {count} of {len(folds)} folds"
                  for name, count in warned.items()]
        scores = ModelScores(key, model_name(key, data, network), fold_metrics, seconds,
                             predictions, notes)
        results.append(scores)
        if progress is not None:
            progress(scores)
    return results


def compare_models(config: CompareConfig, command: str = "") -> CompareResult:
    """Compare the models of ``config.models`` on ``config.table.data`` (see the module
    docstring); with ``config.out`` the run directory is written, all or none.

    Raises ``ValueError`` for bad settings or data and ``OSError`` for the output directory,
    both before any model is trained; ``ImportError`` without scikit-learn;
    :class:`~neuralab.apps.tabular.TrainingDiverged` when the network's loss became nan."""
    _check(config)
    run_dir = RunDirectory(config.out, overwrite=config.overwrite) if config.out else None
    if run_dir is not None:
        run_dir.check()
    network = replace(config.table, verbose=0, out="", overwrite=False)
    data = prepare_table(network)
    notes: list[str] = []
    if config.rows and config.rows < len(data.table):
        chosen = np.sort(np.random.default_rng(network.seed).choice(
            len(data.table), config.rows, replace=False))
        notes.append(f"a seeded sample of {config.rows} of the {len(data.table)} rows (--rows)")
        data = sample_rows(data, chosen)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folds = make_folds(data, config.cv, network.seed)
    notes += [str(w.message) for w in caught]
    metric = HEADLINE[data.task]
    if config.verbose:
        print(f"{len(data.table)} rows in {config.cv} folds; {len(config.models)} models, each "
              f"on the same folds:", flush=True)

    def report(scores: ModelScores) -> None:
        if config.verbose:
            print(f"  {scores.name:<32} {metric} {scores.mean(metric):.4f} +- "
                  f"{scores.std(metric):.4f}   {np.mean(scores.fit_seconds):.2f} s per fit",
                  flush=True)

    scores = cross_validate_models(data, folds, tuple(config.models), network, report)
    result = CompareResult(data, metric, folds, scores, notes + data.notes)
    if run_dir is not None:
        result.files = [str(Path(config.out) / name)
                        for name in _write_run(run_dir, config, network, result, command)]
    return result


# ---------------------------------------------------------------------- the run directory
def _settings(config: CompareConfig, network: TabularConfig) -> dict[str, Any]:
    table = asdict(network)
    for key in ("out", "overwrite", "verbose", "max_memory_gb", "test_size"):
        table.pop(key)
    return {"cv": config.cv, "models": list(config.models), "rows": config.rows, **table}


def compare_json(config: CompareConfig, network: TabularConfig, result: CompareResult) -> dict:
    """compare.json: the keys :mod:`neuralab.apps.report` reads (``metric``; ``rows`` of
    ``model``, ``mean``, ``std``, ``fit_seconds``) and, per row, every metric's mean, standard
    deviation and fold values, the seconds of every fit and the notes; then the settings."""
    d = result.data
    rows = []
    for s in result.scores:
        rows.append({
            "model": s.name, "key": s.key, "mean": s.mean(result.metric),
            "std": s.std(result.metric), "fit_seconds": float(np.mean(s.fit_seconds)),
            "metrics": {name: {"mean": s.mean(name), "std": s.std(name), "folds": s.values(name)}
                        for name in result.metric_names},
            "fit_seconds_folds": s.fit_seconds, "notes": s.notes,
        })
    return {"metric": result.metric, "rows": rows, "folds": len(result.folds),
            "fold_sizes": [[len(a), len(b)] for a, b in result.folds],
            "task": d.task, "task_rule": d.rule, "data": network.data, "target": d.target,
            "classes": d.classes, "n_rows": len(d.table), "notes": result.notes,
            "settings": _settings(config, network)}


def _predictions_csv(result: CompareResult) -> bytes:
    d = result.data
    fold_of = np.zeros(len(d.table), dtype=np.int64)
    for k, (_, test_rows) in enumerate(result.folds):
        fold_of[test_rows] = k + 1

    def text(value: Any) -> str:
        return d.classes[int(value)] if d.classes else repr(float(value))

    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["line", "fold", f"true_{d.target}", *(s.key for s in result.scores)])
    truth = d.y.reshape(-1)
    for i, line in enumerate(d.table.lines):
        writer.writerow([int(line), int(fold_of[i]), text(truth[i]),
                         *(text(s.predictions[i]) for s in result.scores)])
    return buf.getvalue().encode()


def _plot(result: CompareResult, path: Path) -> bool:
    try:
        plt = figures.pyplot()
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(result.scores), 4))
    for i, s in enumerate(result.scores):
        values = s.values(result.metric)
        spread = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else [0.0]
        ax.scatter(i + np.asarray(spread), values, s=18, alpha=0.7, color="tab:blue",
                   label="a fold" if i == 0 else None)
        ax.hlines(s.mean(result.metric), i - 0.3, i + 0.3, color="tab:red",
                  label="mean" if i == 0 else None)
    ax.set_xticks(range(len(result.scores)), [s.name for s in result.scores], rotation=30,
                  ha="right")
    ax.set(ylabel=result.metric,
           title=f"{result.metric} on each of the {len(result.folds)} test folds")
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    figures.save(fig, path)
    return True


def _write_run(run_dir: RunDirectory, config: CompareConfig, network: TabularConfig,
               result: CompareResult, command: str) -> list[str]:
    from .report import write_report

    d = result.data
    compare = compare_json(config, network, result)
    prep = fit_preprocessor(network, d.table)  # only to describe the columns
    summary = {"kind": "compare", "task": d.task, "task_rule": d.rule, "command": command,
               "data": network.data, "target": d.target, "test": {}, "cv": len(result.folds),
               "n_rows": len(d.table), "features": d.features,
               "inputs": len(prep.output_names), "classes": d.classes,
               "notes": result.notes + [f"{s.name}: {note}" for s in result.scores
                                        for note in s.notes],
               "data_profile": data_profile(d.table, prep), "config": compare["settings"]}
    payloads = {}
    for name, payload in (("compare.json", compare), ("metrics.json", summary)):
        try:
            payloads[name] = json.dumps(to_jsonable(payload), indent=1, allow_nan=False).encode()
        except ValueError:
            raise ValueError(f"{name} would hold a value that is not finite; nothing was "
                             "written") from None
    payloads["predictions.csv"] = _predictions_csv(result)
    names = list(payloads)
    with run_dir as tmp:
        for name, payload in payloads.items():
            atomic_write(tmp / name, payload)
        if _plot(result, tmp / "compare.png"):
            names.append("compare.png")
        write_report(tmp)
        names.append("report.html")
    return names


def default_out(data: str) -> str:
    return f"runs/compare-{Path(data).stem}"
