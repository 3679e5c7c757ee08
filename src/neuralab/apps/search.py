"""``neuralab search``: a hyperparameter search on a table, here or on a Ray cluster.

``neuralab search DATA --trials N [--cv K] [--halving E] [--backend local|ray] [--address A]``
draws ``N`` settings of hidden sizes, learning rate and weight decay (the space of
``train --search``, :data:`~neuralab.apps.tabular.SEARCH_SPACE`), trains each on ``K`` folds of
the training rows (or on train's one validation split) with early stopping, and ranks them by
mean validation loss.  The test rows are set aside first, exactly as ``neuralab train`` sets
them aside, and no trial sees them; the best setting is then trained as a ``neuralab train`` run
(``OUT/best/``), whose test metrics are the search's result.

Each training is a task of a backend (:mod:`neuralab.train.backend`): in this process, or on
Ray, where the folds' arrays go once into the object store.  Every finished training is appended
to a journal (``trials.jsonl``, JSON lines) in ``.OUT.search/`` beside the output directory, so
that an interrupted search (Ctrl-C, a lost machine) is finished by ``neuralab search --resume
OUT`` without training the finished ones again; a lost Ray worker's task is retried by Ray.
The output directory is written whole at the end: ``leaderboard.csv``, ``leaderboard.json``,
``trials.png``, ``trials.jsonl``, ``search.toml`` (``--config`` reruns it) and ``best/``.
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import shlex
import shutil
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data import KFold, StratifiedKFold
from ..io import RunDirectory, atomic_write, figures, to_jsonable
from ..io.atomic import nan_to_none
from ..io.journal import Journal
from ..random import seed as set_seed
from ..train.backend import get_backend
from ..train.search import SuccessiveHalving, run_rounds, search_fingerprint
from .tabular import (
    TabularConfig, TabularResult, TrainingDiverged, TrainingInterrupted, _check_settings,
    _settings_text, build_network, check_size, draw_settings, fit_network, fit_preprocessor,
    prepare_table, settings_toml, split_rows, train_table,
)

__all__ = ["SearchConfig", "SearchResult", "partial_dir", "search_table"]


@dataclass
class SearchConfig(TabularConfig):
    """Settings of :func:`search_table`: those of ``neuralab train`` (the data, the columns,
    the epochs, patience and seed of every trial; ``hidden``, ``lr`` and ``weight_decay`` are
    what the search chooses) and the search's own."""

    trials: int = 20  # settings drawn from SEARCH_SPACE
    cv: int = 0  # folds of the training rows; 0: train's one validation split
    halving: int = 0  # > 0: successive halving from this many epochs (eta 3); 0: off
    backend: str = "local"  # "local" or "ray"
    address: str = ""  # a Ray cluster to join ("": a local Ray instance for this search)


@dataclass
class SearchResult:
    leaderboard: list[dict[str, Any]]
    best: TabularResult
    trainings: int
    resumed: int
    seconds: float
    backend: str
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{len(self.leaderboard)} settings, {self.trainings} trainings on the "
                 f"{self.backend} backend in {self.seconds:.1f} s"
                 + (f" ({self.resumed} taken from the journal)" if self.resumed else ""),
                 leaderboard_text(self.leaderboard),
                 f"best: {_settings_text(self.leaderboard[0]['params'])}, trained as "
                 f"neuralab train does; its test metrics:"]
        lines += [f"  {name:<22} {value:.4f}" for name, value in self.best.test_metrics.items()]
        return "\n".join(lines)


def partial_dir(out: str | Path) -> Path:
    """Where a running search keeps its journal and settings: ``.NAME.search`` beside ``out``
    (an earlier run in ``out`` stays untouched until the new one is complete)."""
    out = Path(out)
    return out.parent / f".{out.name}.search"


def _check_search(config: SearchConfig) -> None:
    _check_settings(config)
    for name, low in (("trials", 1), ("cv", 0), ("halving", 0)):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"--{name} expected an integer >= {low}, got {value!r}")
    if config.cv == 1:
        raise ValueError("--cv 1 is no cross-validation: pass 2 or more folds, or leave it out "
                         "for train's one validation split")
    if config.halving > config.epochs:
        raise ValueError(f"--halving {config.halving} starts above --epochs {config.epochs}")
    if config.backend not in ("local", "ray"):
        raise ValueError(f"--backend expected 'local' or 'ray', got {config.backend!r}")
    if config.address and config.backend != "ray":
        raise ValueError("--address names a Ray cluster; add --backend ray")
    if not config.out:
        raise ValueError("a search needs an output directory (--out)")


