"""Lab: the lecture's wine-quality practical (4.03.NN.wine): predict the quality grade of white
vinho verde from 11 physicochemical measurements with a neural network, and compare it with
non-neural machine-learning models.

Data: the UCI Wine Quality data (white wines, 4,898 rows), shipped with neuralab
(:func:`neuralab.data.wine_quality_path`; CC BY 4.0, P. Cortez, A. Cerdeira, F. Almeida,
T. Matos and J. Reis, "Modeling wine preferences by data mining from physicochemical
properties", *Decision Support Systems* 47(4):547-553, 2009).  ``--set csv=PATH`` reads another
CSV of the same form instead.

Protocol (as Cortez et al., who found the support vector machine best): k-fold
cross-validation, the input scaler fitted on the training folds only, every model trained on the
same folds, once per seed (the seed shuffles the folds, draws the subset and initializes the
models):

* **MLP** (neuralab): Dense(64, relu) -> Dense(64, relu) -> Dense(1), MSE on the standardized
  grade, Adam, early stopping on 10 % of the training folds (never on the held-out fold);
* scikit-learn baselines with their default settings: **LinearRegression**,
  **RandomForestRegressor**, **SVR** (RBF kernel) and **KNeighborsRegressor**.

Metrics on each held-out fold: MAE (Cortez's MAD), RMSE, R^2, and the accuracy within a
tolerance T (``|y - y_hat| <= T``: T = 0.5 means the rounded prediction is the true grade,
T = 1.0 accepts a neighbouring grade).

**How the claim is decided.**  The MLP and the linear model predict every wine once, out of fold,
on the same folds, so their errors can be compared wine by wine: with
:math:`d_i = |y_i - \\hat y^{lin}_i| - |y_i - \\hat y^{MLP}_i|` over the :math:`n` wines, the
MAE difference has the paired standard error :math:`\\mathrm{SE} = \\mathrm{sd}(d) / \\sqrt{n}`.
The claim holds when the MLP has the lower MAE and the higher R^2 on every seed, and the median
over seeds of the ratio (MAE difference) / SE is at least ``Z``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as seed_library
from neuralab.data import KFold, StandardScaler, load_csv, train_test_split, wine_quality_path
from neuralab.train import EarlyStopping, Trainer
from neuralab.train import metrics as M
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Wine quality: a neural network against non-neural regressors (5-fold CV)"
#: the median MAE advantage of the MLP over the linear model must be this many paired SEs
Z = 2.0
CLAIM = (
    "On the wine-quality practical a neural network (다층 퍼셉트론) regressor, evaluated by k-fold "
    "cross-validation (교차 검증) with the scaler fitted on the training folds only, beats the "
    "linear baseline: lower MAE and higher R² on every seed, by a median MAE margin of at least "
    f"{Z:g} paired standard errors; the table reports honestly how it compares with the other "
    "non-neural models (Cortez et al. 2009 found the SVM best)."
)
CONCEPTS = [26, 22, 23, 6, 7]

SHIPPED = "winequality-white.csv, shipped with neuralab (UCI Wine Quality, Cortez et al. 2009)"
MODELS = ("mlp", "linear", "random_forest", "svr", "knn")
LABELS = {"mlp": "MLP (neuralab)", "linear": "LinearRegression", "random_forest": "RandomForest",
          "svr": "SVR (RBF)", "knn": "k-NN"}
METRICS = ("mae", "rmse", "r2", "acc_t05", "acc_t10")
METRIC_LABELS = {"mae": "MAE", "rmse": "RMSE", "r2": "R²", "acc_t05": "acc T=0.5",
                 "acc_t10": "acc T=1.0"}
_HIGHER_IS_BETTER = ("r2", "acc_t05", "acc_t10")


@dataclass
class Config:
    csv: str = ""                 # another CSV of the same form; empty: the shipped white wines
    target: str = "quality"
    folds: int = 5
    subset: int = 0               # use a seeded random subset of this many rows (0: all)
    models: tuple[str, ...] = MODELS
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 1e-3
    epochs: int = 300             # at most; early stopping decides
    patience: int = 20
    batch_size: int = 64
    rf_trees: int = 200
    seeds: tuple[int, ...] = (0, 1, 2)   # the whole cross-validation once per seed

    @classmethod
    def quick(cls) -> Config:
        return cls(folds=3, subset=1500, epochs=150, patience=10, rf_trees=20,
                   seeds=(0, 1, 2, 3, 4))


@dataclass
class Comparison:
    """The MLP against the linear model on one seed (the same folds, the same wines)."""

    seed: int
    mae_gain: float       # MAE(linear) - MAE(MLP), means over folds
    mae_gain_se: float    # paired standard error of that difference
    r2_gain: float        # R²(MLP) - R²(linear)

    @property
    def z(self) -> float:
        return self.mae_gain / self.mae_gain_se if self.mae_gain_se > 0 else math.inf


@dataclass
class Result:
    data: str
    n_samples: int
    n_features: int
    n_rows: int                                  # rows of the file
    n_distinct: int                              # distinct rows of the file (inputs and grade)
    top_grade: tuple[float, float]               # the most common grade and its share
    folds: int
    seeds: list[int]
    per_seed: list[dict[str, dict[str, float]]]  # seed index -> model -> metric -> fold mean
    mean: dict[str, dict[str, float]]            # model -> metric -> mean over seeds
    low: dict[str, dict[str, float]]             # model -> metric -> min over seeds
    high: dict[str, dict[str, float]]            # model -> metric -> max over seeds
    comparisons: list[Comparison] = field(default_factory=list)
    y_true: list[float] = field(default_factory=list)          # the first seed's wines
    predictions: dict[str, list[float]] = field(default_factory=dict)  # out of fold, 1st seed
    mlp_epochs: list[list[int]] = field(default_factory=list)  # per seed, per fold
    claim_holds: bool = False

    def ranking(self, metric: str = "mae") -> list[str]:
        reverse = metric in _HIGHER_IS_BETTER
        return sorted(self.mean, key=lambda m: self.mean[m][metric], reverse=reverse)

    def summary(self) -> str:
        grade, share = self.top_grade
        lines = [f"data: {self.data}",
                 f"the file: {self.n_rows} rows, {self.n_distinct} distinct; the most common "
                 f"grade, {grade:g}, is {share:.3f} of them",
                 f"used: {self.n_samples} wines, {self.n_features} inputs, {self.folds}-fold "
                 f"cross-validation, seeds {', '.join(str(s) for s in self.seeds)}",
                 "",
                 "mean over the folds, then over the seeds (min-max over seeds):",
                 f"{'model':<17}" + "".join(f"{METRIC_LABELS[k]:^20}" for k in METRICS)]
        for model in self.ranking("mae"):
            cells = "".join(f" {self.mean[model][k]:.3f} ({self.low[model][k]:.3f}-"
                            f"{self.high[model][k]:.3f})" for k in METRICS)
            lines.append(f"{LABELS[model]:<17}{cells}")
        lines.append(f"ranking by MAE: {', '.join(LABELS[m] for m in self.ranking('mae'))}")
        if self.comparisons:
            lines += ["",
                      "MLP against LinearRegression per seed (SE: paired standard error of the "
                      "MAE difference):",
                      f"{'seed':>6} {'MAE linear':>11} {'MAE MLP':>8} {'gain':>8} {'SE':>7} "
                      f"{'gain/SE':>8} {'R² linear':>10} {'R² MLP':>7} {'R² gain':>8}"]
            for i, c in enumerate(self.comparisons):
                lin, mlp = self.per_seed[i]["linear"], self.per_seed[i]["mlp"]
                lines.append(f"{c.seed:>6} {lin['mae']:>11.4f} {mlp['mae']:>8.4f} "
                             f"{c.mae_gain:>+8.4f} {c.mae_gain_se:>7.4f} {c.z:>8.2f} "
                             f"{lin['r2']:>10.4f} {mlp['r2']:>7.4f} {c.r2_gain:>+8.4f}")
            gains = np.array([[c.mae_gain, c.mae_gain_se, c.z, c.r2_gain]
                              for c in self.comparisons])
            for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
                g = f(gains, axis=0)
                lines.append(f"{label:>6} {'':>11} {'':>8} {g[0]:>+8.4f} {g[1]:>7.4f} "
                             f"{g[2]:>8.2f} {'':>10} {'':>7} {g[3]:>+8.4f}")
            lines.append(f"the MLP beats the linear model on every seed (MAE and R²): "
                         f"{'yes' if _beats_everywhere(self.comparisons) else 'NO'}; median "
                         f"gain/SE {np.median(gains[:, 2]):.2f} (needed: at least {Z:g})")
        if "mlp" in self.mean:
            lines.append("")
            for other in ("svr", "random_forest", "knn"):
                if other not in self.mean:
                    continue
                wins = sum(s["mlp"]["mae"] < s[other]["mae"] for s in self.per_seed)
                diff = np.median([s[other]["mae"] - s["mlp"]["mae"] for s in self.per_seed])
                acc = np.median([s["mlp"]["acc_t05"] - s[other]["acc_t05"]
                                 for s in self.per_seed])
                lines.append(f"MLP vs {LABELS[other]}: lower MAE on {wins} of "
                             f"{len(self.per_seed)} seeds; medians over seeds: MAE difference "
                             f"{diff:+.3f} (positive: MLP better), acc T=0.5 difference "
                             f"{acc:+.3f} (positive: MLP better)")
        return "\n".join(lines)


def _beats_everywhere(comparisons: list[Comparison]) -> bool:
    return bool(comparisons) and all(c.mae_gain > 0 and c.r2_gain > 0 for c in comparisons)


# ---------------------------------------------------------------------- data
def data_path(csv: str = "") -> Path:
    """The CSV to read: ``csv`` if given, else the white-wine file shipped with neuralab."""
    if not csv:
        return wine_quality_path()
    path = Path(csv).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"wine-quality: no such file {str(path)!r}; give an existing CSV "
                                f"with --set csv=PATH, or leave csv empty for the shipped "
                                f"white-wine data")
    return path


def _load(config: Config) -> tuple[str, np.ndarray, np.ndarray]:
    path = data_path(config.csv)
    X, y, _ = load_csv(path, target=config.target)
    if y.dtype.kind not in "iuf":
        raise ValueError(f"wine-quality: the target column {config.target!r} must be numeric, "
                         f"got values such as {y[0]!r}")
    if config.subset and not 10 <= config.subset <= len(X):
        raise ValueError(f"expected `subset` between 10 and {len(X)} (or 0 for all rows), "
                         f"got {config.subset}")
    return (str(path) if config.csv else SHIPPED), X, y.astype(np.float32)


# ---------------------------------------------------------------------- models
def _fit_predict_mlp(config: Config, X_tr: np.ndarray, y_tr: np.ndarray, X_va: np.ndarray,
                     seed: int) -> tuple[np.ndarray, int]:
    # the grade is standardized with training statistics so the output layer starts near scale
    mu, sigma = float(y_tr.mean()), float(y_tr.std()) or 1.0
    t_tr = ((y_tr - mu) / sigma).astype(np.float32)[:, None]
    # early stopping watches part of the training folds, never the held-out fold
    X_fit, X_stop, t_fit, t_stop = train_test_split(X_tr, t_tr, test_size=0.1, rng=seed)
    seed_library(seed)
    layers: list[Any] = []
    for i, units in enumerate(config.hidden):
        layers.append(nn.Dense(units, activation="relu",
                               input_dim=X_tr.shape[1] if i == 0 else None))
    model = nn.Sequential([*layers, nn.Dense(1, input_dim=None if layers else X_tr.shape[1])])
    trainer = Trainer(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=config.lr),
                      rng=seed)
    stop = EarlyStopping(monitor="val_loss", patience=config.patience,
                         restore_best_weights=True)
    history = trainer.fit(X_fit, t_fit, validation_data=(X_stop, t_stop), epochs=config.epochs,
                          batch_size=config.batch_size, callbacks=[stop], verbose=0)
    pred = trainer.predict(X_va)[:, 0] * sigma + mu
    return pred.astype(np.float32), len(history.history["loss"])


def _sklearn_model(name: str, config: Config, seed: int) -> Any:
    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.linear_model import LinearRegression
        from sklearn.neighbors import KNeighborsRegressor
        from sklearn.svm import SVR
    except ImportError:
        raise ImportError("the baselines come from scikit-learn: pip install 'neuralab[lab]'") \
            from None
    if name == "linear":
        return LinearRegression()
    if name == "random_forest":
        return RandomForestRegressor(n_estimators=config.rf_trees, random_state=seed, n_jobs=1)
    if name == "svr":
        return SVR()
    if name == "knn":
        return KNeighborsRegressor()
    raise ValueError(f"unknown model {name!r}; choose from {list(MODELS)}")


def _scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    return {"mae": M.mae(y, pred), "rmse": M.rmse(y, pred), "r2": M.r2(y, pred),
            "acc_t05": M.accuracy_within(y, pred, 0.5),
            "acc_t10": M.accuracy_within(y, pred, 1.0)}


def _cross_validate(config: Config, X: np.ndarray, y: np.ndarray, seed: int
                    ) -> tuple[dict[str, dict[str, float]], dict[str, np.ndarray], list[int]]:
    """One seed: model -> metric -> mean over the folds, the out-of-fold predictions, and the
    MLP's epochs per fold."""
    folds: dict[str, list[dict[str, float]]] = {m: [] for m in config.models}
    oof = {m: np.zeros(len(y), np.float32) for m in config.models}
    mlp_epochs: list[int] = []
    splitter = KFold(config.folds, shuffle=True, rng=seed)
    for k, (tr, va) in enumerate(splitter.split(X)):
        scaler = StandardScaler().fit(X[tr])          # training folds only
        X_tr, X_va = scaler.transform(X[tr]), scaler.transform(X[va])
        for name in config.models:
            if name == "mlp":
                pred, epochs = _fit_predict_mlp(config, X_tr, y[tr], X_va, seed + k)
                mlp_epochs.append(epochs)
            else:
                model = _sklearn_model(name, config, seed + k)
                pred = model.fit(X_tr, y[tr]).predict(X_va).astype(np.float32)
            oof[name][va] = pred
            folds[name].append(_scores(y[va], pred))
    mean = {m: {k: float(np.mean([f[k] for f in fs])) for k in METRICS}
            for m, fs in folds.items()}
    return mean, oof, mlp_epochs


