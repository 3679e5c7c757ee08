"""Command line: ``neuralab --version``, ``neuralab demo``, ``neuralab train``, ``neuralab lab``.
A thin adapter: parse, call the library, print.

Exit codes (docs/errors.md):

* 0: success;
* 1: ``lab run``: the run finished but the lab's claim did not hold;
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
        "train", help="train a network on a CSV file with a header row (classes or a number)"
    )
    train.add_argument("csv", help="the CSV file (comma, semicolon or tab separated)")
    train.add_argument("--target", required=True, help="name of the column to predict")
    train.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                       help="auto: text targets are classes, numbers are regressed (default)")
    train.add_argument("--hidden", default="64,32", help="hidden layer sizes (default 64,32)")
    train.add_argument("--epochs", type=int, default=200, help="at most (default 200)")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    train.add_argument("--weight-decay", type=float, default=0.0, help="> 0 uses AdamW")
    train.add_argument("--test-size", type=float, default=0.2)
    train.add_argument("--validation-split", type=float, default=0.2)
    train.add_argument("--patience", type=int, default=20, help="early-stopping patience")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", default=None, help="run directory (default runs/train-<file>)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace an earlier run in --out (default: refuse it)")
    train.add_argument("--max-memory", type=float, default=2.0, metavar="GB",
                       help="refuse networks estimated to need more to train (default 2)")
    train.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    lab = sub.add_parser("lab", help="run the lecture's experiments (labs); 'neuralab lab list'")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    lab_sub.add_parser("list", help="list the labs with the claim each one checks")
    lab_run = lab_sub.add_parser("run", help="run one lab, write figures and numbers")
    lab_run.add_argument("name", help="lab name (see 'neuralab lab list'), or 'all'")
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
    return parser


def _check_out_dir(out: str) -> None:
    """Refuse an output directory that cannot be created or written before any work is done."""
    from .io import check_writable_directory

    try:
        check_writable_directory(out)
    except OSError as err:
        raise UserError(f"--out: {err}") from None


def run_train_command(args: argparse.Namespace) -> int:
    from .apps.tabular import TabularConfig, train_csv

    try:
        hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    except ValueError:
        raise UserError(f"--hidden expects sizes like 64,32, got {args.hidden!r}") from None
    out = args.out or f"runs/train-{Path(args.csv).stem}"
    config = TabularConfig(
        csv=args.csv, target=args.target, task=args.task, hidden=hidden, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        test_size=args.test_size, validation_split=args.validation_split,
        patience=args.patience, seed=args.seed, out=out, overwrite=args.overwrite,
        max_memory_gb=args.max_memory, verbose=0 if args.quiet else 2,
    )
    # train_csv checks the settings, the size of the network and --out before training
    result = train_csv(config)
    print(result.summary())
    for f in result.files:
        print(f"wrote {f}")
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
    if len(names) > 1:
        print(f"{len(names) - len(failed)} of {len(names)} claims hold"
              + (f"; not: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _error(message: object, code: int) -> int:
    # one line: a message with line breaks (a cell quoted from a file) must not look like two
    text = " ".join(str(message).split())
    print(f"neuralab: error: {text}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    from .apps.tabular import TrainingDiverged

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
        if args.command == "lab":
            return run_lab_command(args)
    except TrainingDiverged as err:
        return _error(err, EXIT_DIVERGED)
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
