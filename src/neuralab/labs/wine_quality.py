"""Lab: the lecture's wine-quality practical (4.03.NN.wine): predict the quality grade of white
vinho verde from 11 physicochemical measurements with a neural network, and compare it with
non-neural machine-learning models.

Protocol (as Cortez et al. 2009, who found the support vector machine best): k-fold
cross-validation (5 folds), the input scaler fitted on the training folds only, every model
trained on the same folds:

* **MLP** (neuralab): Dense(64, relu) -> Dense(64, relu) -> Dense(1), MSE on the standardized
  grade, Adam, early stopping on 10 % of the training folds (never on the held-out fold);
* scikit-learn baselines with their default settings: **LinearRegression**,
  **RandomForestRegressor**, **SVR** (RBF kernel) and **KNeighborsRegressor**.

Metrics on each held-out fold: MAE (Cortez's MAD), RMSE, R^2, and the accuracy within a
tolerance T (``|y - y_hat| <= T``: T = 0.5 means the rounded prediction is the true grade,
T = 1.0 accepts a neighbouring grade).  The data set is not shipped with neuralab: give the CSV
with ``--set csv=PATH``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from .. import seed as seed_library
from ..data import KFold, StandardScaler, load_csv, train_test_split
from ..train import EarlyStopping, Trainer
from ..train import metrics as M
from . import _plot

TITLE = "Wine quality: a neural network against non-neural regressors (5-fold CV)"
CLAIM = (
    "On the wine-quality practical a neural network (다층 퍼셉트론) regressor, evaluated by k-fold "
    "cross-validation (교차 검증) with the scaler fitted on the training folds only, beats the "
    "linear baseline; the table reports honestly how it compares with the other non-neural "
    "models (Cortez et al. 2009 found the SVM best)."
)
CONCEPTS = [26, 22, 23, 6, 7]

CSV_NAME = "winequality-white.csv"
MODELS = ("mlp", "linear", "random_forest", "svr", "knn")
LABELS = {"mlp": "MLP (neuralab)", "linear": "LinearRegression", "random_forest": "RandomForest",
          "svr": "SVR (RBF)", "knn": "k-NN"}
METRICS = ("mae", "rmse", "r2", "acc_t05", "acc_t10")
METRIC_LABELS = {"mae": "MAE", "rmse": "RMSE", "r2": "R²", "acc_t05": "acc T=0.5",
                 "acc_t10": "acc T=1.0"}


@dataclass
class Config:
    csv: str = ""                 # path of the CSV; empty: look for ../shared/datasets/<file>
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
    seed: int = 0

    @classmethod
    def quick(cls) -> Config:
        return cls(folds=3, subset=1500, epochs=150, patience=10, rf_trees=40)


@dataclass
class Result:
    csv: str
    n_samples: int
    n_features: int
    folds: int
    mean: dict[str, dict[str, float]]            # model -> metric -> mean over folds
    std: dict[str, dict[str, float]]             # model -> metric -> std over folds
    y_true: list[float] = field(default_factory=list)
    predictions: dict[str, list[float]] = field(default_factory=dict)  # out of fold
    mlp_epochs: list[int] = field(default_factory=list)
    claim_holds: bool = False

    def ranking(self, metric: str = "mae") -> list[str]:
        reverse = metric in ("r2", "acc_t05", "acc_t10")
        return sorted(self.mean, key=lambda m: self.mean[m][metric], reverse=reverse)

    def summary(self) -> str:
        lines = [f"{self.n_samples} wines, {self.n_features} inputs, {self.folds}-fold "
                 f"cross-validation (mean ± std over folds)",
                 f"{'model':<17}" + "".join(f"{METRIC_LABELS[k]:^17}" for k in METRICS)]
        for model in self.ranking("mae"):
            cells = "".join(f"{self.mean[model][k]:>9.3f} ± {self.std[model][k]:<4.3f}"
                            for k in METRICS)
            lines.append(f"{LABELS[model]:<17}{cells}")
        if "mlp" in self.mean:
            mlp = self.mean["mlp"]
            for other in ("linear", "svr", "random_forest"):
                if other not in self.mean:
                    continue
                o = self.mean[other]
                verdict = "better" if mlp["mae"] < o["mae"] else "worse"
                lines.append(f"MLP vs {LABELS[other]}: MAE {mlp['mae']:.3f} vs {o['mae']:.3f} "
                             f"({verdict}), acc T=0.5 {mlp['acc_t05']:.3f} vs "
                             f"{o['acc_t05']:.3f}")
            lines.append(f"ranking by MAE: {', '.join(LABELS[m] for m in self.ranking('mae'))}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- data
def find_csv(csv: str = "") -> Path:
    """The CSV to use: ``csv`` if given, else ``../shared/datasets/winequality-white.csv``
    relative to the current directory, then to the repository root."""
    if csv:
        path = Path(csv).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"wine-quality: no such file {str(path)!r}; pass the CSV "
                                    f"with --set csv=PATH")
        return path
    repo_root = Path(__file__).resolve().parents[3]
    candidates = [Path.cwd() / ".." / "shared" / "datasets" / CSV_NAME,
                  repo_root / ".." / "shared" / "datasets" / CSV_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = ", ".join(os.path.normpath(c) for c in candidates)
    raise FileNotFoundError(
        f"wine-quality needs the UCI white wine CSV ({CSV_NAME}), which neuralab does not ship; "
        f"not found at {tried}. Pass it with --set csv=PATH (UCI Machine Learning Repository, "
        f"'Wine Quality')")


def _load(config: Config) -> tuple[Path, np.ndarray, np.ndarray]:
    path = find_csv(config.csv)
    X, y, _ = load_csv(path, target=config.target)
    if y.dtype.kind not in "iuf":
        raise ValueError(f"wine-quality: the target column {config.target!r} must be numeric, "
                         f"got values such as {y[0]!r}")
    y = y.astype(np.float32)
    if config.subset:
        if not 10 <= config.subset <= len(X):
            raise ValueError(f"expected `subset` between 10 and {len(X)} (or 0 for all rows), "
                             f"got {config.subset}")
        rows = np.sort(np.random.default_rng(config.seed).choice(len(X), config.subset,
                                                                 replace=False))
        X, y = X[rows], y[rows]
    return path, X, y


# ---------------------------------------------------------------------- models
def _fit_predict_mlp(config: Config, X_tr: np.ndarray, y_tr: np.ndarray, X_va: np.ndarray,
                     seed: int) -> tuple[np.ndarray, int]:
    # the grade is standardized with training statistics so the output layer starts near scale
    mu, sigma = float(y_tr.mean()), float(y_tr.std()) or 1.0
    t_tr = ((y_tr - mu) / sigma).astype(np.float32)[:, None]
    # early stopping watches part of the training folds, never the held-out fold
    X_fit, X_stop, t_fit, t_stop = train_test_split(X_tr, t_tr, test_size=0.1, seed=seed)
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


def run(config: Config) -> Result:
    unknown = [m for m in config.models if m not in MODELS]
    if unknown or not config.models:
        raise ValueError(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    path, X, y = _load(config)
    folds: dict[str, list[dict[str, float]]] = {m: [] for m in config.models}
    oof = {m: np.zeros(len(y), np.float32) for m in config.models}
    mlp_epochs: list[int] = []
    splitter = KFold(config.folds, shuffle=True, seed=config.seed)
    for k, (tr, va) in enumerate(splitter.split(X)):
        scaler = StandardScaler().fit(X[tr])          # training folds only
        X_tr, X_va = scaler.transform(X[tr]), scaler.transform(X[va])
        for name in config.models:
            if name == "mlp":
                pred, epochs = _fit_predict_mlp(config, X_tr, y[tr], X_va, config.seed + k)
                mlp_epochs.append(epochs)
            else:
                model = _sklearn_model(name, config, config.seed + k)
                pred = model.fit(X_tr, y[tr]).predict(X_va).astype(np.float32)
            oof[name][va] = pred
            folds[name].append(_scores(y[va], pred))
    mean = {m: {k: float(np.mean([f[k] for f in fs])) for k in METRICS}
            for m, fs in folds.items()}
    std = {m: {k: float(np.std([f[k] for f in fs])) for k in METRICS}
           for m, fs in folds.items()}
    holds = False
    if "mlp" in mean and "linear" in mean:
        holds = (mean["mlp"]["mae"] < mean["linear"]["mae"]
                 and mean["mlp"]["r2"] > mean["linear"]["r2"])
    return Result(csv=str(path), n_samples=len(y), n_features=X.shape[1], folds=config.folds,
                  mean=mean, std=std, y_true=y.tolist(),
                  predictions={m: np.round(p.astype(np.float64), 3).tolist()
                               for m, p in oof.items()},
                  mlp_epochs=mlp_epochs, claim_holds=bool(holds))


# ---------------------------------------------------------------------- figures
def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = _plot.pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    models = result.ranking("mae")
    colors = {"mlp": "tab:red", "linear": "tab:gray", "random_forest": "tab:green",
              "svr": "tab:blue", "knn": "tab:purple"}

    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.0 * len(METRICS), 3.9))
    for ax, metric in zip(axes, METRICS):
        values = [result.mean[m][metric] for m in models]
        errors = [result.std[m][metric] for m in models]
        bars = ax.bar(range(len(models)), values, yerr=errors, capsize=3,
                      color=[colors[m] for m in models])
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
        better = "lower is better" if metric in ("mae", "rmse") else "higher is better"
        ax.set_title(f"{METRIC_LABELS[metric]} ({better})", fontsize=9)
        ax.set_xticks(range(len(models)), [LABELS[m] for m in models], rotation=40,
                      ha="right", fontsize=8)
        top = max(v + e for v, e in zip(values, errors))
        ax.set_ylim(0, top * 1.15)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"White wine quality: {result.folds}-fold cross-validation, "
                 f"{result.n_samples} wines (error bars: std over folds)", fontsize=10)
    fig.tight_layout()
    files = [_plot.save(fig, out_dir / "wine_quality_metrics.png")]

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
               title=f"{LABELS[m]}\nMAE {result.mean[m]['mae']:.3f}, "
                     f"R² {result.mean[m]['r2']:.3f}")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("predicted grade (out of fold)")
    if len(shown) < len(y):
        fig.suptitle(f"{len(shown)} of the {len(y)} wines, each predicted by a model that did "
                     f"not train on it", fontsize=9)
    axes[0].legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    files.append(_plot.save(fig, out_dir / "wine_quality_predictions.png"))
    return files