def _compare(seed: int, mean: dict[str, dict[str, float]], y: np.ndarray,
             oof: dict[str, np.ndarray]) -> Comparison:
    # wine by wine on the same out-of-fold predictions: the paired difference of errors
    d = np.abs(y - oof["linear"]).astype(np.float64) - np.abs(y - oof["mlp"])
    se = float(d.std(ddof=1) / math.sqrt(len(d)))
    return Comparison(seed=seed, mae_gain=mean["linear"]["mae"] - mean["mlp"]["mae"],
                      mae_gain_se=se, r2_gain=mean["mlp"]["r2"] - mean["linear"]["r2"])


def run(config: Config) -> Result:
    unknown = [m for m in config.models if m not in MODELS]
    if unknown or not config.models:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    common.check_seeds("wine-quality", config.seeds)
    data, X_all, y_all = _load(config)
    n_distinct = len(np.unique(np.column_stack([X_all, y_all]), axis=0))
    grades, counts = np.unique(y_all, return_counts=True)
    top = (float(grades[np.argmax(counts)]), float(counts.max() / len(y_all)))
    per_seed, comparisons, epochs = [], [], []
    first: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
    for seed in config.seeds:
        X, y = X_all, y_all
        if config.subset:
            rows = np.sort(np.random.default_rng(seed).choice(len(X), config.subset,
                                                              replace=False))
            X, y = X[rows], y[rows]
        mean, oof, mlp_epochs = _cross_validate(config, X, y, seed)
        per_seed.append(mean)
        epochs.append(mlp_epochs)
        if "mlp" in mean and "linear" in mean:
            comparisons.append(_compare(seed, mean, y, oof))
        if first is None:
            first = (y, oof)
    assert first is not None
    stat = {name: {m: {k: float(f([s[m][k] for s in per_seed])) for k in METRICS}
                   for m in config.models}
            for name, f in (("mean", np.mean), ("low", np.min), ("high", np.max))}
    holds = _beats_everywhere(comparisons) and float(np.median([c.z for c in comparisons])) >= Z
    y_first, oof_first = first
    return Result(data=data, n_samples=len(y_first), n_features=X_all.shape[1],
                  n_rows=len(y_all), n_distinct=n_distinct, top_grade=top, folds=config.folds,
                  seeds=list(config.seeds), per_seed=per_seed, mean=stat["mean"],
                  low=stat["low"], high=stat["high"], comparisons=comparisons,
                  y_true=y_first.tolist(),
                  predictions={m: np.round(p.astype(np.float64), 3).tolist()
                               for m, p in oof_first.items()},
                  mlp_epochs=epochs, claim_holds=bool(holds))


