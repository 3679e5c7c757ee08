"""Command line: ``neuralab --version``, ``demo``, ``train``, ``predict``, ``evaluate``,
``compare``, ``search``, ``datasets``, ``lab``.
A thin adapter: parse, call the library, print.

Exit codes (docs/errors.md):

* 0: success;
* 1: ``lab run``: the run finished but the lab's claim did not hold; ``exercise check``: a check
  failed;
* 2: a user error (bad option or setting, unreadable or invalid file, output directory that is
  a file, not writable or holds an earlier run): one line on stderr, never a traceback;
* 3: ``train``: training diverged (the loss became nan or infinite); nothing was written;
* 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .version import __version__

EXIT_OK, EXIT_CLAIM_FAILED, EXIT_USER_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UserError(Exception):
    """An error caused by the user's input; the CLI prints its message without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuralab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"neuralab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="the lecture's practicals: logic gates, perceptron, XOR network, iris"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--epochs", type=int, default=200, help="iris epochs at most (default 200)")
    demo.add_argument("--out", default="runs/demo", help="run directory (default runs/demo)")
    train = sub.add_parser(
        "train", help="train a network on a table (a CSV file or a built-in data set)",
        description="Train a network on a table and write a run directory (model with its "
        "preprocessing, config.toml, history.csv, metrics.json, figures, report.html). "
        "Without DATA: the lecture's iris network, Dense(64, relu) + Dense(3, softmax). The "
        "defaults for a table were chosen by cross-validation (docs/training.md).",
    )
    train.add_argument("data", nargs="?", default=None,
                       help="a CSV file with a header row, or a built-in data set "
                            "('neuralab datasets'; default iris)")
    train.add_argument("--target", default=None,
                       help="the column to predict (a built-in set knows its own)")
    train.add_argument("--task", default=None, choices=["auto", "classification", "regression"],
                       help="auto (default): text and integers with at most 20 distinct values "
                            "are classes, other numbers are regressed")
    train.add_argument("--features", default=None, metavar="A,B,...",
                       help="the input columns (default: all but the target)")
    train.add_argument("--drop", default=None, metavar="A,B,...", help="columns to leave out")
    train.add_argument("--delimiter", default=None,
                       help="',' ';' 'tab' or 'space' (runs of whitespace); default: guessed")
    train.add_argument("--missing", default=None, choices=["impute", "error", "drop"],
                       help="empty/NA/?/nan cells: impute (median, most frequent; default), "
                            "error, or drop those rows")
    train.add_argument("--scale", default=None, choices=["robust", "standard"],
                       help="numeric columns: median/IQR (default) or mean/std")
    train.add_argument("--hidden", default=None, help="hidden layer sizes (default 256)")
    train.add_argument("--model", default=None, choices=["mlp", "cnn"],
                       help="mlp (default), or cnn for rows that are square images, e.g. "
                            "fashion-mnist's 28 x 28: two conv blocks before the dense layers")
    train.add_argument("--epochs", type=int, default=None, help="at most (default 500)")
    train.add_argument("--batch-size", type=int, default=None, help="default 32")
    train.add_argument("--lr", type=float, default=None,
                       help="Adam's learning rate (default 0.001)")
    train.add_argument("--weight-decay", type=float, default=None,
                       help="AdamW's decoupled weight decay (default 0.1; 0: Adam)")
    train.add_argument("--test-size", type=float, default=None, help="default 0.2")
    train.add_argument("--validation-split", type=float, default=None, help="default 0.2")
    train.add_argument("--patience", type=int, default=None,
                       help="early-stopping patience (default 30)")
    train.add_argument("--seed", type=int, default=None, help="default 0")
    train.add_argument("--search", type=int, default=None, metavar="N",
                       help="first try N settings of hidden sizes, learning rate and weight "
                            "decay on the validation rows (never the test rows), then train "
                            "the best")
    train.add_argument("--config", default=None, metavar="FILE.toml",
                       help="settings from a TOML file (a run's config.toml reruns it); the "
                            "options given here win")
    train.add_argument("--resume", default=None, metavar="RUN",
                       help="finish a run that Ctrl-C interrupted (its checkpoint and "
                            "config.toml), with the result of an uninterrupted run")
    train.add_argument("--out", default=None, help="run directory (default runs/train-<data>)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an earlier run in --out (default: refuse it)")
    train.add_argument("--max-memory", type=float, default=None, metavar="GB",
                       help="refuse networks estimated to need more to train (default 2)")
    train.add_argument("--verbose", action="store_true", help="one line per epoch")
    train.add_argument("--quiet", action="store_true", help="no progress display")
    predict = sub.add_parser("predict", help="predict with a trained run on new rows")
    predict.add_argument("run", help="a run directory of neuralab train")
    predict.add_argument("data", help="a CSV file with the training columns (the target may be "
                                      "there; it is ignored)")
    predict.add_argument("--out", default=None, help="write the predictions here (CSV; default: "
                                                     "standard output)")
    predict.add_argument("--delimiter", default=None, help="as for train")
    evaluate = sub.add_parser("evaluate", help="the test metrics of a trained run on new rows")
    evaluate.add_argument("run", help="a run directory of neuralab train")
    evaluate.add_argument("data", help="a CSV file with the training columns and the target")
    evaluate.add_argument("--delimiter", default=None, help="as for train")
    compare = sub.add_parser(
        "compare", help="the network of train against scikit-learn's models, on the same folds",
        description="Cross-validate neuralab train's network and scikit-learn's models (linear/"
        "logistic regression, k-NN, random forest, gradient boosting, SVM, MLP) on the same "
        "folds and preprocessing; print the table and write a run directory (compare.json, "
        "predictions.csv, compare.png, report.html).")
    compare.add_argument("data", help="a CSV file with a header row, or a built-in data set")
    compare.add_argument("--target", default=None, help="as for train")
    compare.add_argument("--task", default=None, choices=["auto", "classification", "regression"],
                         help="as for train")
    compare.add_argument("--features", default=None, metavar="A,B,...", help="as for train")
    compare.add_argument("--drop", default=None, metavar="A,B,...", help="as for train")
    compare.add_argument("--delimiter", default=None, help="as for train")
    compare.add_argument("--missing", default=None, choices=["impute", "error", "drop"],
                         help="as for train")
    compare.add_argument("--cv", type=int, default=5, help="folds (default 5)")
    compare.add_argument("--seed", type=int, default=0, help="shuffles the folds, seeds the "
                                                             "models (default 0)")
    compare.add_argument("--models", default=None, metavar="A,B,...",
                         help="some of neuralab, linear, knn, random_forest, gradient_boosting, "
                              "svm, sklearn_mlp (default: all)")
    compare.add_argument("--epochs", type=int, default=None,
                         help="the network's epochs at most (default: train's)")
    compare.add_argument("--rows", type=int, default=0,
                         help="compare on a seeded sample of this many rows (default: all)")
    compare.add_argument("--out", default=None, help="run directory (default runs/compare-<data>)")
    compare.add_argument("--overwrite", action="store_true",
                         help="replace an earlier run in --out (default: refuse it)")
    compare.add_argument("--quiet", action="store_true", help="no line per model")
    search = sub.add_parser(
        "search", help="a hyperparameter search on a table, here or on a Ray cluster",
        description="Draw settings of hidden sizes, learning rate and weight decay, train each "
        "on K folds of the training rows (never the test rows) with early stopping, rank them "
        "by validation loss, and train the best as neuralab train does. Each training is a "
        "task of the local or the Ray backend; finished trainings are journaled, so that "
        "--resume finishes an interrupted search (docs/search.md).")
    search.add_argument("data", nargs="?", default=None,
                        help="a CSV file with a header row, or a built-in data set")
    search.add_argument("--trials", type=int, default=None, help="settings to try (default 20)")
    search.add_argument("--cv", type=int, default=None,
                        help="folds of the training rows (default: train's one validation "
                             "split)")
    search.add_argument("--halving", type=int, default=None, metavar="EPOCHS",
                        help="successive halving: every setting trains EPOCHS epochs, the best "
                             "third three times as many, ... up to --epochs (default: off)")
    search.add_argument("--backend", default=None, choices=["local", "ray"],
                        help="where the trainings run (default local; ray: pip install "
                             "'neuralab[ray]')")
    search.add_argument("--address", default=None,
                        help="join this Ray cluster (HOST:6379, or auto for the one 'ray start "
                             "--head' started here); default: a local Ray instance")
    for option, text in (("--target", "as for train"), ("--features", "as for train"),
                         ("--drop", "as for train"), ("--delimiter", "as for train")):
        search.add_argument(option, default=None, help=text)
    search.add_argument("--task", default=None,
                        choices=["auto", "classification", "regression"], help="as for train")
    search.add_argument("--missing", default=None, choices=["impute", "error", "drop"],
                        help="as for train")
    search.add_argument("--scale", default=None, choices=["robust", "standard"],
                        help="as for train")
    for option, kind, text in (("--epochs", int, "every training's at most (default 500)"),
                               ("--batch-size", int, "default 32"),
                               ("--patience", int, "early-stopping patience (default 30)"),
                               ("--test-size", float, "rows set aside for the best run's test "
                                                      "(default 0.2)"),
                               ("--validation-split", float, "without --cv (default 0.2)"),
                               ("--seed", int, "the draws, folds and trainings (default 0)"),
                               ("--max-memory", float, "as for train (GB, default 2)")):
        search.add_argument(option, type=kind, default=None, help=text)
    search.add_argument("--config", default=None, metavar="FILE.toml",
                        help="settings from a TOML file (a search's search.toml reruns it)")
    search.add_argument("--resume", default=None, metavar="OUT",
                        help="finish the interrupted search of OUT without redoing its "
                             "finished trainings")
    search.add_argument("--out", default=None,
                        help="output directory (default runs/search-<data>)")
    search.add_argument("--overwrite", action="store_true",
                        help="replace an earlier search in --out (or start an interrupted one "
                             "over)")
    search.add_argument("--quiet", action="store_true", help="no line per training")
    sub.add_parser("datasets", help="list the built-in data sets (usable as neuralab train NAME)")
    lab = sub.add_parser("lab", help="run the lecture's experiments (labs); 'neuralab lab list'")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    lab_sub.add_parser("list", help="list the labs with the claim each one checks")
    lab_run = lab_sub.add_parser("run", help="run one lab, write figures and numbers")
    lab_run.add_argument("name", help="lab name (see 'neuralab lab list'), or 'all' (then also "
                         "runs/index.html: every lab's figures, claim and verdict)")
    lab_run.add_argument("--quick", action="store_true", help="small configuration (seconds)")
    lab_run.add_argument("--out", default=None, help="output directory (default runs/lab-NAME)")
    lab_run.add_argument(
        "--docs",
        action="store_true",
        help="full configuration; store the output in docs/labs/figures/NAME/ and regenerate "
        "the numbers of the page docs/labs/NAME.md (in a neuralab checkout)",
    )
    lab_run.add_argument(
        "--config",
        default=None,
        metavar="FILE.toml",
        help="settings from a TOML file (top-level keys of the lab's Config); --set wins",
    )
    lab_run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the lab's Config (repeatable)",
    )
    exercise = sub.add_parser("exercise", help="the lecture's practice problems, checked with "
                                               "hints; 'neuralab exercise list'")
    exercise_sub = exercise.add_subparsers(dest="exercise_command", metavar="ACTION")
    exercise_sub.add_parser("list", help="list the exercises: name, difficulty, concept")
    exercise_start = exercise_sub.add_parser("start", help="write an exercise's stub to fill in")
    exercise_start.add_argument("name", help="exercise name (see 'neuralab exercise list')")
    exercise_start.add_argument("dir", nargs="?", default=".", help="directory (default .)")
    exercise_start.add_argument("--force", action="store_true",
                                help="replace an existing file (default: refuse it)")
    exercise_check = exercise_sub.add_parser(
        "check", help="run an exercise's checks on your file (exit 0: all pass, 1: some fail)")
    exercise_check.add_argument("file", help="your .py file (it names its exercise)")
    exercise_check.add_argument("--json", action="store_true",
                                help="one JSON object on stdout, for grading scripts")
    return parser