def _folds(data: Any, config: SearchConfig) -> list[tuple[np.ndarray, ...]]:
    """The ``(X_train, y_train, X_val, y_val)`` of every fold, each preprocessed by a
    preprocessor fitted on its own training rows; only the training rows of ``train`` (never
    its test rows)."""
    fit_rows, val_rows, _test_rows = split_rows(data, config)
    if config.cv:
        rows = np.sort(np.concatenate([fit_rows, val_rows]))
        splitter = (StratifiedKFold if data.classes else KFold)(config.cv, shuffle=True,
                                                                rng=config.seed + 2)
        labels = data.stratify[rows] if data.stratify is not None else None
        parts = [(rows[a], rows[b]) for a, b in splitter.split(rows, labels)]
    else:
        parts = [(fit_rows, val_rows)]
    folds = []
    for train_rows, held_rows in parts:
        prep = fit_preprocessor(config, data.table.select(train_rows))
        folds.append((prep.transform(data.table.select(train_rows)), data.y[train_rows],
                      prep.transform(data.table.select(held_rows)), data.y[held_rows]))
    return folds


def _train_one(shared: dict[str, Any], item: tuple[Any, ...]) -> dict[str, Any]:
    """One training of the search (wherever it runs): a setting on a fold, scored by its best
    validation loss; a diverged training scores NaN (ranked last)."""
    trial, fold, epochs, params, seed = item
    config = replace(shared["config"], **params, verbose=0, search=0,
                     epochs=epochs or shared["config"].epochs)
    X_tr, y_tr, X_va, y_va = shared["folds"][fold]
    set_seed(seed)
    trainer = build_network(config, X_tr.shape[1], shared["classes"])
    try:
        history, stopper = fit_network(config, trainer, (X_tr, y_tr), (X_va, y_va))
    except TrainingDiverged:
        return {"score": float("nan"), "epochs_run": 0}
    return {"score": float(stopper.best), "epochs_run": len(history.history["loss"])}


def leaderboard_text(rows: list[dict[str, Any]], limit: int = 10) -> str:
    header = f"{'rank':>4}  {'hidden':<10} {'lr':>9} {'weight decay':>12}  validation loss"
    lines = [header]
    for row in rows[:limit]:
        p = row["params"]
        spread = f" +- {row['val_loss_std']:.4f}" if row["folds"] > 1 else ""
        budget = f"  ({row['budget']} epochs)" if row.get("budget") else ""
        lines.append(f"{row['rank']:>4}  {','.join(map(str, p['hidden'])):<10} "
                     f"{p['lr']:>9.2e} {p['weight_decay']:>12g}  {row['val_loss']:.4f}{spread}"
                     f"{budget}")
    if len(rows) > limit:
        lines.append(f"      ... {len(rows) - limit} more in leaderboard.csv")
    return "\n".join(lines)


