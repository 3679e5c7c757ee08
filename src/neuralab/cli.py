"""Command line: ``neuralab --version``, ``neuralab demo``.  A thin adapter: parse, call the library,
print.  User errors become one clear line on stderr and exit code 2, never a traceback."""

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
    return parser


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
    except (UserError, ValueError, FileNotFoundError) as err:
        print(f"neuralab: error: {err}", file=sys.stderr)
        return 2
    return 0