def _check_out_dir(out: str) -> None:
    """Refuse an output directory that cannot be created or written before any work is done."""
    from .io import check_writable_directory

    try:
        check_writable_directory(out)
    except OSError as err:
        raise UserError(f"--out: {err}") from None


_DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "space": " ",
               "whitespace": " ", " ": " "}


def _delimiter(text: str | None) -> str:
    if text is None:
        return ""
    if text not in _DELIMITERS:
        raise UserError(f"--delimiter expects ',', ';', 'tab' or 'space', got {text!r}")
    return _DELIMITERS[text]


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


#: command-line option -> setting, for the options train and search share with a config field
_OPTION_KEYS = {"target": "target", "task": "task", "missing": "missing", "scale": "scale",
                "epochs": "epochs", "batch_size": "batch_size", "lr": "lr",
                "weight_decay": "weight_decay", "test_size": "test_size",
                "validation_split": "validation_split", "patience": "patience", "seed": "seed",
                "search": "search", "max_memory": "max_memory_gb", "trials": "trials",
                "model": "model",
                "cv": "cv", "halving": "halving", "backend": "backend", "address": "address"}


def _given_options(args: argparse.Namespace, given: dict[str, object]) -> None:
    """The settings the command line gave (options left out keep the config's value)."""
    for option, key in _OPTION_KEYS.items():
        value = getattr(args, option, None)
        if value is not None:
            given[key] = value


