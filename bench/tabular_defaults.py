"""``python -m bench.tabular_defaults``: ``neuralab train``'s defaults against scikit-learn's MLP
defaults, on eight tables and five seeds.

The tables: the shipped white wines as numbers (``--task regression``) and as classes, iris,
scikit-learn's wine, breast cancer, digits and diabetes (written as CSV files into a temporary
directory, or built in), and a synthetic one (Friedman #1: ten uniform inputs, five of them in a
nonlinear formula, plus noise).

For each table and seed:

* **neuralab**: ``train_table(TabularConfig(data, target, task, seed=S))``, which is
  ``neuralab train DATA --seed S`` with every other setting at its default: the seeded split
  (a test part, then validation rows for early stopping out of the rest), the preprocessing fitted
  on the training rows, the network, the test metrics;
* **scikit-learn**: ``MLPClassifier()`` / ``MLPRegressor()`` with their defaults
  (``random_state=S``), trained on the same training rows (train's training and validation rows:
  scikit-learn's MLP stops on its training loss and needs no validation rows), through the same
  :class:`~neuralab.data.TablePreprocessor` fitted on those rows, scored on the same test rows
  with the same metrics (predicted numbers clipped to the training targets' range, as train does).

Stored: ``bench/results/tabular_defaults.json`` (every seed's metrics and seconds, means,
standard deviations, the paired difference with its standard error, the commit, CPU and BLAS
kernel), rendered into the generated block of docs/training.md.

``--select`` is how the defaults were chosen: cross-validation on the training rows of each seed's
split only (never its test rows), stored in ``bench/results/tabular_defaults_selection.json``;
``--pages`` renders the page again from the stored results.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import multiprocessing
import os
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.__main__ import RESULTS, ROOT, wrap
from neuralab.apps.compare import (HEADLINE, cross_validate_models, make_folds,
                                   sample_rows)
from neuralab.apps.tabular import TabularConfig, prepare_table, split_rows, train_table
from neuralab.io import atomic_write
from neuralab.io.pages import replace_block
from neuralab.io.provenance import run_metadata
from neuralab.threads import single_thread_blas

RESULT = RESULTS / "tabular_defaults.json"
SELECTION = RESULTS / "tabular_defaults_selection.json"
PAGE = ROOT / "docs" / "training.md"
BLOCK = "TABULAR DEFAULTS"
SELECTION_BLOCK = "TABULAR DEFAULTS SELECTION"
SEEDS = (0, 1, 2, 3, 4)
#: the settings that the selection varies (the fields of TabularConfig)
KNOBS = ("hidden", "lr", "batch_size", "epochs", "patience", "weight_decay", "scale")


# ------------------------------------------------------------------ the tables
def _write_csv(path: Path, X: np.ndarray, y: Any, names: list[str], target: str) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*names, target])
        for row, value in zip(X, y):
            writer.writerow([repr(float(v)) for v in row] + [value])
    return str(path)


def tables(directory: Path) -> dict[str, dict[str, str]]:
    """Table name -> the TabularConfig fields that read it (``data``, ``target``, ``task``);
    the tables that are not built in are written as CSV files into ``directory``."""
    from sklearn import datasets as skd

    d = Path(directory)
    wine = skd.load_wine()
    cancer = skd.load_breast_cancer()
    diabetes = skd.load_diabetes(scaled=False)
    X, y = skd.make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    return {
        "white wine, as numbers": {"data": "wine-quality", "task": "regression"},
        "white wine, as classes": {"data": "wine-quality"},
        "iris": {"data": "iris"},
        "wine (scikit-learn)": {
            "data": _write_csv(d / "wine.csv", wine.data, wine.target,
                               [n.replace("/", "_") for n in wine.feature_names], "cultivar"),
            "target": "cultivar"},
        "breast cancer": {
            "data": _write_csv(d / "breast_cancer.csv", cancer.data,
                               np.array(["malignant", "benign"])[cancer.target],
                               [n.replace(" ", "_") for n in cancer.feature_names], "diagnosis"),
            "target": "diagnosis"},
        "digits": {"data": "digits"},
        "diabetes": {
            "data": _write_csv(d / "diabetes.csv", diabetes.data,
                               [repr(float(v)) for v in diabetes.target],
                               list(diabetes.feature_names), "progression"),
            "target": "progression"},
        "Friedman #1 (synthetic)": {
            "data": _write_csv(d / "friedman1.csv", X, [repr(float(v)) for v in y],
                               [f"x{i + 1}" for i in range(X.shape[1])], "y"),
            "target": "y"},
    }


# ------------------------------------------------------------------ the benchmark
def run_table(fields: dict[str, str], seed: int) -> dict[str, Any]:
    """One table and seed: neuralab train's defaults and scikit-learn's MLP defaults on the same
    split; their test metrics and fit seconds."""
    config = TabularConfig(**fields, seed=seed, verbose=0)
    start = time.perf_counter()
    trained = train_table(config)
    neuralab_seconds = time.perf_counter() - start
    data = prepare_table(config)
    fit_rows, val_rows, test_rows = split_rows(data, config)
    train_rows = np.sort(np.concatenate([fit_rows, val_rows]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning, counted below
        [sk] = cross_validate_models(data, [(train_rows, test_rows)], ("sklearn_mlp",), config)
    test = {k: v for k, v in trained.test_metrics.items() if k in sk.folds[0]}
    return {"neuralab": test, "sklearn": sk.folds[0],
            "seconds": {"neuralab": neuralab_seconds, "sklearn": sk.fit_seconds[0]},
            "epochs_run": trained.epochs_run, "sklearn_warned": sk.notes,
            "rows": len(data.table), "n_test": len(test_rows), "task": data.task}


def summarize(runs: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Means and spreads over the seeds of ``runs`` and the paired difference neuralab -
    scikit-learn of ``metric`` with its standard error."""
    out: dict[str, Any] = {}
    for who in ("neuralab", "sklearn"):
        out[who] = {name: {"mean": statistics.fmean(r[who][name] for r in runs),
                           "std": statistics.stdev([r[who][name] for r in runs])}
                    for name in runs[0][who]}
        out[who]["seconds"] = statistics.fmean(r["seconds"][who] for r in runs)
    diff = [r["neuralab"][metric] - r["sklearn"][metric] for r in runs]
    se = statistics.stdev(diff) / math.sqrt(len(diff))
    out["difference"] = {"mean": statistics.fmean(diff), "se": se}
    return out