# ---------------------------------------------------------------------- figures
def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    models = result.ranking("mae")
    colors = {"mlp": "tab:red", "linear": "tab:gray", "random_forest": "tab:green",
              "svr": "tab:blue", "knn": "tab:purple"}

    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.0 * len(METRICS), 3.9))
    for ax, metric in zip(axes, METRICS):
        values = [result.mean[m][metric] for m in models]
        # asymmetric error bars: from the lowest to the highest seed
        errors = [[v - result.low[m][metric] for v, m in zip(values, models)],
                  [result.high[m][metric] - v for v, m in zip(values, models)]]
        bars = ax.bar(range(len(models)), values, yerr=errors, capsize=3,
                      color=[colors[m] for m in models])
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
        better = "lower is better" if metric in ("mae", "rmse") else "higher is better"
        ax.set_title(f"{METRIC_LABELS[metric]} ({better})", fontsize=9)
        ax.set_xticks(range(len(models)), [LABELS[m] for m in models], rotation=40,
                      ha="right", fontsize=8)
        top = max(result.high[m][metric] for m in models)
        ax.set_ylim(0, top * 1.15)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Wine quality: {result.folds}-fold cross-validation, {result.n_samples} "
                 f"wines, mean of {len(result.seeds)} seeds (error bars: lowest to highest seed)",
                 fontsize=10)
    fig.tight_layout()
    files = [plots.save(fig, out_dir / "wine_quality_metrics.png")]

    y = np.asarray(result.y_true)
    gen = np.random.default_rng(0)
    jitter = gen.uniform(-0.25, 0.25, len(y))
    # at most 1,500 points per panel keep the figure readable (and the PNG small)
    shown = np.sort(gen.choice(len(y), min(len(y), 1500), replace=False))
    fig, axes = plt.subplots(1, len(models), figsize=(2.8 * len(models), 3.2), sharey=True)
    axes = np.atleast_1d(axes)
    lo, hi = y.min() - 0.7, y.max() + 0.7
    for ax, m in zip(axes, models):
        pred = np.asarray(result.predictions[m])
        ax.scatter((y + jitter)[shown], pred[shown], s=2, alpha=0.3, color=colors[m])
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.fill_between([lo, hi], [lo - 0.5, hi - 0.5], [lo + 0.5, hi + 0.5], color="k",
                        alpha=0.08, label="|error| <= 0.5")
        ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="true grade (jittered)",
               title=f"{LABELS[m]}\nMAE {result.per_seed[0][m]['mae']:.3f}, "
                     f"R² {result.per_seed[0][m]['r2']:.3f}")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("predicted grade (out of fold)")
    shown_text = f"{len(shown)} of the {len(y)} wines" if len(shown) < len(y) else \
        f"all {len(y)} wines"
    fig.suptitle(f"seed {result.seeds[0]}: {shown_text}, each predicted by a model that did not "
                 f"train on it", fontsize=9)
    axes[0].legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "wine_quality_predictions.png"))
    return files