def train_config(args: argparse.Namespace) -> object:
    """The TabularConfig of a ``train`` command line: defaults, then --config, then options."""
    from .apps.tabular import LECTURE_HIDDEN, TabularConfig
    from .config import apply_overrides, load_toml

    config = TabularConfig()
    if args.config:
        config = apply_overrides(config, load_toml(args.config))
    given: dict[str, object] = {}
    if args.data is not None:
        given["data"] = args.data
    elif not args.config and args.hidden is None:
        given["hidden"] = LECTURE_HIDDEN  # `neuralab train` alone: the lecture's iris network
    if args.hidden is not None:
        try:
            given["hidden"] = tuple(int(h) for h in args.hidden.split(",") if h.strip())
        except ValueError:
            raise UserError(f"--hidden expects sizes like 64,32, got {args.hidden!r}") from None
    for option in ("features", "drop"):
        if getattr(args, option) is not None:
            given[option] = _names(getattr(args, option))
    if args.delimiter is not None:
        given["delimiter"] = _delimiter(args.delimiter)
    _given_options(args, given)
    if args.verbose and args.quiet:
        raise UserError("--verbose and --quiet contradict each other; pass one")
    given["verbose"] = 0 if args.quiet else 2 if args.verbose else 1
    config = apply_overrides(config, given)
    out = args.out or config.out or f"runs/train-{Path(config.data).stem}"
    return apply_overrides(config, {"out": out, "overwrite": bool(args.overwrite)})