VERDICTS = ("higher", "lower, within 2 SE", "lower")


def verdict(difference: dict[str, float]) -> str:
    """neuralab's mean against scikit-learn's: "higher" (or equal), "lower, within 2 SE" when
    lower by at most two standard errors of the paired difference, "lower" otherwise."""
    if difference["mean"] >= 0:
        return VERDICTS[0]
    return VERDICTS[1] if -difference["mean"] <= 2 * difference["se"] else VERDICTS[2]


def benchmark(seeds: tuple[int, ...], only: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"command": shlex.join(["python", "-m", "bench.tabular_defaults",
                                                  *sys.argv[1:]]),
                           "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "seeds": list(seeds),
                           "defaults": {k: v for k, v in asdict(TabularConfig()).items()
                                        if k in KNOBS},
                           "tables": {}}
    import sklearn

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, single_thread_blas():
        out["machine"] = {**run_metadata(), "scikit-learn": sklearn.__version__}
        for name, fields in tables(Path(tmp)).items():
            if only and name not in only:
                continue
            runs = []
            for seed in seeds:
                runs.append(run_table(fields, seed))
            metric = HEADLINE[runs[0]["task"]]
            entry = {"task": runs[0]["task"], "rows": runs[0]["rows"],
                     "n_test": runs[0]["n_test"], "metric": metric, "runs": runs,
                     **summarize(runs, metric)}
            out["tables"][name] = entry
            print(f"{name:<26} {metric} neuralab {entry['neuralab'][metric]['mean']:.4f} "
                  f"scikit-learn {entry['sklearn'][metric]['mean']:.4f}: "
                  f"{verdict(entry['difference'])}",
                  file=sys.stderr, flush=True)
    out["wall_seconds"] = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------ choosing the defaults
