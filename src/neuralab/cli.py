"""Command line: ``neuralab --version``, ``neuralab demo``, ``neuralab lab``.  A thin adapter:
parse, call the library, print.  User errors become one clear line on stderr and exit code 2,
never a traceback."""

from __future__ import annotations

import argparse
import sys

from . import __version__


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
    lab = sub.add_parser("lab", help="run the lecture's experiments (labs); 'neuralab lab list'")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    lab_sub.add_parser("list", help="list the labs with the claim each one checks")
    lab_run = lab_sub.add_parser("run", help="run one lab, write figures and numbers")
    lab_run.add_argument("name", help="lab name (see 'neuralab lab list')")
    lab_run.add_argument("--quick", action="store_true", help="small configuration (seconds)")
    lab_run.add_argument("--out", default=None, help="output directory (default runs/lab-NAME)")
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


def run_lab_command(args: argparse.Namespace) -> int:
    from . import labs
    from .config import load_toml, parse_set_options

    if args.lab_command in (None, "list"):
        for name in labs.names():
            lab = labs.get(name)
            print(f"{name:<22} {lab.TITLE}")
        return 0
    if args.name not in labs.names():
        raise UserError(f"unknown lab {args.name!r}; available: {', '.join(labs.names())}")
    out = args.out or f"runs/lab-{args.name}"
    overrides = load_toml(args.config) if args.config else {}
    overrides.update(parse_set_options(args.set))
    result, files = labs.run(args.name, quick=args.quick, out_dir=out, overrides=overrides)
    print(result.summary())
    print(
        f"claim {'holds' if result.claim_holds else 'does NOT hold'}: {labs.get(args.name).CLAIM}"
    )
    for f in files:
        print(f"wrote {f}")
    return 0 if result.claim_holds else 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(seed=args.seed, epochs=args.epochs, out_dir=args.out)
        if args.command == "lab":
            return run_lab_command(args)
    except (UserError, ValueError, KeyError, FileNotFoundError, ImportError) as err:
        print(f"neuralab: error: {err}", file=sys.stderr)
        return 2
    return 0