def _leaderboard(configurations: list[dict[str, Any]], rounds: Any, budgets: list[int | None],
                 n_folds: int) -> list[dict[str, Any]]:
    rows = []
    for trial, params in enumerate(configurations):
        reached = rounds.reached[trial]
        scores = np.asarray(rounds.scores(trial, budgets[reached], n_folds), dtype=np.float64)
        rows.append({"trial": trial, "params": params, "round": reached,
                     "budget": budgets[reached], "val_loss": float(scores.mean()),
                     "val_loss_std": float(scores.std()), "fold_losses": scores.tolist(),
                     "folds": n_folds})
    rows.sort(key=lambda r: (-r["round"], math.isnan(r["val_loss"]),
                             0.0 if math.isnan(r["val_loss"]) else r["val_loss"], r["trial"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _leaderboard_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["rank", "trial", "hidden", "lr", "weight_decay", "epochs", "val_loss",
                     "val_loss_std", "fold_losses"])
    for r in rows:
        p = r["params"]
        writer.writerow([r["rank"], r["trial"], ",".join(map(str, p["hidden"])), repr(p["lr"]),
                         repr(p["weight_decay"]), r["budget"] or "", repr(r["val_loss"]),
                         repr(r["val_loss_std"]), " ".join(map(repr, r["fold_losses"]))])
    return buf.getvalue().encode()


def _plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        plt = figures.pyplot()
    except ImportError:  # figures need the [lab] extra
        return False
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    shapes = sorted({tuple(r["params"]["hidden"]) for r in rows})
    last = max(r["round"] for r in rows)
    for i, hidden in enumerate(shapes):
        mine = [r for r in rows if tuple(r["params"]["hidden"]) == hidden
                and not math.isnan(r["val_loss"])]
        for final in (True, False):
            part = [r for r in mine if (r["round"] == last) == final]
            if part:
                ax.scatter([r["params"]["lr"] for r in part], [r["val_loss"] for r in part],
                           s=36, color=f"C{i}", alpha=0.85 if final else 0.35,
                           facecolors=None if final else "none",
                           label=f"hidden {','.join(map(str, hidden))}" if final else None)
    best = rows[0]
    ax.scatter([best["params"]["lr"]], [best["val_loss"]], s=160, facecolors="none",
               edgecolors="black", linewidths=1.5, label="best")
    ax.set_xscale("log")
    pruned = " (hollow: stopped early by halving)" if last else ""
    ax.set(xlabel="learning rate", ylabel="validation loss (mean over folds)",
           title=f"{len(rows)} settings{pruned}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figures.save(fig, path)
    return True


class _Progress:
    """One line per finished training, with the time so far and an estimate of what is left."""

    def __init__(self, total: int, n_folds: int, verbose: int) -> None:
        self.total, self.n_folds, self.verbose = total, n_folds, verbose
        self.count = 0
        self.start = time.perf_counter()

    def __call__(self, record: dict[str, Any]) -> None:
        self.count += 1
        if not self.verbose:
            return
        spent = time.perf_counter() - self.start
        left = spent / self.count * max(self.total - self.count, 0)
        where = f" fold {record['fold'] + 1}/{self.n_folds}" if self.n_folds > 1 else ""
        budget = f" ({record['epochs']} epochs)" if record["epochs"] else ""
        print(f"[{self.count}/{self.total}] trial {record['trial'] + 1}{where}{budget}: "
              f"{_settings_text(record['params'])}: validation loss {record['score']:.4g} "
              f"({spent:.0f} s, about {left:.0f} s left)", flush=True)


def _search_toml(config: SearchConfig, command: str) -> str:
    return settings_toml(config, "neuralab search --config search.toml reruns this search",
                         command or "neuralab.apps.search.search_table")


def search_table(config: SearchConfig, command: str = "", resume: bool = False) -> SearchResult:
    """Run the search of ``config`` and write its directory ``config.out`` (see the module
    docstring).  ``resume``: continue the interrupted search whose journal is in
    :func:`partial_dir` (same settings; a journal of other settings is refused).

    Raises ``ValueError`` for bad settings or data and ``OSError`` for the output directory,
    before any training; :class:`TrainingInterrupted` on Ctrl-C, with the journal kept."""
    _check_search(config)
    run_dir = RunDirectory(config.out, overwrite=True if resume else config.overwrite)
    partial = partial_dir(config.out)
    run_dir.check()  # a file in the way, no permission (and, unless resuming, an earlier run)
    if not resume:
        if (partial / "trials.jsonl").exists():
            if not config.overwrite:
                raise FileExistsError(
                    f"{config.out!r} has an interrupted search ({partial}/trials.jsonl); finish "
                    f"it with: neuralab search --resume {shlex.quote(config.out)}, or pass "
                    f"--overwrite to start over")
            shutil.rmtree(partial)
    data = prepare_table(config)
    set_seed(config.seed)
    folds = _folds(data, config)
    configurations = draw_settings(config, config.trials)
    n_out = len(data.classes) if data.classes else 1
    for params in configurations:  # the largest network is refused now, not mid-search
        check_size(replace(config, **params), folds[0][0].shape[1], n_out)
    budgets: list[int | None] = (SuccessiveHalving(config.halving).budgets(config.epochs)
                                 if config.halving else [None])
    settings = {k: v for k, v in asdict(config).items()
                if k not in ("out", "overwrite", "verbose", "backend", "address", "search")}
    journal = Journal(partial / "trials.jsonl", kind="neuralab-search",
                      fingerprint=search_fingerprint(config.seed, configurations, folds,
                                                     settings, "val_loss", budgets))
    partial.mkdir(parents=True, exist_ok=True)
    atomic_write(partial / "search.toml", _search_toml(config, command).encode())
    backend = get_backend(config.backend, config.address or None)
    n_folds = len(folds)
    rounds_total = sum(math.ceil(config.trials / 3 ** r) for r in range(len(budgets))) * n_folds
    progress = _Progress(rounds_total, n_folds, config.verbose)
    if config.verbose:
        print(f"task: {data.task} ({data.rule}); {config.trials} settings x "
              f"{n_folds} fold(s) on the {backend.name} backend", flush=True)
    shared = {"config": TabularConfig(**{f.name: getattr(config, f.name)
                                         for f in fields(TabularConfig)}),
              "folds": folds, "classes": data.classes}
    start = time.perf_counter()
    try:
        rounds = run_rounds(_train_one, shared, configurations, n_folds=n_folds,
                            budgets=budgets, seed_of=lambda t, f: _seed(config.seed, t, f),
                            backend=backend, journal=journal, on_result=progress)
    except KeyboardInterrupt:
        kept = len(journal.records())
        raise TrainingInterrupted(
            f"interrupted; {kept} finished training(s) are in {partial}/trials.jsonl; finish "
            f"the search with: neuralab search --resume {shlex.quote(config.out)}") from None
    seconds = time.perf_counter() - start
    rows = _leaderboard(configurations, rounds, budgets, n_folds)
    if math.isnan(rows[0]["val_loss"]):
        raise TrainingDiverged("every setting of the search diverged; lower the learning "
                               "rates or check the data")
    best = rows[0]["params"]
    with run_dir as tmp:
        best_config = replace(shared["config"], **best, out=str(tmp / "best"), overwrite=False,
                              search=0, verbose=config.verbose)
        try:
            result = train_table(best_config, command=command)
        except KeyboardInterrupt:  # train's own hint would name the temporary best/ directory
            raise TrainingInterrupted(
                f"interrupted while training the best setting; every training of the search is "
                f"in {partial}/trials.jsonl; finish with: neuralab search --resume "
                f"{shlex.quote(config.out)} (it trains the best setting again)") from None
        atomic_write(tmp / "leaderboard.csv", _leaderboard_csv(rows))
        board = {
            "command": command, "backend": backend.name, "seconds": seconds,
            "trainings": len(rounds.done), "resumed": rounds.resumed, "folds": n_folds,
            "budgets": budgets, "leaderboard": rows, "best": {"params": best,
                                                             "test": result.test_metrics}}
        atomic_write(tmp / "leaderboard.json", json.dumps(
            nan_to_none(to_jsonable(board)), indent=1, allow_nan=False).encode())
        atomic_write(tmp / "search.toml", (partial / "search.toml").read_bytes())
        atomic_write(tmp / "trials.jsonl", journal.path.read_bytes())
        names = ["leaderboard.csv", "leaderboard.json", "search.toml", "trials.jsonl", "best/"]
        if _plot(rows, tmp / "trials.png"):
            names.append("trials.png")
    shutil.rmtree(partial, ignore_errors=True)
    return SearchResult(rows, result, len(rounds.done), rounds.resumed, seconds, backend.name,
                        [str(Path(config.out) / n) for n in names])


def _seed(seed: int, trial: int, fold: int) -> int:
    return int(np.random.default_rng([seed, 8, trial, fold]).integers(2**31 - 1))


def load_partial_config(out: str | Path) -> SearchConfig:
    """The settings of the interrupted search of ``out`` (for ``--resume``)."""
    from ..config import apply_overrides, load_toml

    toml = partial_dir(out) / "search.toml"
    if not toml.is_file():
        raise FileNotFoundError(f"--resume {out}: no interrupted search there (expected "
                                f"{toml}, which neuralab search writes when it starts)")
    return apply_overrides(SearchConfig(), load_toml(toml))