def _rank(values: list[float]) -> list[float]:
    """Rank 1 for the largest value; ties share their average rank."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def candidate_name(settings: dict[str, Any]) -> str:
    hidden = "-".join(map(str, settings["hidden"]))
    return (f"hidden {hidden}, lr {settings['lr']:g}, batch {settings['batch_size']}, "
            f"epochs {settings['epochs']}, patience {settings['patience']}, weight decay "
            f"{settings['weight_decay']:g}, {settings['scale']}")


#: the first round: sizes, rates, batches and how long to train; no weight decay, robust scaling
STAGE_1 = [dict(hidden=h, lr=lr, batch_size=b, epochs=e, patience=p, weight_decay=0.0,
                scale="robust")
           for h, lr, b, (e, p) in itertools.product([(64,), (128,), (256,), (128, 64)],
                                                     [1e-3, 3e-3], [32, 64],
                                                     [(200, 20), (500, 30)])]


def stage_2(best: dict[str, Any]) -> list[dict[str, Any]]:
    """The second round: around the best of the first, the scaling and the weight decay."""
    return [{**best, "scale": "standard"}, {**best, "weight_decay": 1e-2},
            {**best, "weight_decay": 1e-1}]


_PREPARED: dict[str, Any] = {}


def _inner_scores(job: tuple[int, str]) -> tuple[int, str, dict[str, float]]:
    """Mean inner-CV score of one candidate on every table's training rows of one seed."""
    seed, key = job
    settings = json.loads(key)
    scores = {}
    with single_thread_blas(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (data, base) in _PREPARED.items():
            config = replace(base, **{**settings, "hidden": tuple(settings["hidden"])},
                             seed=seed)
            fit_rows, val_rows, _ = split_rows(data, config)  # the test rows are never used
            train = sample_rows(data, np.sort(np.concatenate([fit_rows, val_rows])))
            [s] = cross_validate_models(train, make_folds(train, 3, seed), ("neuralab",),
                                        config)
            scores[name] = s.mean(HEADLINE[data.task])
    return seed, key, scores


def select(seeds: tuple[int, ...], processes: int) -> dict[str, Any]:
    """For each seed, every candidate scored by 3-fold cross-validation inside the training
    rows of that seed's split, on every table; per seed the candidate with the best mean rank
    over the tables (first round, then around its winner)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, fields in tables(Path(tmp)).items():
            base = TabularConfig(**fields, verbose=0)
            _PREPARED[name] = (prepare_table(base), base)
    key = lambda s: json.dumps(s, sort_keys=True)  # noqa: E731
    scores: dict[int, dict[str, dict[str, float]]] = {seed: {} for seed in seeds}

    def run(jobs: list[tuple[int, str]]) -> None:
        todo = [j for j in jobs if j[1] not in scores[j[0]]]
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for n, (seed, k, result) in enumerate(pool.imap_unordered(_inner_scores, todo), 1):
                scores[seed][k] = result
                print(f"[{n}/{len(todo)}] seed {seed}: {candidate_name(json.loads(k))}: "
                      + ", ".join(f"{v:.4f}" for v in result.values()), file=sys.stderr,
                      flush=True)

    def best(seed: int) -> str:
        keys = list(scores[seed])
        names = list(_PREPARED)
        ranks = [_rank([scores[seed][k][t] for k in keys]) for t in names]
        mean_rank = {k: statistics.fmean(r[i] for r in ranks) for i, k in enumerate(keys)}
        return min(keys, key=lambda k: (mean_rank[k], keys.index(k)))

    t0 = time.perf_counter()
    run([(seed, key(c)) for seed in seeds for c in STAGE_1])
    first = {seed: best(seed) for seed in seeds}
    run([(seed, key(c)) for seed in seeds for c in stage_2(json.loads(first[seed]))])
    chosen = {seed: best(seed) for seed in seeds}
    candidates = sorted({k for seed in seeds for k in scores[seed]},
                        key=lambda k: candidate_name(json.loads(k)))
    table_names = list(_PREPARED)
    rows = []
    for k in candidates:
        per_seed = {seed: scores[seed][k] for seed in seeds if k in scores[seed]}
        rows.append({"settings": json.loads(k), "name": candidate_name(json.loads(k)),
                     "scores": {t: statistics.fmean(s[t] for s in per_seed.values())
                                for t in table_names},
                     "seeds": sorted(per_seed)})
    for seed in seeds:  # each seed's ranks among the candidates it scored
        keys = list(scores[seed])
        ranks = [_rank([scores[seed][k][t] for k in keys]) for t in table_names]
        for row in rows:
            k = key(row["settings"])
            if k in keys:
                row.setdefault("mean_rank", {})[str(seed)] = statistics.fmean(
                    r[keys.index(k)] for r in ranks)
    with single_thread_blas():  # as in the workers
        machine = run_metadata()
    return {"command": shlex.join(["python", "-m", "bench.tabular_defaults", *sys.argv[1:]]),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine,
            "processes": processes,
            "seeds": list(seeds), "inner_folds": 3, "tables": table_names,
            "metrics": {t: HEADLINE[_PREPARED[t][0].task] for t in table_names},
            "first_round": {str(s): json.loads(first[s]) for s in seeds},
            "chosen": {str(s): json.loads(chosen[s]) for s in seeds},
            "candidates": rows, "wall_seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------ the page
def _blas(machine: dict[str, Any]) -> str:
    """The BLAS and its kernel; every fit of the benchmark and the selection ran with one BLAS
    thread (the thread count recorded is the process's own, outside that limit)."""
    blas = machine["blas"]
    return (blas.rsplit(", ", 1)[0] if blas.endswith("threads") else blas) + ", one thread"


def _cell(stats: dict[str, float]) -> str:
    return f"{stats['mean']:.4f} ± {stats['std']:.4f}"


def render(result: dict[str, Any]) -> str:
    """The generated block of docs/training.md: the table of the stored benchmark."""
    m = result["machine"]
    d = result["defaults"]
    lines = [
        wrap(f"Measured with `{result['command']}` on {result['started']} at commit "
             f"`{m['commit']}`: {m['cpu']}, {m['platform']}, Python {m['python']}, NumPy "
             f"{m['numpy']} ({_blas(m)}), scikit-learn {m['scikit-learn']}. Seeds "
             f"{', '.join(map(str, result['seeds']))}; for each, the split of `neuralab train "
             f"--seed S`. The defaults measured: hidden {','.join(map(str, d['hidden']))}, lr "
             f"{d['lr']:g}, batch {d['batch_size']}, at most {d['epochs']} epochs, patience "
             f"{d['patience']}, weight decay {d['weight_decay']:g}, {d['scale']} scaling."),
        "",
        "| table | rows | metric | neuralab train | scikit-learn MLP | difference (SE) | "
        "neuralab's mean | seconds per fit: neuralab / scikit-learn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in result["tables"].items():
        metric = t["metric"]
        diff = t["difference"]
        lines.append(
            f"| {name} | {t['rows']} | {metric} | {_cell(t['neuralab'][metric])} | "
            f"{_cell(t['sklearn'][metric])} | {diff['mean']:+.4f} ({diff['se']:.4f}) | "
            f"{verdict(diff)} | {t['neuralab']['seconds']:.2f} / "
            f"{t['sklearn']['seconds']:.2f} |")
    counts = [sum(verdict(t["difference"]) == v for t in result["tables"].values())
              for v in VERDICTS]
    warned = sum(any(r["sklearn_warned"] for r in t["runs"]) for t in result["tables"].values())
    lines += ["", wrap(f"Mean ± standard deviation over the seeds of each test metric; the "
                       f"difference is neuralab minus scikit-learn, paired by seed, with its "
                       f"standard error (SE). neuralab's mean is higher on {counts[0]} of the "
                       f"{len(result['tables'])} tables, lower by at most two standard errors "
                       f"on {counts[1]} and lower by more on {counts[2]}. scikit-learn warned "
                       f"that its MLP had not converged in its iterations (ConvergenceWarning) "
                       f"on {warned} of the tables, on at least one seed.")]
    return "\n".join(lines) + "\n"


def final_choice(selection: dict[str, Any]) -> dict[str, Any]:
    """The candidate that the most seeds chose (ties: the best mean rank): the defaults."""
    chosen = [json.dumps(c, sort_keys=True) for c in selection["chosen"].values()]
    ranks = {json.dumps(r["settings"], sort_keys=True): statistics.fmean(r["mean_rank"].values())
             for r in selection["candidates"]}
    return json.loads(min(set(chosen), key=lambda k: (-chosen.count(k), ranks[k])))


def render_selection(selection: dict[str, Any]) -> str:
    """The generated block of docs/training.md on how the defaults were chosen."""
    tables_ = selection["tables"]
    short = {t: t.split(",")[0].split(" (")[0] if t.startswith(("white", "Friedman", "wine ("))
             else t for t in tables_}
    short["white wine, as numbers"], short["white wine, as classes"] = "wine numbers", \
        "wine classes"
    m = selection["machine"]
    lines = [
        wrap(f"Chosen with `{selection['command']}` on {selection['started']} at commit "
             f"`{m['commit']}` ({m['cpu']}, NumPy {m['numpy']}, {_blas(m)}): for each seed "
             f"{', '.join(map(str, selection['seeds']))}, {selection['inner_folds']}-fold "
             f"cross-validation inside the training rows of that seed's split (its test rows "
             f"never seen), every candidate on every table; the candidate with the best mean "
             f"rank over the tables wins the seed. Scores: the cross-validated accuracy "
             f"(classes) or R² (numbers), averaged over the seeds that scored the candidate."),
        "",
        "| candidate | " + " | ".join(short[t] for t in tables_) + " | mean rank | chosen |",
        "|---|" + "---|" * (len(tables_) + 2),
    ]
    by_rank = sorted(selection["candidates"],
                     key=lambda r: (statistics.fmean(r["mean_rank"].values()), r["name"]))
    for row in by_rank:
        ranks = row["mean_rank"]
        won = [s for s, c in selection["chosen"].items()
               if json.dumps(c, sort_keys=True) == json.dumps(row["settings"], sort_keys=True)]
        lines.append(f"| {row['name']} | "
                     + " | ".join(f"{row['scores'][t]:.4f}" for t in tables_)
                     + f" | {statistics.fmean(ranks.values()):.2f} ({len(ranks)} "
                       f"seed{'s' if len(ranks) > 1 else ''}) | "
                     + (f"seed{'s' if len(won) > 1 else ''} {', '.join(won)}" if won else "")
                     + " |")
    final = final_choice(selection)
    counts = sorted({sum(str(seed) in r["mean_rank"] for r in selection["candidates"])
                     for seed in selection["seeds"]})
    per_seed = "-".join(map(str, [counts[0], counts[-1]] if len(counts) > 1 else counts))
    won = [s for s, c in selection["chosen"].items() if c == final]
    others = [s for s in selection["chosen"] if s not in won]
    lines += ["", wrap(
        f"The defaults are the candidate that the most seeds chose ({len(won)} of "
        f"{len(selection['chosen'])}: {candidate_name(final)}). "
        + (f"Seed{'s' if len(others) > 1 else ''} {', '.join(others)} chose another one, so "
           f"for {'them' if len(others) > 1 else 'it'} the benchmark above measures defaults "
           f"chosen with rows that are in {'their' if len(others) > 1 else 'its'} test part. "
           if others else "")
        + "A mean rank is over the seeds that scored the candidate (the second round ran "
          f"around each seed's first-round winner); rank 1 is the best of the {per_seed} "
          "candidates that a seed scored.")]
    return "\n".join(lines) + "\n"


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def update_page(page: Path = PAGE, result: Path = RESULT, selection: Path = SELECTION) -> bool:
    """Render the blocks of ``page`` from the stored results (a block whose result is not stored
    yet is left as it is); whether the page changed."""
    old = page.read_text(encoding="utf-8")
    text = old
    for key, path, render_block in ((BLOCK, result, render),
                                    (SELECTION_BLOCK, selection, render_selection)):
        if Path(path).exists():
            text = replace_block(text, key, render_block(load(path)))
    if text != old:
        atomic_write(page, text.encode("utf-8"))
    return text != old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tabular_defaults",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--select", action="store_true",
                        help="choose the defaults by cross-validation on training rows; store "
                             f"{SELECTION.relative_to(ROOT)}")
    parser.add_argument("--pages", action="store_true",
                        help="only render docs/training.md from the stored results")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="default 5")
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1),
                        help="--select: worker processes (default 2)")
    parser.add_argument("--table", action="append", default=None,
                        help="only this table (repeatable)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the result here instead of bench/results/ and leave the "
                             "page as it is (a smoke run)")
    args = parser.parse_args(argv)
    seeds = tuple(range(args.seeds))
    if not args.pages:
        if args.select:
            result = select(seeds, args.processes)
            print(render_selection(result))
            target = args.out or SELECTION
        else:
            result = benchmark(seeds, args.table)
            print(render(result))
            target = args.out or RESULT
        atomic_write(target, (json.dumps(result, indent=1) + "\n").encode("utf-8"))
        print(f"wrote {target}")
        if args.out is not None:
            return 0
    if update_page():
        print(f"updated {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