def _resume_config(args: argparse.Namespace) -> tuple[object, Path]:
    """The config and checkpoint of ``train --resume RUN``; other settings are refused (the
    run continues as it was configured)."""
    from .apps.tabular import TabularConfig
    from .config import apply_overrides, load_toml

    run = Path(args.resume)
    checkpoint, toml = run / "checkpoint.safetensors", run / "config.toml"
    if not checkpoint.is_file() or not toml.is_file():
        raise UserError(f"--resume {args.resume}: no interrupted run there (expected "
                        f"{checkpoint} and {toml}, which Ctrl-C during neuralab train writes)")
    ignored = {"verbose", "quiet", "resume", "command", "overwrite"}
    given = [f"--{k.replace('_', '-')}" for k, v in vars(args).items()
             if k not in ignored and v is not None]
    if given:
        raise UserError(f"--resume continues the run as it was configured; drop "
                        f"{', '.join(given)}")
    config = apply_overrides(TabularConfig(), load_toml(toml))
    verbose = 0 if args.quiet else 2 if args.verbose else 1
    return apply_overrides(config, {"out": str(run), "overwrite": True, "verbose": verbose}), \
        checkpoint


def run_train_command(args: argparse.Namespace) -> int:
    from .apps.tabular import command_line, train_table

    resume_from = None
    if args.resume is not None:
        config, resume_from = _resume_config(args)
    else:
        config = train_config(args)
    # train_table checks the settings, the size of the network and --out before training
    result = train_table(config, command=command_line(), resume_from=resume_from)
    print(result.summary())
    for f in result.files:
        print(f"wrote {f}")
    print(f"use it: neuralab predict {config.out} DATA.csv   |   neuralab evaluate "
          f"{config.out} DATA.csv")
    return 0


def run_compare_command(args: argparse.Namespace) -> int:
    from .apps.compare import MODELS, CompareConfig, compare_models, default_out
    from .apps.tabular import TabularConfig, command_line
    from .config import apply_overrides

    given: dict[str, object] = {"data": args.data, "seed": args.seed}
    for option in ("target", "task", "missing", "epochs"):
        if getattr(args, option) is not None:
            given[option] = getattr(args, option)
    for option in ("features", "drop"):
        if getattr(args, option) is not None:
            given[option] = _names(getattr(args, option))
    if args.delimiter is not None:
        given["delimiter"] = _delimiter(args.delimiter)
    models = _names(args.models) if args.models is not None else tuple(MODELS)
    config = CompareConfig(apply_overrides(TabularConfig(), given), cv=args.cv, models=models,
                           rows=args.rows, out=args.out or default_out(args.data),
                           overwrite=bool(args.overwrite), verbose=0 if args.quiet else 1)
    result = compare_models(config, command=command_line())
    print(result.summary())
    for f in result.files:
        print(f"wrote {f}")
    return 0


def run_search_command(args: argparse.Namespace) -> int:
    from .apps.search import SearchConfig, load_partial_config, search_table
    from .apps.tabular import command_line
    from .config import apply_overrides, load_toml

    if args.resume is not None:
        ignored = {"quiet", "resume", "command"}
        given_options = [f"--{k.replace('_', '-')}" for k, v in vars(args).items()
                         if k not in ignored and v not in (None, False)]
        if given_options:
            raise UserError(f"--resume finishes the search as it was configured; drop "
                            f"{', '.join(given_options)}")
        config = apply_overrides(load_partial_config(args.resume),
                                 {"out": args.resume, "verbose": 0 if args.quiet else 1})
        resume = True
    else:
        config = SearchConfig()
        if args.config:
            config = apply_overrides(config, load_toml(args.config))
        given: dict[str, object] = {} if args.data is None else {"data": args.data}
        _given_options(args, given)
        for option in ("features", "drop"):
            if getattr(args, option) is not None:
                given[option] = _names(getattr(args, option))
        if args.delimiter is not None:
            given["delimiter"] = _delimiter(args.delimiter)
        given["verbose"] = 0 if args.quiet else 1
        config = apply_overrides(config, given)
        out = args.out or config.out or f"runs/search-{Path(config.data).stem}"
        config = apply_overrides(config, {"out": out, "overwrite": bool(args.overwrite)})
        resume = False
    result = search_table(config, command=command_line(), resume=resume)
    print(result.summary())
    for f in result.files:
        print(f"wrote {f}")
    return 0


def run_predict_command(args: argparse.Namespace) -> int:
    from .apps.tabular import TrainedRun
    from .io import atomic_write

    run = TrainedRun.load(args.run)
    table, outputs = run.predict(args.data, _delimiter(args.delimiter))
    text = run.predictions_csv(table, outputs)
    if args.out:
        atomic_write(args.out, text.encode())
        print(f"wrote {len(table)} predictions to {args.out}")
    else:
        sys.stdout.write(text)
    for column, count in run.prep.report["unknown"].items():
        print(f"note: {count} row(s) hold a category of {column!r} not seen in training "
              "(encoded as none of the known ones)", file=sys.stderr)
    for column, count in run.prep.report["imputed"].items():
        print(f"note: {count} missing cell(s) of {column!r} imputed with the training value",
              file=sys.stderr)
    return 0


def run_evaluate_command(args: argparse.Namespace) -> int:
    from .apps.tabular import TrainedRun

    run = TrainedRun.load(args.run)
    result = run.evaluate(args.data, _delimiter(args.delimiter))
    print(f"{run.task} on {args.data}:")
    for name, value in result.items():
        print(f"  {name:<22} {value:.4f}")
    return 0


def run_datasets_command() -> int:
    from .data.datasets.catalog import DATASETS

    for d in DATASETS.values():
        print(f"{d.name:<14} {d.rows:>6} rows  target {d.target!r}: {d.description}")
        print(f"{'':<14} source: {d.source}")
    print("train one: neuralab train NAME (e.g. neuralab train wine-quality)")
    return 0


def run_lab_command(args: argparse.Namespace) -> int:
    from . import labs
    from .config import load_toml, parse_set_options

    if args.lab_command in (None, "list"):
        for name in labs.names():
            lab = labs.get(name)
            print(f"{name:<22} {lab.TITLE}")
        return 0
    names = labs.names() if args.name == "all" else [args.name]
    if args.name != "all" and args.name not in labs.names():
        raise UserError(f"unknown lab {args.name!r}; available: all, {', '.join(labs.names())}")
    if args.docs and (args.quick or args.out):
        raise UserError("--docs runs the full configuration into docs/labs/; drop --quick/--out")
    if args.out and len(names) > 1:
        raise UserError("lab run all writes runs/lab-NAME for each lab; drop --out")
    overrides = load_toml(args.config) if args.config else {}
    overrides.update(parse_set_options(args.set))
    for name in names:
        if not args.docs:
            _check_out_dir(args.out or f"runs/lab-{name}")
    _show_lab_progress()
    failed = []
    for name in names:
        if args.docs:
            result, files = labs.write_docs(name, overrides=overrides)
        else:
            out = args.out or f"runs/lab-{name}"
            result, files = labs.run(name, quick=args.quick, out_dir=out, overrides=overrides)
        if len(names) > 1:
            print(f"== {name}")
        print(result.summary())
        print(f"claim {'holds' if result.claim_holds else 'does NOT hold'}: "
              f"{labs.get(name).CLAIM}")
        for f in files:
            print(f"wrote {f}")
        if not result.claim_holds:
            failed.append(name)
    if args.name == "all" and not args.docs:
        from .apps.gallery import GalleryEntry, write_gallery

        gallery = write_gallery(Path("runs") / "index.html", [
            GalleryEntry(n, labs.get(n).TITLE, labs.get(n).CLAIM, f"runs/lab-{n}") for n in names])
        print(f"wrote {gallery} (every lab's figures, claim and verdict)")
    if len(names) > 1:
        print(f"{len(names) - len(failed)} of {len(names)} claims hold"
              + (f"; not: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _show_lab_progress() -> None:
    """The labs' progress lines (``logging`` at INFO under ``neuralab.labs``, emitted by long
    labs only) on stderr, once."""
    import logging

    class Stderr(logging.StreamHandler):  # type: ignore[type-arg]
        """Writes to the sys.stderr of the moment (replaced under capture, as in tests)."""

        def emit(self, record: logging.LogRecord) -> None:
            self.stream = sys.stderr
            super().emit(record)

    logger = logging.getLogger("neuralab.labs")
    if not any(type(h).__name__ == "Stderr" for h in logger.handlers):
        handler = Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def run_exercise_command(args: argparse.Namespace) -> int:
    import json

    from . import exercises

    if args.exercise_command in (None, "list"):
        sys.stdout.write(exercises.listing())
        return 0
    if args.exercise_command == "start":
        path = exercises.write_stub(args.name, args.dir, force=args.force)
        print(f"wrote {path}: write your code where the ... are, then run "
              f"'neuralab exercise check {path}'")
        return 0
    report = exercises.check_file(args.file)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(report.text())
    return 0 if report.ok else 1


def _error(message: object, code: int) -> int:
    # one line: a message with line breaks (a cell quoted from a file) must not look like two
    text = " ".join(str(message).split())
    print(f"neuralab: error: {text}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    from .apps.tabular import TrainingDiverged, TrainingInterrupted

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        if args.command == "demo":
            from .apps.demo import run_demo

            _check_out_dir(args.out)
            return run_demo(seed=args.seed, epochs=args.epochs, out_dir=args.out)
        if args.command == "train":
            return run_train_command(args)
        if args.command == "predict":
            return run_predict_command(args)
        if args.command == "evaluate":
            return run_evaluate_command(args)
        if args.command == "compare":
            return run_compare_command(args)
        if args.command == "search":
            return run_search_command(args)
        if args.command == "datasets":
            return run_datasets_command()
        if args.command == "lab":
            return run_lab_command(args)
        if args.command == "exercise":
            return run_exercise_command(args)
    except TrainingDiverged as err:
        return _error(err, EXIT_DIVERGED)
    except TrainingInterrupted as err:
        return _error(err, EXIT_INTERRUPTED)
    except KeyError as err:  # str(KeyError) adds quotes around the message
        return _error(err.args[0] if err.args else err, EXIT_USER_ERROR)
    except (UserError, ValueError, FileNotFoundError, ImportError) as err:
        return _error(err, EXIT_USER_ERROR)
    except OSError as err:  # e.g. the run directory cannot be written
        where = f"{err.filename}: " if err.filename else ""
        return _error(f"{where}{err.strerror or err}", EXIT_USER_ERROR)
    except MemoryError:
        return _error("out of memory; use a smaller data set, network (--hidden) or batch",
                      EXIT_USER_ERROR)
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED)
    return EXIT_OK
